import { api, type Account, type RunOutcome, type TaskHealth } from '../api.js';
import { h, mount } from '../dom.js';
import { errorText } from '../forms.js';
import {
  formatBytes,
  formatCount,
  formatDate,
  formatRelative,
  formatWeekday,
  localDayKey,
  plural,
} from '../format.js';
import { heldButtons } from '../held.js';
import { dayOutcome, healthOf, type DayOutcome, type Health } from '../health.js';
import { go, type ScreenContext } from '../screen.js';
import { describeSchedule, place } from './tasks.js';

const HEALTH_LABELS: Record<Health, string> = {
  failed: 'Last backup failed',
  attention: 'Needs attention',
  running: 'Backing up now',
  never: 'Not backed up yet',
  paused: 'Paused',
  ok: 'Healthy',
};

const STRIP_DAYS = 30;
const STATUS_WORDS: Record<string, string> = {
  completed: 'completed',
  warning: 'completed with warnings',
  failed: 'failed',
  offline: 'offline',
  cancelled: 'cancelled',
  skipped: 'skipped',
  running: 'running',
  queued: 'queued',
};

const LEGEND: [DayOutcome, string][] = [
  ['ok', 'Good'],
  ['warning', 'With warnings'],
  ['failed', 'Failed'],
  ['offline', 'Offline'],
  ['running', 'Running'],
  ['none', 'No runs'],
];

/** What the strip's colours mean, once for the page (each strip has its own text summary). */
function legend(): HTMLElement {
  return h(
    'ul',
    { class: 'strip-legend', 'aria-label': 'Colours of the 30-day strips' },
    LEGEND.map(([o, label]) =>
      h(
        'li',
        { 'data-legend': o },
        h('span', { class: `day day-${o}`, 'aria-hidden': 'true' }),
        label,
      ),
    ),
  );
}

/** 30 days of run outcomes, oldest left; one accessible summary, a tooltip per day. */
function strip(t: TaskHealth, now = new Date()): HTMLElement {
  const byDay = new Map<string, RunOutcome[]>();
  for (const r of t.recentRuns) {
    const k = localDayKey(new Date(r.createdAt));
    byDay.set(k, [...(byDay.get(k) ?? []), r]);
  }
  const days: HTMLElement[] = [];
  const totals: Record<DayOutcome, number> = {
    ok: 0,
    warning: 0,
    failed: 0,
    offline: 0,
    running: 0,
    other: 0,
    none: 0,
  };
  for (let i = STRIP_DAYS - 1; i >= 0; i--) {
    const d = new Date(now.getFullYear(), now.getMonth(), now.getDate() - i);
    const runs = byDay.get(localDayKey(d)) ?? [];
    const outcome = dayOutcome(runs);
    totals[outcome]++;
    const counts = new Map<string, number>();
    for (const r of runs) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    const words = [...counts].map(([s, n]) => `${n} ${STATUS_WORDS[s] ?? s}`).join(', ');
    days.push(
      h('li', {
        class: `day day-${outcome}`,
        title: `${formatWeekday(d)}: ${words || 'no runs'}`,
        'data-day': localDayKey(d),
        'data-outcome': outcome,
      }),
    );
  }
  return h(
    'ol',
    {
      class: 'strip',
      role: 'img',
      'aria-label':
        `Last ${STRIP_DAYS} days: ${plural(totals.ok, 'day')} with good runs, ` +
        `${plural(totals.warning, 'day')} with warnings, ` +
        `${plural(totals.failed, 'day')} with failures, ${plural(totals.offline, 'day')} offline, ` +
        `${plural(totals.none, 'day')} without runs`,
    },
    days,
  );
}

function lastResult(t: TaskHealth): HTMLElement {
  const r = t.lastBackup;
  if (!r) return h('span', null, 'Never run');
  const when = r.finishedAt ?? r.startedAt ?? r.createdAt;
  const verb =
    r.status === 'completed'
      ? 'Completed'
      : r.status === 'failed'
        ? 'Failed'
        : r.status === 'running'
          ? 'Running since'
          : r.status === 'queued'
            ? 'Queued'
            : r.status === 'cancelled'
              ? 'Cancelled'
              : r.status === 'warning'
                ? 'Completed with warnings'
                : r.status === 'offline'
                  ? 'Stopped'
                  : 'Skipped';
  return h(
    'span',
    null,
    h('a', { href: `#/runs/${r.id}`, title: formatDate(when) }, `${verb} ${formatRelative(when)}`),
    (r.status === 'failed' || r.status === 'offline' || r.status === 'warning') && r.errorMessage
      ? h('span', { class: 'reason' }, ` — ${r.errorMessage}`)
      : null,
  );
}

