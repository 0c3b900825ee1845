import { api, type Account, type AccountState, type ConnectorInfo } from '../api.js';
import { confirmButton, h, mount, statusLine } from '../dom.js';
import {
  advancedBlock,
  errorText,
  field,
  formErrors,
  input,
  optionsForm,
  select,
  submit,
} from '../forms.js';
import type { ScreenContext } from '../screen.js';

/** How each kind of cloud is connected; a cloud is one entry. OAuth kinds come from the API. */
type Flow = 'oauth' | 'icloud' | 'options';
const SIGN_IN_FLOWS: Record<string, Flow> = { 'icloud-photos': 'icloud' };
const flowOf = (c: ConnectorInfo): Flow =>
  c.oauth ? 'oauth' : (SIGN_IN_FLOWS[c.kind] ?? 'options');

/** Set by the provider during the consent flow, never typed in. */
const OAUTH_TOKEN_KEYS = ['refreshToken', 'accessToken', 'accessTokenExpiresAt'];
/** The iCloud form asks for these itself. */
const ICLOUD_OWN_KEYS = ['appleId', 'password'];

export const STATE_LABELS: Record<AccountState, string> = {
  connected: 'Connected',
  'needs-reauth': 'Needs re-authentication',
  'awaiting-code': 'Awaiting code',
  error: 'Error',
};

export async function accountsScreen(root: HTMLElement, ctx: ScreenContext): Promise<void> {
  const [connectors, accounts] = await Promise.all([api.connectors(), api.accounts.list()]);
  if (!ctx.isCurrent()) return;
  const byKind = new Map(connectors.map((c) => [c.kind, c]));
  const list = h('ul', { class: 'cards', 'aria-label': 'Accounts' });
  const status = statusLine();

  const refresh = async () => {
    drawList(await api.accounts.list());
  };

  const drawList = (items: Account[]) => {
    mount(
      list,
      items.length === 0
        ? h('li', { class: 'empty' }, 'No clouds yet: add one below.')
        : items.map((a) => accountCard(a, byKind.get(a.kind), refresh, status)),
    );
  };
  drawList(accounts);

  const connected = ctx.query.get('connected');
  const banner = connected
    ? h(
        'p',
        { class: 'notice', role: 'status' },
        `Connected “${accounts.find((a) => a.id === connected)?.name ?? 'the account'}”.`,
      )
    : null;

  const addArea = h('div', { class: 'add-form' });
  const kindSelect = select(
    [['', 'Choose…'], ...connectors.map((c): [string, string] => [c.kind, c.displayName])],
    { id: 'add-kind' },
  );
  kindSelect.addEventListener('change', () => {
    const c = byKind.get(kindSelect.value);
    mount(addArea, c ? addForm(c, refresh, status) : null);
  });

  mount(
    root,
    h('h1', null, 'Clouds'),
    banner,
    status,
    h(
      'section',
      { 'aria-labelledby': 'accounts-h' },
      h('h2', { id: 'accounts-h' }, 'Your accounts'),
      list,
    ),
    h(
      'section',
      { 'aria-labelledby': 'add-h', class: 'panel' },
      h('h2', { id: 'add-h' }, 'Add a cloud'),
      h('div', { class: 'field' }, h('label', { for: 'add-kind' }, 'Kind of cloud'), kindSelect),
      addArea,
    ),
  );
}

function accountCard(
  a: Account,
  c: ConnectorInfo | undefined,
  refresh: () => Promise<void>,
  status: HTMLElement,
): HTMLLIElement {
  const flow = c ? flowOf(c) : 'options';
  const extra = h('div', { class: 'card-extra' });
  const actions = h('div', { class: 'actions' });
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const fail = (e: unknown) => {
    error.hidden = false;
    error.textContent = errorText(e);
  };

  if (flow === 'oauth') {
    actions.append(
      h(
        'button',
        {
          type: 'button',
          onclick: async () => {
            try {
              const { authorizeUrl } = await api.accounts.connect({
                kind: a.kind,
                accountId: a.id,
              });
              location.assign(authorizeUrl);
            } catch (e) {
              fail(e);
            }
          },
          'aria-label': `Sign in to “${a.name}” again`,
        },
        'Re-authenticate',
      ),
    );
  } else if (flow === 'icloud') {
    if (a.state === 'awaiting-code') extra.append(codePrompt(a, refresh, status));
    actions.append(
      h(
        'button',
        {
          type: 'button',
          onclick: () => mount(extra, icloudForm(c!, refresh, status, a)),
          'aria-label': `Sign in to “${a.name}” again`,
        },
        'Sign in again',
      ),
    );
  }
  actions.append(
    h(
      'button',
      {
        type: 'button',
        'aria-label': `Edit “${a.name}”`,
        onclick: () =>
          mount(
            extra,
            editForm(a, c, refresh, status, () => mount(extra)),
          ),
      },
      'Edit',
    ),
    confirmButton(
      'Remove',
      `Remove “${a.name}”?`,
      async () => {
        try {
          await api.accounts.remove(a.id);
          status.textContent = `Removed “${a.name}”.`;
          await refresh();
        } catch (e) {
          fail(e);
        }
      },
      `Remove “${a.name}”`,
    ),
  );

  return h(
    'li',
    { class: 'card', 'data-account': a.id },
    h('h3', null, a.name),
    h(
      'p',
      { class: 'meta' },
      h('span', null, c?.displayName ?? a.kind),
      ' ',
      h('span', { class: `badge state-${a.state}` }, STATE_LABELS[a.state] ?? a.state),
    ),
    a.kind === 'local' && typeof a.options.root === 'string'
      ? h('p', { class: 'meta' }, h('code', null, a.options.root))
      : null,
    // While the code prompt shows, it says what to do.
    a.stateMessage && a.state !== 'awaiting-code'
      ? h('p', { class: 'meta' }, a.stateMessage)
      : null,
    error,
    extra,
    actions,
  );
}

