import { api, ApiError } from '../api.js';
import { h, mount } from '../dom.js';
import { field, formErrors, input, submit } from '../forms.js';
import { go, type ScreenContext } from '../screen.js';
import { currentSession, loadSession, signedIn } from '../session.js';

/** The server's rules (auth contract): usernames 1-64 of letters, digits, `. _ @ -`. */
const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;

export function checkUsername(name: string, value: string): string[] {
  if (value === '') return [`${name} must not be empty`];
  return USERNAME.test(value)
    ? []
    : [`${name} may have up to 64 letters, digits and . _ @ - (no spaces)`];
}

export function checkNewPassword(
  name: string,
  value: string,
  confirmName: string,
  confirm: string,
): string[] {
  const problems: string[] = [];
  if (value.length < 8) problems.push(`${name} must have at least 8 characters`);
  else if (value.length > 1024) problems.push(`${name} must have at most 1024 characters`);
  if (confirm !== value) problems.push(`${confirmName} does not match the password`);
  return problems;
}

/** The hash route to come back to after signing in (`?next=/tasks`), if it is one of ours. */
export function nextRoute(ctx: ScreenContext): string | undefined {
  const next = ctx.query.get('next');
  if (!next || !next.startsWith('/') || next.startsWith('//')) return undefined;
  if (/^\/(sign-in|setup)(\?|$)/.test(next)) return undefined;
  return next;
}

/** Goes where the server's `redirect` says: a local path such as `/#/tasks`. */
export function goToRedirect(redirect: string | undefined): void {
  if (redirect?.startsWith('/#/')) go(redirect.slice(1));
  else if (redirect && redirect !== '/' && redirect.startsWith('/') && !redirect.startsWith('//'))
    location.assign(redirect);
  else go('#/accounts');
}

export function tooManyAttempts(e: ApiError): string {
  return e.retryAfterSeconds !== undefined
    ? `Too many failed attempts, try again in ${e.retryAfterSeconds} s.`
    : 'Too many failed attempts, try again later.';
}

export function signInScreen(root: HTMLElement, ctx: ScreenContext): void {
  const next = nextRoute(ctx);
  const username = input({ autocomplete: 'username', autocapitalize: 'none', spellcheck: false });
  const password = input({ type: 'password', autocomplete: 'current-password' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form: HTMLFormElement = h(
    'form',
    {
      novalidate: true,
      class: 'auth-form',
      'aria-label': 'Sign in',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const check = () => [
          ...(username.value.trim() === '' ? ['username must not be empty'] : []),
          ...(password.value === '' ? ['password must not be empty'] : []),
        ];
        await submit(form, button, check, async () => {
          try {
            const answer = await api.auth.login({
              username: username.value.trim(),
              password: password.value,
              ...(next ? { next: `/#${next}` } : {}),
            });
            signedIn(answer);
            goToRedirect(answer.redirect);
          } catch (e) {
            if (e instanceof ApiError && e.status === 429) throw new Error(tooManyAttempts(e));
            throw e;
          } finally {
            password.value = '';
          }
        });
      },
    },
    formErrors(),
    field('Username', username, { name: 'username', required: true }),
    field('Password', password, { name: 'password', required: true }),
    h('div', { class: 'actions' }, button),
  );
  mount(
    root,
    h(
      'section',
      { class: 'panel auth' },
      h('h1', null, 'Sign in'),
      next ? h('p', { class: 'help' }, 'Sign in to continue where you were.') : null,
      form,
    ),
  );
  username.focus();
}

export function setupScreen(root: HTMLElement, ctx: ScreenContext): void {
  const next = nextRoute(ctx);
  const username = input({
    autocomplete: 'username',
    autocapitalize: 'none',
    spellcheck: false,
    value: 'admin',
  });
  const password = input({ type: 'password', autocomplete: 'new-password' });
  const confirm = input({ type: 'password', autocomplete: 'new-password' });
  // Reachable from the network: the operator proves themself with the token from the log.
  const needsToken = currentSession()?.setupTokenRequired === true;
  const setupToken = input({ autocomplete: 'off', autocapitalize: 'none', spellcheck: false });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Create the admin user');
  const form: HTMLFormElement = h(
    'form',
    {
      novalidate: true,
      class: 'auth-form',
      'aria-label': 'Create the admin user',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const check = () => [
          ...checkUsername('username', username.value.trim()),
          ...checkNewPassword('password', password.value, 'confirm', confirm.value),
        ];
        await submit(form, button, check, async () => {
          try {
            signedIn(
              await api.auth.setup({
                username: username.value.trim(),
                password: password.value,
                ...(needsToken ? { setupToken: setupToken.value.trim() } : {}),
              }),
            );
            go(next ? `#${next}` : '#/accounts');
          } catch (e) {
            if (!(e instanceof ApiError && e.status === 409)) throw e;
            // Someone else finished the set-up first: signing in is what is left.
            await loadSession();
            go(`#/sign-in${next ? `?next=${encodeURIComponent(next)}` : ''}`);
          }
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
      help: 'At least 8 characters.',
    }),
    field('Confirm the password', confirm, { name: 'confirm', required: true }),
    needsToken
      ? field('Setup token', setupToken, {
          name: 'setupToken',
          required: true,
          help: 'Printed in the engine log at start ("setup token: ...").',
        })
      : null,
    h('div', { class: 'actions' }, button),
  );
  mount(
    root,
    h(
      'section',
      { class: 'panel auth' },
      h('h1', null, 'Create the admin user'),
      h(
        'p',
        null,
        'This engine has no users yet. The first user is its administrator: it manages the ' +
          'other users and the mail server.',
      ),
      form,
    ),
  );
  password.focus();
}
