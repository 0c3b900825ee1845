import { api } from './api.js';
import { h, mount, uid } from './dom.js';
import { errorText, field, input } from './forms.js';

/**
 * A folder path field with a "Browse" panel that walks the account's folders
 * (`GET /api/accounts/:id/browse?path=`). The path can also be typed (a new target folder).
 */
export function folderPicker(opts: {
  label: string;
  name: string;
  accountId: () => string;
  value?: string;
  help?: string;
}): { el: HTMLElement; input: HTMLInputElement } {
  const pathInput = input({ value: opts.value ?? '', placeholder: '(the account’s top folder)' });
  const panelId = uid('browse');
  const panel = h('div', {
    class: 'browser',
    id: panelId,
    hidden: true,
    role: 'group',
    'aria-label': `Browse for ${opts.label}`,
  });
  const toggle = h(
    'button',
    { type: 'button', 'aria-expanded': 'false', 'aria-controls': panelId },
    'Browse…',
  );

  const close = () => {
    panel.hidden = true;
    toggle.setAttribute('aria-expanded', 'false');
  };

  const show = async (path: string) => {
    const accountId = opts.accountId();
    if (!accountId) {
      mount(panel, h('p', { class: 'error' }, 'Choose an account first.'));
      return;
    }
    mount(panel, h('p', { class: 'loading' }, 'Loading…'));
    try {
      const entries = await api.accounts.browse(accountId, path);
      const folders = entries.filter((e) => e.kind === 'folder');
      const files = entries.length - folders.length;
      const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
      mount(
        panel,
        h('p', { class: 'crumbs' }, 'In ', h('code', null, path === '' ? '/' : `/${path}`)),
        h(
          'ul',
          { class: 'folder-list' },
          path !== ''
            ? h(
                'li',
                null,
                h(
                  'button',
                  { type: 'button', class: 'link', onclick: () => void show(parent) },
                  '↑ Up',
                ),
              )
            : null,
          folders.map((f) =>
            h(
              'li',
              null,
              h(
                'button',
                { type: 'button', class: 'link folder', onclick: () => void show(f.path) },
                f.name,
              ),
            ),
          ),
          folders.length === 0 ? h('li', { class: 'empty' }, 'No sub-folders.') : null,
        ),
        files > 0 ? h('p', { class: 'help' }, `${files} file(s) here.`) : null,
        h(
          'div',
          { class: 'actions' },
          h(
            'button',
            {
              type: 'button',
              class: 'primary',
              onclick: () => {
                pathInput.value = path;
                close();
                pathInput.focus();
              },
            },
            'Use this folder',
          ),
          h('button', { type: 'button', onclick: close }, 'Close'),
        ),
      );
      panel.querySelector<HTMLButtonElement>('button')?.focus();
    } catch (e) {
      mount(panel, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    }
  };

  toggle.addEventListener('click', () => {
    if (!panel.hidden) return close();
    panel.hidden = false;
    toggle.setAttribute('aria-expanded', 'true');
    void show(pathInput.value.trim().replace(/^\/+|\/+$/g, ''));
  });

  const f = field(opts.label, pathInput, { name: opts.name, help: opts.help });
  const row = h('div', { class: 'picker-row' });
  pathInput.replaceWith(row);
  row.append(pathInput, toggle);
  f.append(panel);
  return { el: f, input: pathInput };
}
