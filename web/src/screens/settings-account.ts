import { api, type ApiToken } from '../api.js';
import { confirmButton, h, mount, statusLine } from '../dom.js';
import { formatDate } from '../format.js';
import { errorText, field, formErrors, input, submit } from '../forms.js';
import { checkNewPassword } from './sign-in.js';

/** Settings for the signed-in user: their password and their API tokens. */

export function passwordSection(): HTMLElement {
  const current = input({ type: 'password', autocomplete: 'current-password' });
  const next = input({ type: 'password', autocomplete: 'new-password' });
  const confirm = input({ type: 'password', autocomplete: 'new-password' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Change password');
  const status = statusLine();
  const form: HTMLFormElement = h(
    'form',
    {
      novalidate: true,
      'aria-label': 'Change password',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        status.textContent = '';
        const check = () => [
          ...(current.value === '' ? ['currentPassword must not be empty'] : []),
          ...checkNewPassword('newPassword', next.value, 'confirm', confirm.value),
        ];
        const done = await submit(form, button, check, () =>
          api.auth.changePassword({ currentPassword: current.value, newPassword: next.value }),
        );
        if (done) {
          for (const c of [current, next, confirm]) c.value = '';
          status.textContent = 'Password changed.';
        }
      },
    },
    formErrors(),
    field('Current password', current, { name: 'currentPassword', required: true }),
    field('New password', next, {
      name: 'newPassword',
      required: true,
      help: 'At least 8 characters.',
    }),
    field('Confirm the new password', confirm, { name: 'confirm', required: true }),
    status,
    h('div', { class: 'actions' }, button),
  );
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'password-h' },
    h('h2', { id: 'password-h' }, 'Change password'),
    form,
  );
}

export function tokensSection(tokens: ApiToken[]): HTMLElement {
  const list = h('ul', { class: 'rows', 'aria-label': 'API tokens' });
  const status = statusLine();
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const fresh = h('div', { class: 'token-once' });
  fresh.hidden = true;

  const refresh = async () => {
    try {
      draw(await api.tokens.list());
    } catch (e) {
      error.hidden = false;
      error.textContent = errorText(e);
    }
  };
  const draw = (items: ApiToken[]) =>
    mount(
      list,
      items.length === 0
        ? h('li', { class: 'empty' }, 'No API tokens.')
        : items.map((t) =>
            h(
              'li',
              { class: 'row', 'data-token': t.id },
              h(
                'div',
                { class: 'row-main' },
                h('strong', null, t.name),
                h(
                  'p',
                  { class: 'meta' },
                  `Created ${formatDate(t.createdAt)} · ${
                    t.lastUsedAt ? `last used ${formatDate(t.lastUsedAt)}` : 'never used'
                  }`,
                ),
              ),
              confirmButton('Revoke', `Revoke “${t.name}”?`, async () => {
                error.hidden = true;
                try {
                  await api.tokens.remove(t.id);
                  status.textContent = `Revoked “${t.name}”.`;
                  await refresh();
                } catch (e) {
                  error.hidden = false;
                  error.textContent = errorText(e);
                }
              }),
            ),
          ),
    );
  draw(tokens);

  const name = input({ autocomplete: 'off', maxlength: 100, placeholder: 'backup script' });
  const button = h('button', { type: 'submit' }, 'Create token');
  const form: HTMLFormElement = h(
    'form',
    {
      novalidate: true,
      'aria-label': 'New API token',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        status.textContent = '';
        const check = () => (name.value.trim() === '' ? ['name must not be empty'] : []);
        await submit(form, button, check, async () => {
          const created = await api.tokens.create(name.value.trim());
          name.value = '';
          showOnce(fresh, created.name, created.token);
          await refresh();
        });
      },
    },
    formErrors(),
    field('Name', name, {
      name: 'name',
      required: true,
      help: 'What uses it, to recognise it later. Scripts send it as “Authorization: Bearer …”.',
    }),
    h('div', { class: 'actions' }, button),
  );

  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'tokens-h' },
    h('h2', { id: 'tokens-h' }, 'API tokens'),
    status,
    error,
    list,
    fresh,
    form,
  );
}

/** The new token, shown this once: selectable text and a copy button. */
function showOnce(box: HTMLElement, name: string, token: string): void {
  const value = input({ readonly: true, value: token, class: 'token-value', spellcheck: false });
  const copied = statusLine();
  const copy = h(
    'button',
    {
      type: 'button',
      onclick: async () => {
        value.focus();
        value.select();
        try {
          await navigator.clipboard.writeText(token);
          copied.textContent = 'Copied.';
        } catch {
          copied.textContent = 'Selected: press Ctrl+C (⌘C) to copy.';
        }
      },
    },
    'Copy',
  );
  box.hidden = false;
  mount(
    box,
    h(
      'p',
      { class: 'notice', role: 'status' },
      `Token “${name}” created. Copy it now: it is shown only this once.`,
    ),
    field('New token', value, { name: 'token' }),
    h('div', { class: 'actions' }, copy, copied),
  );
  value.focus();
  value.select();
}