function nameField(value = ''): { el: HTMLElement; input: HTMLInputElement } {
  const i = input({ value, autocomplete: 'off', maxlength: 200 });
  return { el: field('Name', i, { name: 'name', required: true }), input: i };
}

function addForm(c: ConnectorInfo, refresh: () => Promise<void>, status: HTMLElement): HTMLElement {
  const flow = flowOf(c);
  if (flow === 'icloud') return icloudForm(c, refresh, status);
  const errors = formErrors();
  const name = nameField();
  const isOAuth = flow === 'oauth';
  const opts = optionsForm(
    c.options.filter((o) => !(isOAuth && OAUTH_TOKEN_KEYS.includes(o.key))),
    isOAuth
      ? {
          // The server may have its own OAuth app: then the client's id and secret are optional
          // (the API accepts a name only, and says so if it has no app).
          optional: c.options
            .filter((o) => /^(client|app)(Id|Key|Secret)$/.test(o.key))
            .map((o) => o.key),
          notes: {
            clientId: "Leave empty to use the server's OAuth app.",
            clientSecret: "Leave empty to use the server's OAuth app.",
          },
        }
      : {},
  );
  const button = h(
    'button',
    { type: 'submit', class: 'primary' },
    isOAuth ? `Connect with ${c.displayName}` : 'Add account',
  );
  const form: HTMLFormElement = h(
    'form',
    {
      novalidate: true,
      'aria-label': `Add ${c.displayName}`,
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const check = () => [
          ...(name.input.value.trim() === '' ? ['name must not be empty'] : []),
          ...opts.check(),
        ];
        await submit(form, button, check, async () => {
          if (isOAuth) {
            const { authorizeUrl } = await api.accounts.connect({
              kind: c.kind,
              name: name.input.value.trim(),
              options: opts.read(),
            });
            location.assign(authorizeUrl);
            return;
          }
          const a = await api.accounts.create({
            kind: c.kind,
            name: name.input.value.trim(),
            options: opts.read(),
          });
          form.reset();
          status.textContent = `Added “${a.name}”.`;
          await refresh();
        });
      },
    },
    h('p', { class: 'help' }, c.description),
    isOAuth
      ? h(
          'p',
          { class: 'help' },
          `You will be sent to ${c.displayName} to allow access, then back here.`,
        )
      : null,
    errors,
    name.el,
    opts.basic,
    advancedBlock(opts.advanced),
    h('div', { class: 'actions' }, button),
  );
  return form;
}

/** iCloud: Apple ID and password; then, when Apple asks, the six-digit code. */
function icloudForm(
  c: ConnectorInfo,
  refresh: () => Promise<void>,
  status: HTMLElement,
  existing?: Account,
): HTMLElement {
  const wrap = h('div', { class: 'icloud' });
  const errors = formErrors();
  const name = nameField();
  const appleId = input({ type: 'email', autocomplete: 'username', maxlength: 320 });
  const password = input({ type: 'password', autocomplete: 'current-password' });
  const remember = input({ type: 'checkbox', checked: true });
  const opts = optionsForm(c.options.filter((o) => !ICLOUD_OWN_KEYS.includes(o.key) && !o.secret));
  const button = h(
    'button',
    { type: 'submit', class: 'primary' },
    existing ? 'Sign in again' : 'Sign in',
  );
  const form: HTMLFormElement = h(
    'form',
    {
      novalidate: true,
      'aria-label': existing ? `Sign in to ${existing.name} again` : 'Sign in to iCloud',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const check = () => [
          ...(!existing && name.input.value.trim() === '' ? ['name must not be empty'] : []),
          ...(!existing && appleId.value.trim() === '' ? ['appleId must not be empty'] : []),
          ...(password.value === '' ? ['password must not be empty'] : []),
          ...(existing ? [] : opts.check()),
        ];
        await submit(form, button, check, async () => {
          const res = await api.accounts.icloudSignIn(
            existing
              ? {
                  accountId: existing.id,
                  password: password.value,
                  rememberPassword: remember.checked,
                }
              : {
                  name: name.input.value.trim(),
                  appleId: appleId.value.trim(),
                  password: password.value,
                  rememberPassword: remember.checked,
                  options: opts.read(),
                },
          );
          password.value = '';
          if (res.state === 'needs-code') {
            // The account's card shows the code prompt from now on.
            mount(wrap);
            status.textContent = `Apple sent a code to the devices of “${res.account.name}”.`;
            await refresh();
            document
              .querySelector<HTMLInputElement>(`[data-account="${res.account.id}"] input.code`)
              ?.focus();
          } else {
            status.textContent = `Signed in to “${res.account.name}”.`;
            mount(wrap);
            await refresh();
          }
        });
      },
    },
    h('p', { class: 'help' }, c.description),
    errors,
    existing ? null : name.el,
    existing ? null : field('Apple ID', appleId, { name: 'appleId', required: true }),
    field('Password', password, { name: 'password', required: true }),
    field('Remember the password', remember, {
      name: 'rememberPassword',
      help: 'Kept encrypted, so backups can sign in again by themselves when the session ends.',
    }),
    existing ? null : [opts.basic, advancedBlock(opts.advanced)],
    h('div', { class: 'actions' }, button),
  );
  mount(wrap, form);
  return wrap;
}

