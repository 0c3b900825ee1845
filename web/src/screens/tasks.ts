import { api, type Account, type Schedule, type Task } from '../api.js';
import { confirmButton, h, mount, statusLine } from '../dom.js';
import { errorText } from '../forms.js';
import { go, type ScreenContext } from '../screen.js';

export function describeSchedule(s: Schedule | undefined): string {
  if (!s || s.kind === 'none') return 'Manual only';
  const zone = s.timezone ? ` (${s.timezone})` : '';
  switch (s.kind) {
    case 'daily':
      return `Daily at ${s.time ?? '?'}${zone}`;
    case 'weekly':
      return `Weekly on ${(s.weekdays ?? []).join(', ')} at ${s.time ?? '?'}${zone}`;
    case 'monthly':
      return `Monthly on day ${s.dayOfMonth ?? '?'} at ${s.time ?? '?'}${zone}`;
    case 'cron':
      return `Cron “${s.cron ?? ''}”${zone}`;
  }
}

export function describeFilter(f: Task['filter']): string {
  if (f.mode === 'all' || f.extensions.length === 0) return 'All files';
  const list = f.extensions.map((e) => `.${e}`).join(', ');
  return f.mode === 'include' ? `Only ${list}` : `All except ${list}`;
}

export function place(accounts: Map<string, Account>, accountId: string, path: string): string {
  const name = accounts.get(accountId)?.name ?? 'unknown account';
  return `${name} › ${path === '' ? '(top folder)' : path}`;
}

export async function tasksScreen(root: HTMLElement, ctx: ScreenContext): Promise<void> {
  const [tasks, accounts] = await Promise.all([api.tasks.list(), api.accounts.list()]);
  if (!ctx.isCurrent()) return;
  const byId = new Map(accounts.map((a) => [a.id, a]));
  const status = statusLine();
  const list = h('ul', { class: 'cards', 'aria-label': 'Backup tasks' });

  const refresh = async () => draw(await api.tasks.list());
  const draw = (items: Task[]) =>
    mount(
      list,
      items.length === 0
        ? h('li', { class: 'empty' }, 'No backup tasks yet.')
        : items.map((t) => taskCard(t, byId, refresh, status)),
    );
  draw(tasks);

  mount(
    root,
    h('h1', null, 'Backup tasks'),
    accounts.length < 1
      ? h(
          'p',
          { class: 'notice' },
          'Add a cloud first: ',
          h('a', { href: '#/accounts' }, 'Clouds'),
          '.',
        )
      : null,
    h('p', null, h('a', { href: '#/tasks/new', class: 'button primary' }, 'New backup task')),
    status,
    list,
  );
}

function taskCard(
  t: Task,
  accounts: Map<string, Account>,
  refresh: () => Promise<void>,
  status: HTMLElement,
): HTMLLIElement {
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const fail = (e: unknown) => {
    error.hidden = false;
    error.textContent = errorText(e);
  };
  return h(
    'li',
    { class: 'card', 'data-task': t.id },
    h('h3', null, t.name, t.enabled ? null : h('span', { class: 'badge state-paused' }, ' Paused')),
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'From'),
      h('dd', null, place(accounts, t.sourceAccountId, t.sourcePath)),
      h('dt', null, 'To'),
      h('dd', null, place(accounts, t.targetAccountId, t.targetPath)),
      h('dt', null, 'Files'),
      h('dd', null, describeFilter(t.filter)),
      h('dt', null, 'Schedule'),
      h('dd', null, describeSchedule(t.schedule)),
    ),
    error,
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          class: 'primary',
          'aria-label': `Run “${t.name}” now`,
          onclick: async () => {
            try {
              const run = await api.tasks.run(t.id);
              go(`#/runs/${run.id}`);
            } catch (e) {
              fail(e);
            }
          },
        },
        'Run now',
      ),
      h(
        'a',
        {
          class: 'button',
          href: `#/tasks/${t.id}/versions`,
          'aria-label': `Versions and restore of “${t.name}”`,
        },
        'Versions',
      ),
      h(
        'a',
        { class: 'button', href: `#/tasks/${t.id}/edit`, 'aria-label': `Edit “${t.name}”` },
        'Edit',
      ),
      h(
        'button',
        {
          type: 'button',
          'aria-label': `${t.enabled ? 'Pause' : 'Resume'} “${t.name}”`,
          onclick: async () => {
            try {
              await api.tasks.update(t.id, { enabled: !t.enabled });
              status.textContent = `${t.enabled ? 'Paused' : 'Resumed'} “${t.name}”.`;
              await refresh();
            } catch (e) {
              fail(e);
            }
          },
        },
        t.enabled ? 'Pause' : 'Resume',
      ),
      confirmButton(
        'Delete',
        `Delete “${t.name}”?`,
        async () => {
          try {
            await api.tasks.remove(t.id);
            status.textContent = `Deleted “${t.name}”.`;
            await refresh();
          } catch (e) {
            fail(e);
          }
        },
        `Delete “${t.name}”`,
      ),
    ),
  );
}