function taskCard(
  t: TaskHealth,
  accounts: Map<string, Account>,
  onError: (e: unknown) => void,
  onDecided: (message: string) => void,
) {
  const health = healthOf(t, accounts);
  const needsSignIn = [t.task.sourceAccountId, t.task.targetAccountId]
    .map((id) => accounts.get(id))
    .filter((a): a is Account => a?.state === 'needs-reauth');
  const running = health === 'running';
  return h(
    'li',
    { class: `card health health-${health}`, 'data-task': t.task.id, 'data-health': health },
    h(
      'div',
      { class: 'card-head' },
      h('h2', null, h('a', { href: `#/tasks/${t.task.id}/versions` }, t.task.name)),
      h('span', { class: `badge health-badge health-${health}` }, HEALTH_LABELS[health]),
    ),
    h(
      'p',
      { class: 'meta route' },
      `${place(accounts, t.task.sourceAccountId, t.task.sourcePath)} → ${place(accounts, t.task.targetAccountId, t.task.targetPath)}`,
    ),
    h(
      'dl',
      { class: 'facts health-facts' },
      h('dt', null, 'Last backup'),
      h('dd', { 'data-fact': 'last' }, lastResult(t)),
      h('dt', null, 'Next run'),
      h(
        'dd',
        { 'data-fact': 'next' },
        t.nextRun
          ? h('span', { title: formatDate(t.nextRun) }, formatRelative(t.nextRun))
          : t.task.enabled
            ? describeSchedule(t.task.schedule)
            : 'Paused: no scheduled runs',
      ),
      h('dt', null, 'Last good version'),
      h(
        'dd',
        { 'data-fact': 'version' },
        t.lastSuccess
          ? h(
              'a',
              { href: `#/tasks/${t.task.id}/versions?version=${t.lastSuccess.versionId}` },
              `Version ${t.lastSuccess.seq}, ${formatRelative(t.lastSuccess.completedAt)}`,
            )
          : 'None yet',
      ),
      h('dt', null, 'Protected'),
      h(
        'dd',
        { 'data-fact': 'protected' },
        t.lastSuccess
          ? `${plural(t.lastSuccess.fileCount, 'file')} · ${formatBytes(t.lastSuccess.totalBytes)}`
          : '–',
      ),
      t.heldVersions.length > 0
        ? [
            h('dt', null, 'Held versions'),
            h(
              'dd',
              { 'data-fact': 'held', class: 'warn-text' },
              h(
                'a',
                { href: `#/tasks/${t.task.id}/versions?version=${t.heldVersions[0]!.id}` },
                `${plural(t.heldVersions.length, 'version')} waiting for your decision`,
              ),
              [...t.heldVersions]
                .sort((a, b) => b.seq - a.seq)
                .map((v) =>
                  h(
                    'span',
                    { class: 'held-line', 'data-held': v.id },
                    `Version ${v.seq}, ${formatRelative(v.createdAt)}`,
                    heldButtons(t.task, v, onDecided),
                  ),
                ),
            ),
          ]
        : null,
      t.lastVerify
        ? [
            h('dt', null, 'Last check'),
            h(
              'dd',
              {
                'data-fact': 'verify',
                class: t.lastVerify.status === 'failed' ? 'error-text' : undefined,
              },
              h(
                'a',
                { href: `#/runs/${t.lastVerify.id}` },
                t.lastVerify.status === 'failed'
                  ? `Failed ${formatRelative(t.lastVerify.finishedAt ?? t.lastVerify.createdAt)}`
                  : `${t.lastVerify.status === 'completed' ? 'Passed' : t.lastVerify.status} ${formatRelative(t.lastVerify.finishedAt ?? t.lastVerify.createdAt)}`,
              ),
            ),
          ]
        : null,
      needsSignIn.length > 0
        ? [
            h('dt', null, 'Sign-in'),
            h(
              'dd',
              { class: 'warn-text' },
              needsSignIn.map((a) => `“${a.name}” needs you to sign in again`).join('; '),
              ' ',
              h('a', { href: '#/accounts' }, 'Go to clouds'),
            ),
          ]
        : null,
    ),
    h('p', { class: 'strip-caption', 'aria-hidden': 'true' }, 'Last 30 days'),
    strip(t),
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          class: 'primary',
          disabled: running,
          'aria-label': `Run “${t.task.name}” now`,
          onclick: async () => {
            try {
              const run = await api.tasks.run(t.task.id);
              go(`#/runs/${run.id}`);
            } catch (e) {
              onError(e);
            }
          },
        },
        'Run now',
      ),
      running && t.lastBackup
        ? h(
            'a',
            {
              class: 'button',
              href: `#/runs/${t.lastBackup.id}`,
              'aria-label': `Watch the run of “${t.task.name}”`,
            },
            'Watch',
          )
        : null,
      h(
        'a',
        {
          class: 'button',
          href: `#/tasks/${t.task.id}/versions`,
          'aria-label': `Restore from “${t.task.name}”`,
        },
        'Restore',
      ),
      h(
        'a',
        {
          class: 'button',
          href: `#/runs?task=${encodeURIComponent(t.task.id)}`,
          'aria-label': `Runs of “${t.task.name}”`,
        },
        'Runs',
      ),
    ),
  );
}