/** The six-digit code Apple shows on the account's trusted devices. */
function codePrompt(a: Account, refresh: () => Promise<void>, status: HTMLElement): HTMLElement {
  const errors = formErrors();
  const code = input({
    inputmode: 'numeric',
    autocomplete: 'one-time-code',
    maxlength: 6,
    pattern: '[0-9]{6}',
    class: 'code',
  });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Confirm code');
  const note = statusLine();
  const form: HTMLFormElement = h(
    'form',
    {
      novalidate: true,
      class: 'code-prompt',
      'aria-label': `Verification code for ${a.name}`,
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const check = () =>
          /^\d{6}$/.test(code.value.trim()) ? [] : ['code must be the 6-digit verification code'];
        await submit(form, button, check, async () => {
          const res = await api.accounts.icloudCode(a.id, code.value.trim());
          status.textContent =
            res.state === 'connected'
              ? `Signed in to “${res.account.name}”.`
              : 'Apple asks for another code.';
          await refresh();
        });
      },
    },
    h('p', null, 'Apple sent a six-digit code to your devices. Enter it here:'),
    errors,
    field('Verification code', code, { name: 'code', required: true }),
    note,
    h(
      'div',
      { class: 'actions' },
      button,
      h(
        'button',
        {
          type: 'button',
          onclick: async () => {
            try {
              await api.accounts.icloudRequestCode(a.id);
              note.textContent = 'A new code was sent.';
            } catch (e) {
              note.textContent = errorText(e);
            }
          },
        },
        'Send a new code',
      ),
    ),
  );
  return form;
}

/** Rename an account, or change the settings that are not secrets and not set by a sign-in. */
function editForm(
  a: Account,
  c: ConnectorInfo | undefined,
  refresh: () => Promise<void>,
  status: HTMLElement,
  close: () => void,
): HTMLElement {
  const errors = formErrors();
  const name = nameField(a.name);
  const editable =
    c && flowOf(c) === 'options'
      ? c.options.filter((o) => !o.secret && !ICLOUD_OWN_KEYS.includes(o.key))
      : [];
  const opts = optionsForm(editable);
  // Show the current values; empty inputs keep them.
  const controls = [...opts.basic, ...opts.advanced];
  for (const spec of editable) {
    const el = controls
      .map((f) =>
        f.querySelector<HTMLInputElement | HTMLSelectElement>(`[name="options.${spec.key}"]`),
      )
      .find((x) => x);
    const v = a.options[spec.key];
    if (!el || v === undefined) continue;
    if (el instanceof HTMLInputElement && el.type === 'checkbox') el.checked = v === true;
    else el.value = String(v);
  }
  const button = h('button', { type: 'submit', class: 'primary' }, 'Save changes');
  const form: HTMLFormElement = h(
    'form',
    {
      novalidate: true,
      class: 'edit-account',
      'aria-label': `Edit “${a.name}”`,
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const ok = await submit(
          form,
          button,
          () => [
            ...(name.input.value.trim() === '' ? ['name must not be empty'] : []),
            ...opts.check(),
          ],
          async () => {
            const options = opts.read();
            await api.accounts.update(a.id, {
              name: name.input.value.trim(),
              ...(Object.keys(options).length > 0 ? { options: { ...a.options, ...options } } : {}),
            });
          },
        );
        if (ok) {
          status.textContent = `Saved “${name.input.value.trim()}”.`;
          await refresh();
        }
      },
    },
    errors,
    name.el,
    opts.basic,
    advancedBlock(opts.advanced),
    h(
      'div',
      { class: 'actions' },
      button,
      h('button', { type: 'button', onclick: close }, 'Cancel'),
    ),
  );
  return form;
}
