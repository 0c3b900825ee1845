import { api, ApiError, type SmtpView } from '../api.js';
import { h, mount, statusLine } from '../dom.js';
import { field, formErrors, input, select, submit } from '../forms.js';
import type { ScreenContext } from '../screen.js';
import { isAdmin } from '../session.js';
import { passwordSection, tokensSection } from './settings-account.js';
import { usersSection } from './settings-users.js';

/** 403 (not an admin) and 404 (no such feature) mean "leave the section out". */
async function optional<T>(load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch (e) {
    if (e instanceof ApiError && (e.status === 403 || e.status === 404)) return undefined;
    throw e;
  }
}

/**
 * Everyone: their password and API tokens. Admins also: users, and the mail server (SMTP) with
 * "send test mail".
 */
export async function settingsScreen(root: HTMLElement, ctx: ScreenContext): Promise<void> {
  const admin = isAdmin();
  const [tokens, users, smtp] = await Promise.all([
    api.tokens.list(),
    admin ? optional(() => api.users.list()) : Promise.resolve(undefined),
    admin ? optional(() => api.settings.smtp()) : Promise.resolve(undefined),
  ]);
  if (!ctx.isCurrent()) return;
  mount(
    root,
    h('h1', null, 'Settings'),
    passwordSection(),
    tokensSection(tokens),
    users ? usersSection(users) : null,
    smtp ? smtpSections(smtp) : null,
  );
}

function smtpSections(initial: SmtpView): HTMLElement[] {
  let smtp = initial;
  const status = statusLine();
  const host = input({ value: smtp.host ?? '', autocomplete: 'off' });
  const port = input({
    type: 'number',
    min: 1,
    max: 65535,
    value: smtp.port ?? '',
    placeholder: '587',
  });
  const tls = select(
    [
      ['starttls', 'STARTTLS (port 587)'],
      ['tls', 'TLS (port 465)'],
      ['none', 'None'],
    ],
    { value: smtp.tls ?? 'starttls' },
  );
  const user = input({ value: smtp.user ?? '', autocomplete: 'off' });
  const password = input({
    type: 'password',
    autocomplete: 'new-password',
    placeholder: smtp.hasPassword ? 'unchanged' : '',
  });
  const from = input({ value: smtp.from ?? '', placeholder: 'Backups <backup@example.com>' });
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save');
  // Where the settings come from, redrawn after a save (it said "No mail server yet" under
  // "Saved." before).
  const sourceLine = h('p', { class: 'help', 'data-smtp-source': '' });
  const drawSource = () =>
    (sourceLine.textContent =
      smtp.source === 'environment'
        ? 'Now set by the server environment; saving here takes precedence.'
        : smtp.source === 'none'
          ? 'No mail server yet: backups cannot send mail.'
          : 'Mail goes through this server.');
  drawSource();
  const form: HTMLFormElement = h(
    'form',
    {
      novalidate: true,
      'aria-label': 'Mail server',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const check = () => [
          ...(host.value.trim() === '' ? ['host must not be empty'] : []),
          ...(from.value.trim() === '' ? ['from must not be empty'] : []),
          ...(port.value !== '' && !(Number(port.value) >= 1 && Number(port.value) <= 65535)
            ? ['port must be from 1 to 65535']
            : []),
        ];
        await submit(form, save, check, async () => {
          smtp = await api.settings.saveSmtp({
            host: host.value.trim(),
            ...(port.value !== '' ? { port: Number(port.value) } : {}),
            tls: tls.value,
            user: user.value.trim() === '' ? null : user.value.trim(),
            ...(password.value !== '' ? { password: password.value } : {}),
            from: from.value.trim(),
          });
          password.value = '';
          password.placeholder = smtp.hasPassword ? 'unchanged' : '';
          status.textContent = 'Saved.';
          drawSource();
        });
      },
    },
    formErrors(),
    sourceLine,
    field('Server', host, { name: 'host', required: true }),
    field('Port', port, { name: 'port' }),
    field('Encryption', tls, { name: 'tls' }),
    field('User name', user, { name: 'user' }),
    field('Password', password, { name: 'password', help: 'Stored encrypted, never shown again.' }),
    field('From', from, { name: 'from', required: true }),
    h('div', { class: 'actions' }, save),
  );

  const to = input({ type: 'email', autocomplete: 'email', placeholder: 'me@example.com' });
  const send = h('button', { type: 'submit' }, 'Send test mail');
  const testStatus = statusLine();
  const testForm: HTMLFormElement = h(
    'form',
    {
      novalidate: true,
      'aria-label': 'Test mail',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const addresses = to.value.split(/[,;\s]+/).filter(Boolean);
        const check = () =>
          addresses.length === 0 || addresses.some((a) => !/^[^@\s]+@[^@\s]+$/.test(a))
            ? ['to: enter an e-mail address']
            : [];
        await submit(testForm, send, check, async () => {
          const r = await api.settings.testSmtp(addresses);
          testStatus.textContent = `Sent to ${r.to.join(', ')}.`;
        });
      },
    },
    formErrors(),
    field('Send to', to, { name: 'to' }),
    testStatus,
    h('div', { class: 'actions' }, send),
  );

  return [
    h('section', { class: 'panel' }, h('h2', null, 'Mail server (SMTP)'), status, form),
    h('section', { class: 'panel' }, h('h2', null, 'Test mail'), testForm),
  ];
}