function headline(items: TaskHealth[], accounts: Map<string, Account>): HTMLElement {
  if (items.length === 0) return h('p', { class: 'headline' }, 'Nothing is backed up yet.');
  const health = items.map((t) => healthOf(t, accounts));
  const bad = health.filter((x) => x === 'failed' || x === 'attention').length;
  const never = health.filter((x) => x === 'never').length;
  if (bad > 0)
    return h(
      'p',
      { class: 'headline headline-bad', 'data-headline': 'bad' },
      `${formatCount(bad)} of ${plural(items.length, 'task')} ${bad === 1 ? 'needs' : 'need'} attention.`,
    );
  if (never > 0)
    return h(
      'p',
      { class: 'headline headline-warn', 'data-headline': 'never' },
      `${plural(never, 'task')} not backed up yet.`,
    );
  return h(
    'p',
    { class: 'headline headline-ok', 'data-headline': 'ok' },
    items.length === 1
      ? 'Your backup is healthy.'
      : `All ${formatCount(items.length)} backups are healthy.`,
  );
}

/** The home page: are my backups healthy? */
export async function dashboardScreen(root: HTMLElement, ctx: ScreenContext): Promise<void> {
  const [board, accounts] = await Promise.all([api.dashboard.overview(), api.accounts.list()]);
  if (!ctx.isCurrent()) return;
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const onError = (e: unknown) => {
    error.hidden = false;
    error.textContent = errorText(e);
  };
  const status = h('p', { class: 'notice', role: 'status', hidden: true });
  const onDecided = (message: string) => {
    status.hidden = false;
    status.textContent = message;
    void refresh();
  };
  const body = h('div', null);

  const draw = (b: typeof board, accs: Account[]) => {
    const byId = new Map(accs.map((a) => [a.id, a]));
    const signIn = accs.filter((a) => a.state === 'needs-reauth' || a.state === 'error');
    mount(
      body,
      headline(b.tasks, byId),
      signIn.length > 0
        ? h(
            'div',
            { class: 'notice warn', role: 'status', 'data-notice': 'sign-in' },
            h('strong', null, 'Clouds needing sign-in: '),
            signIn.map((a, i) => [i > 0 ? ', ' : '', `“${a.name}”`]),
            '. ',
            h('a', { href: '#/accounts' }, 'Sign in again'),
          )
        : null,
      b.tasks.length === 0
        ? h(
            'div',
            { class: 'empty-state' },
            h('p', null, 'Connect a cloud, then create a backup task: it appears here.'),
            h(
              'p',
              { class: 'actions' },
              h('a', { class: 'button primary', href: '#/tasks/new' }, 'New backup task'),
              h('a', { class: 'button', href: '#/accounts' }, 'Connect a cloud'),
            ),
          )
        : h(
            'ul',
            { class: 'cards health-cards', 'aria-label': 'Backup tasks' },
            b.tasks.map((t) => taskCard(t, byId, onError, onDecided)),
          ),
      b.tasks.length > 0 ? legend() : null,
      b.targets.length > 0
        ? h(
            'section',
            { 'aria-labelledby': 'storage-h', class: 'panel storage' },
            h('h2', { id: 'storage-h' }, 'Storage used on targets'),
            h(
              'ul',
              { class: 'storage-list' },
              b.targets.map((x) =>
                h(
                  'li',
                  { 'data-target': x.accountId },
                  h('span', { class: 'name' }, byId.get(x.accountId)?.name ?? 'unknown account'),
                  h('span', { class: 'value' }, formatBytes(x.storedBytes)),
                  h('span', { class: 'meta' }, plural(x.taskIds.length, 'task')),
                ),
              ),
            ),
          )
        : null,
    );
  };
  draw(board, accounts);
  mount(root, h('h1', null, 'Overview'), error, status, body);

  // Fresh while the user looks at it: a run finishing turns its card without a reload.
  // Redrawn only when something changed, so the focus stays where the user left it.
  let timer = 0;
  let last = JSON.stringify([board, accounts]);
  const refresh = async (): Promise<void> => {
    if (!ctx.isCurrent()) return;
    window.clearTimeout(timer);
    try {
      const [b, a] = await Promise.all([api.dashboard.overview(), api.accounts.list()]);
      const now = JSON.stringify([b, a]);
      if (ctx.isCurrent() && now !== last) {
        last = now;
        draw(b, a);
      }
    } catch {
      /* the next refresh tries again */
    }
    timer = window.setTimeout(() => void refresh(), 5_000);
  };
  timer = window.setTimeout(() => void refresh(), 5_000);
  ctx.onLeave(() => window.clearTimeout(timer));
}
