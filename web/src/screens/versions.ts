import { api, type ConflictPolicy, type Version, type VersionTree } from '../api.js';
import { h, mount } from '../dom.js';
import { errorText, field, fieldset, formErrors, input, select, submit } from '../forms.js';
import { formatBytes, formatDate, plural } from '../format.js';
import { folderPicker } from '../picker.js';
import { go, type ScreenContext } from '../screen.js';
import { place } from './tasks.js';

const CONFLICTS: [ConflictPolicy, string, string][] = [
  [
    'skip-identical',
    'Skip identical files',
    'A file already there with the same content is left alone; others are replaced.',
  ],
  ['overwrite', 'Overwrite', 'Files already there are replaced by the restored copy.'],
  [
    'keep-both',
    'Keep both',
    'The restored copy gets a new name, e.g. “IMG_0001 (restored 2026-11-22).HEIC”.',
  ],
];

/** A task's versions on a timeline; browse one folder by folder; restore all or part of it. */
export async function versionsScreen(root: HTMLElement, ctx: ScreenContext): Promise<void> {
  const taskId = ctx.params[0]!;
  const [task, versions, accounts] = await Promise.all([
    api.tasks.get(taskId),
    api.tasks.versions(taskId),
    api.accounts.list(),
  ]);
  if (!ctx.isCurrent()) return;
  const byId = new Map(accounts.map((a) => [a.id, a]));
  const sorted = [...versions].sort((a, b) => b.seq - a.seq);
  const detail = h('section', { class: 'version-detail', 'aria-live': 'polite' });
  const timeline = h('ol', { class: 'timeline', 'aria-label': 'Versions' });

  const select_ = (v: Version) => {
    for (const b of timeline.querySelectorAll('button'))
      b.setAttribute('aria-pressed', String(b.dataset.version === v.id));
    void showVersion(v);
  };

  mount(
    timeline,
    sorted.length === 0
      ? h('li', { class: 'empty' }, 'No versions yet: run the task once.')
      : sorted.map((v) =>
          h(
            'li',
            { class: `version-${v.status}` },
            h(
              'button',
              {
                type: 'button',
                class: 'version',
                'data-version': v.id,
                'aria-pressed': 'false',
                onclick: () => select_(v),
              },
              h('strong', null, `Version ${v.seq}`),
              h('span', null, formatDate(v.completedAt ?? v.createdAt)),
              h('span', null, `${plural(v.fileCount, 'file')} · ${formatBytes(v.totalBytes)}`),
              v.status !== 'complete' ? h('span', { class: 'badge' }, v.status) : null,
            ),
          ),
        ),
  );

  const showVersion = async (v: Version) => {
    const selected = new Set<string>();
    const listing = h('div', { class: 'tree' });
    const count = h('span', null);
    const updateCount = () =>
      (count.textContent = selected.size === 0 ? '' : ` (${selected.size})`);

    const browse = async (path: string) => {
      mount(listing, h('p', { class: 'loading' }, 'Loading…'));
      let tree: VersionTree;
      try {
        tree = await api.versions.tree(v.id, path);
      } catch (e) {
        mount(listing, h('p', { class: 'error', role: 'alert' }, errorText(e)));
        return;
      }
      const parts = path === '' ? [] : path.split('/');
      const check = (p: string, label: string) => {
        const box = input({
          type: 'checkbox',
          checked: selected.has(p),
          'aria-label': `Select ${label}`,
        });
        box.addEventListener('change', () => {
          if (box.checked) selected.add(p);
          else selected.delete(p);
          updateCount();
          if (selected.size > 0) someRadio.checked = true;
        });
        return box;
      };
      mount(
        listing,
        h(
          'nav',
          { class: 'crumbs', 'aria-label': 'Folder' },
          h(
            'button',
            { type: 'button', class: 'link', onclick: () => void browse('') },
            'All files',
          ),
          parts.map((name, i) => [
            ' / ',
            h(
              'button',
              {
                type: 'button',
                class: 'link',
                onclick: () => void browse(parts.slice(0, i + 1).join('/')),
              },
              name,
            ),
          ]),
        ),
        h(
          'ul',
          { class: 'entries' },
          tree.folders.map((name) => {
            const p = path === '' ? name : `${path}/${name}`;
            return h(
              'li',
              { class: 'entry folder' },
              check(p, `folder ${name}`),
              h(
                'button',
                { type: 'button', class: 'link folder', onclick: () => void browse(p) },
                name,
              ),
            );
          }),
          tree.files.map((f) =>
            h(
              'li',
              { class: 'entry file' },
              check(f.path, f.name),
              h('span', { class: 'name' }, f.name),
              h('span', { class: 'meta' }, formatBytes(f.size)),
            ),
          ),
          tree.folders.length + tree.files.length === 0
            ? h('li', { class: 'empty' }, 'Empty folder.')
            : null,
        ),
        tree.truncated ? h('p', { class: 'help' }, 'Only the first entries are shown.') : null,
      );
    };

    // Restore form
    const errors = formErrors();
    const wholeRadio = input({
      type: 'radio',
      name: 'what',
      value: 'all',
      checked: true,
      id: 'what-all',
    });
    const someRadio = input({ type: 'radio', name: 'what', value: 'some', id: 'what-some' });
    const origRadio = input({
      type: 'radio',
      name: 'where',
      value: 'original',
      checked: true,
      id: 'where-orig',
    });
    const elseRadio = input({ type: 'radio', name: 'where', value: 'else', id: 'where-else' });
    const destAccount = select([
      ['', 'Choose an account…'],
      ...accounts.map((a): [string, string] => [a.id, a.name]),
    ]);
    const destPath = folderPicker({
      label: 'Folder',
      name: 'destination.path',
      accountId: () => destAccount.value,
    });
    const elsewhere = h(
      'div',
      { class: 'indent', hidden: true },
      field('Account', destAccount, { name: 'destination.accountId' }),
      destPath.el,
    );
    for (const r of [origRadio, elseRadio])
      r.addEventListener('change', () => (elsewhere.hidden = !elseRadio.checked));
    const conflictRadios = CONFLICTS.map(([value]) =>
      input({
        type: 'radio',
        name: 'conflict',
        value,
        checked: value === 'skip-identical',
        id: `conflict-${value}`,
      }),
    );
    const button = h('button', { type: 'submit', class: 'primary' }, 'Restore');
    const form: HTMLFormElement = h(
      'form',
      {
        novalidate: true,
        'aria-label': 'Restore',
        onsubmit: async (ev: Event) => {
          ev.preventDefault();
          const check = () => [
            ...(someRadio.checked && selected.size === 0
              ? ['paths: tick the files and folders to restore, or choose the whole version']
              : []),
            ...(elseRadio.checked && !destAccount.value
              ? ['destination.accountId: choose an account']
              : []),
          ];
          await submit(form, button, check, async () => {
            const run = await api.versions.restore(v.id, {
              ...(someRadio.checked ? { paths: [...selected] } : {}),
              ...(elseRadio.checked
                ? {
                    destination: {
                      accountId: destAccount.value,
                      path: destPath.input.value.trim(),
                    },
                  }
                : {}),
              conflict: (conflictRadios.find((r) => r.checked)?.value ??
                'skip-identical') as ConflictPolicy,
            });
            go(`#/runs/${run.id}`);
          });
        },
      },
      h('h3', null, 'Restore'),
      errors,
      fieldset('What', 'paths', [
        h(
          'span',
          { class: 'inline-check' },
          wholeRadio,
          h('label', { for: wholeRadio.id }, 'The whole version'),
        ),
        h(
          'span',
          { class: 'inline-check' },
          someRadio,
          h('label', { for: someRadio.id }, 'The ticked files and folders', count),
        ),
      ]),
      fieldset('Where', 'destination', [
        h(
          'span',
          { class: 'inline-check' },
          origRadio,
          h(
            'label',
            { for: origRadio.id },
            `Where it came from (${place(byId, task.sourceAccountId, task.sourcePath)})`,
          ),
        ),
        h(
          'span',
          { class: 'inline-check' },
          elseRadio,
          h('label', { for: elseRadio.id }, 'Somewhere else'),
        ),
        elsewhere,
      ]),
      fieldset(
        'When a file is already there',
        'conflict',
        conflictRadios.map((r, i) =>
          h(
            'span',
            { class: 'inline-check' },
            r,
            h(
              'label',
              { for: r.id },
              CONFLICTS[i]![1],
              h('span', { class: 'help' }, ` — ${CONFLICTS[i]![2]}`),
            ),
          ),
        ),
      ),
      h('div', { class: 'actions' }, button),
    );

    mount(
      detail,
      h('h2', null, `Version ${v.seq}`),
      h(
        'p',
        { class: 'meta' },
        `${formatDate(v.completedAt ?? v.createdAt)} · ${plural(v.fileCount, 'file')} · ${formatBytes(v.totalBytes)} · ${v.status}`,
      ),
      listing,
      form,
    );
    await browse('');
  };

  mount(
    root,
    h('h1', null, `Versions of “${task.name}”`),
    h(
      'p',
      { class: 'meta' },
      `${place(byId, task.sourceAccountId, task.sourcePath)} → ${place(byId, task.targetAccountId, task.targetPath)}`,
    ),
    h('div', { class: 'versions-layout' }, h('div', null, timeline), detail),
  );
  const wanted = ctx.query.get('version');
  const first = sorted.find((v) => v.id === wanted) ?? sorted[0];
  if (first) select_(first);
}
