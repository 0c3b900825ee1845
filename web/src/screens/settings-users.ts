import { api, ApiError, type Role, type UserView } from '../api.js';
import { confirmButton, h, mount, statusLine } from '../dom.js';
import { formatDate } from '../format.js';
import { errorText, field, formErrors, input, select, submit } from '../forms.js';
import { currentUser } from '../session.js';
import { checkNewPassword, checkUsername } from './sign-in.js';

/** Admins only: the users of this engine; each sees only their own clouds, tasks and runs. */
export function usersSection(users: UserView[]): HTMLElement {
  const me = currentUser();
  const list = h('ul', { class: 'rows', 'aria-label': 'Users' });
  const status = statusLine();
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const fail = (e: unknown) => {
    error.hidden = false;
    error.textContent = errorText(e);
  };

  const refresh = async () => {
    try {
      draw(await api.users.list());
    } catch (e) {
      fail(e);
    }
  };
  const draw = (items: UserView[]) =>
    mount(
      list,
      items.map((u) =>
        h(
          'li',
          { class: 'row', 'data-user': u.username },
          h(
            'div',
            { class: 'row-main' },
            h('strong', null, u.username),
            ' ',
            h('span', { class: 'badge role' }, u.role === 'admin' ? 'admin' : 'user'),
            u.id === me?.id ? h('span', { class: 'meta' }, ' (you)') : null,
            h('p', { class: 'meta' }, `Added ${formatDate(u.createdAt)}`),
          ),
          u.id === me?.id
            ? null
            : confirmButton('Delete', `Delete “${u.username}”?`, async () => {
                error.hidden = true;
                try {
                  await api.users.remove(u.id);
                  status.textContent = `Deleted “${u.username}”.`;
                  await refresh();
                } catch (e) {
                  fail(e);
                }
              }),
        ),
      ),
    );
  draw(users);

  const username = input({ autocomplete: 'off', autocapitalize: 'none', spellcheck: false });
  const password = input({ type: 'password', autocomplete: 'new-password' });
  const role = select(
    [
      ['user', 'User: their own clouds and tasks'],
      ['admin', 'Admin: also users and mail settings'],
    ],
    { value: 'user' },
  );
  const button = h('button', { type: 'submit' }, 'Add user');
  const form: HTMLFormElement = h(
    'form',
    {
      novalidate: true,
      'aria-label': 'Add a user',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        status.textContent = '';
        const name = username.value.trim();
        const check = () => [
          ...checkUsername('username', name),
          ...checkNewPassword('password', password.value, 'password', password.value),
        ];
        await submit(form, button, check, async () => {
          try {
            await api.users.create({
              username: name,
              password: password.value,
              role: role.value as Role,
            });
          } catch (e) {
            // "already exists" names no field; it is about the username.
            if (e instanceof ApiError && e.status === 409 && !/^username\b/.test(e.message))
              throw new ApiError(409, {
                ...e.body,
                message: `username: ${e.message}`,
                problems: undefined,
              });
            throw e;
          }
          username.value = '';
          password.value = '';
          role.value = 'user';
          status.textContent = `Added “${name}”.`;
          await refresh();
        });
      },
    },
    formErrors(),
    field('Username', username, {
      name: 'username',
      required: true,
      help: 'Letters, digits and . _ @ - (up to 64).',
    }),
    field('Password', password, {
      name: 'password',
      required: true,
      help: 'At least 8 characters; they can change it in Settings.',
    }),
    field('Role', role, { name: 'role' }),
    h('div', { class: 'actions' }, button),
  );

  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'users-h' },
    h('h2', { id: 'users-h' }, 'Users'),
    status,
    error,
    list,
    h('h3', null, 'Add a user'),
    form,
  );
}
