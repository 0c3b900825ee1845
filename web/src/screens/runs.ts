import {
  api,
  type Account,
  type InFlightFile,
  type Run,
  type RunCounters,
  type RunEvent,
  type RunFilter,
  type Task,
  type Version,
} from '../api.js';
import { h, mount } from '../dom.js';
import { errorText, field, input, select } from '../forms.js';
import {
  formatBytes,
  formatCount,
  formatDate,
  formatDuration,
  formatRelative,
  localDayKey,
  plural,
} from '../format.js';
import { FINAL, ProgressTracker, roughSeconds, type ProgressView } from '../progress.js';
import { eventLines, storyOf, toCsv, toJson, unchangedText, type LogLine } from '../run-log.js';
import { go, type ScreenContext } from '../screen.js';

export const KIND_LABELS: Record<string, string> = {
  backup: 'Backup',
  restore: 'Restore',
  prune: 'Clean-up',
  verify: 'Check',
};
export const STATUS_LABELS: Record<string, string> = {
  queued: 'Queued',
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
  skipped: 'Skipped',
  warning: 'Completed with warnings',
  offline: 'Offline',
};

function runTitle(run: Run, task: Task | undefined): string {
  return `${KIND_LABELS[run.kind] ?? run.kind} of “${task?.name ?? 'a deleted task'}”`;
}

function durationOf(run: Run): number | null {
  if (run.durationMs !== null && run.durationMs !== undefined) return run.durationMs;
  if (!run.startedAt || !run.finishedAt) return null;
  return new Date(run.finishedAt).getTime() - new Date(run.startedAt).getTime();
}

export function statusBadge(status: string): HTMLElement {
  return h('span', { class: `badge run-${status}` }, STATUS_LABELS[status] ?? status);
}

/** `YYYY-MM-DD` of a date input, as the instant that day starts here (plus `days`). */
function dayStart(day: string, days = 0): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return undefined;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + days).toISOString();
}

/** All runs, filtered by task, kind, status and date; the filter lives in the address. */
export async function runsScreen(root: HTMLElement, ctx: ScreenContext): Promise<void> {
  const q = ctx.query;
  const wanted = {
    task: q.get('task') ?? '',
    kind: q.get('kind') ?? '',
    status: q.get('status') ?? '',
    from: q.get('from') ?? '',
    to: q.get('to') ?? '',
  };
  const filter: RunFilter = {
    taskId: wanted.task || undefined,
    kind: wanted.kind || undefined,
    status: wanted.status || undefined,
    from: wanted.from ? dayStart(wanted.from) : undefined,
    to: wanted.to ? dayStart(wanted.to, 1) : undefined,
  };
  const [runs, tasks] = await Promise.all([api.dashboard.runs(filter), api.tasks.list()]);
  if (!ctx.isCurrent()) return;
  const byId = new Map(tasks.map((t) => [t.id, t]));

  const taskSel = select(
    [['', 'All tasks'], ...tasks.map((t): [string, string] => [t.id, t.name])],
    { value: wanted.task },
  );
  const kindSel = select(
    [['', 'All kinds'], ...Object.entries(KIND_LABELS).map(([k, v]): [string, string] => [k, v])],
    { value: wanted.kind },
  );
  const statusSel = select(
    [
      ['', 'Any result'],
      ...Object.entries(STATUS_LABELS).map(([k, v]): [string, string] => [k, v]),
    ],
    { value: wanted.status },
  );
  const from = input({ type: 'date', value: wanted.from, max: localDayKey(new Date()) });
  const to = input({ type: 'date', value: wanted.to, max: localDayKey(new Date()) });
  const apply = () => {
    const s = new URLSearchParams();
    if (taskSel.value) s.set('task', taskSel.value);
    if (kindSel.value) s.set('kind', kindSel.value);
    if (statusSel.value) s.set('status', statusSel.value);
    if (from.value) s.set('from', from.value);
    if (to.value) s.set('to', to.value);
    const qs = s.toString();
    go(`#/runs${qs ? `?${qs}` : ''}`);
  };
  for (const c of [taskSel, kindSel, statusSel, from, to]) c.addEventListener('change', apply);
  const filtered = Object.values(wanted).some((v) => v !== '');

  mount(
    root,
    h('h1', null, 'Runs'),
    h(
      'form',
      {
        class: 'filters',
        'aria-label': 'Filter runs',
        onsubmit: (e: Event) => {
          e.preventDefault();
          apply();
        },
      },
      field('Task', taskSel, { name: 'task' }),
      field('Kind', kindSel, { name: 'kind' }),
      field('Result', statusSel, { name: 'status' }),
      field('From', from, { name: 'from' }),
      field('To', to, { name: 'to' }),
      filtered
        ? h(
            'p',
            { class: 'filter-actions' },
            h('a', { class: 'button', href: '#/runs' }, 'Clear filters'),
          )
        : null,
    ),
    h(
      'p',
      { class: 'meta', role: 'status' },
      runs.length === 0
        ? ''
        : `${formatCount(runs.length)} ${runs.length === 1 ? 'run' : 'runs'}${filtered ? ' match' : ''}${runs.length >= 200 ? ' (the newest 200)' : ''}.`,
    ),
    h(
      'ul',
      { class: 'rows', 'aria-label': 'Runs' },
      runs.length === 0
        ? h('li', { class: 'empty' }, filtered ? 'No run matches these filters.' : 'No runs yet.')
        : runs.map((r) =>
            h(
              'li',
              { class: `row run-row run-row-${r.status}`, 'data-run': r.id },
              statusBadge(r.status),
              h(
                'span',
                { class: 'row-main' },
                h('a', { href: `#/runs/${r.id}` }, runTitle(r, byId.get(r.taskId))),
                h(
                  'span',
                  { class: 'meta' },
                  `${formatDate(r.createdAt)} · ${r.kind === 'restore' ? 'restored' : 'copied'} ${formatCount(r.filesCopied)} of ${formatCount(r.filesTotal)} files · ${formatBytes(r.bytesCopied)}${FINAL.has(r.status) ? ` · took ${formatDuration(durationOf(r))}` : ''}`,
                ),
                (r.status === 'failed' || r.status === 'offline' || r.status === 'warning') &&
                  r.errorMessage
                  ? h('span', { class: 'reason' }, r.errorMessage)
                  : null,
              ),
            ),
          ),
    ),
  );
}

/** A small line chart of speed over the run, from what this page saw (no library needed). */
function throughputChart(points: { t: number; bps: number }[]): SVGSVGElement | null {
  if (points.length < 2) return null;
  const NS = 'http://www.w3.org/2000/svg';
  const W = 300;
  const H = 60;
  const t0 = points[0]!.t;
  const span = Math.max(1, points.at(-1)!.t - t0);
  const max = Math.max(1, ...points.map((p) => p.bps));
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `Speed over the run, up to ${formatBytes(max)}/s`);
  const line = document.createElementNS(NS, 'polyline');
  line.setAttribute(
    'points',
    points
      .map(
        (p) =>
          `${(((p.t - t0) / span) * W).toFixed(1)},${(H - 2 - (p.bps / max) * (H - 4)).toFixed(1)}`,
      )
      .join(' '),
  );
  svg.append(line);
  return svg;
}

const PHASE_TEXT: Record<ProgressView['phase'], string> = {
  queued: 'Waiting to start',
  listing: 'Listing the source',
  copying: 'Copying',
  paused: 'Paused',
  finishing: 'Writing the version’s manifest',
  done: 'Finished',
};

function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** One run, live: `GET /api/runs/:id/stream` (server-sent events), falling back to polling. */
export async function runScreen(root: HTMLElement, ctx: ScreenContext): Promise<void> {
  const runId = ctx.params[0]!;
  let run = await api.runs.get(runId);
  const [task, accounts, version] = await Promise.all([
    api.tasks.get(run.taskId).catch(() => undefined),
    api.accounts.list().catch((): Account[] => []),
    run.kind === 'restore' && run.params
      ? api.versions.get(run.params.versionId).catch(() => undefined)
      : Promise.resolve<Version | undefined>(undefined),
  ]);
  if (!ctx.isCurrent()) return;
  const logCtx = { task, accounts: new Map(accounts.map((a) => [a.id, a])), version };
  const tracker = new ProgressTracker();
  let events: RunEvent[] = [];
  /** The files being copied, from the last progress event (the run's row does not hold them). */
  let inFlight: InFlightFile[] = [];

  const title = h('h1', null, runTitle(run, task));
  const bar = h('div', { class: 'bar' });
  const progress = h(
    'div',
    {
      class: 'progress',
      role: 'progressbar',
      'aria-label': 'Progress',
      'aria-valuemin': 0,
      'aria-valuemax': 100,
    },
    bar,
  );
  const phaseLine = h('p', { class: 'phase', 'data-phase': '' });
  const summary = h('p', { class: 'progress-text', 'aria-live': 'polite' });
  const chartBox = h('div', { class: 'chart-box' });
  const filesBox = h('div', { class: 'in-flight-box' });
  const facts = h('dl', { class: 'facts' });
  const head = h('p', { class: 'meta' });
  const errorBox = h('p', { class: 'error', role: 'alert', hidden: true });
  const actions = h('div', { class: 'actions' });
  const log = h('ol', { class: 'log', 'aria-label': 'Run log' });

  const draw = () => {
    const p = tracker.view(run);
    progress.dataset.status = run.status;
    progress.dataset.phase = p.phase;
    if (p.percent === null) {
      progress.removeAttribute('aria-valuenow');
      progress.setAttribute('aria-valuetext', PHASE_TEXT[p.phase]);
      progress.classList.add('indeterminate');
      bar.style.width = '';
    } else {
      progress.setAttribute('aria-valuenow', String(p.percent));
      progress.setAttribute('aria-valuetext', `${p.percent}% of the ${p.measure}`);
      progress.classList.remove('indeterminate');
      bar.style.width = `${p.percent}%`;
    }
    phaseLine.dataset.phase = p.phase;
    phaseLine.textContent =
      p.phase === 'listing'
        ? `${PHASE_TEXT.listing}: ${plural(p.filesFound, 'file')} found so far (${formatBytes(run.bytesTotal)})${run.filesUnchanged > 0 ? `, ${formatCount(run.filesUnchanged)} unchanged` : ''}`
        : PHASE_TEXT[p.phase];
    const parts: string[] = [];
    if (p.percent !== null) parts.push(`${p.percent}%`);
    if (p.bytesToCopy !== null && p.phase !== 'listing')
      parts.push(`${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesToCopy)}`);
    else parts.push(`${formatBytes(p.bytesDone)} copied`);
    parts.push(`${formatCount(p.filesDone)} of ${formatCount(p.filesToCopy)} files`);
    if (p.bytesPerSecond !== null) parts.push(`${formatBytes(p.bytesPerSecond)}/s`);
    if (p.secondsLeft !== null)
      parts.push(`about ${formatDuration(roughSeconds(p.secondsLeft) * 1000)} left`);
    summary.textContent = parts.join(' · ');
    mount(filesBox, !FINAL.has(run.status) && inFlight.length > 0 ? inFlightList(inFlight) : null);
    const chart = throughputChart(tracker.history);
    if (chart) {
      const peak = Math.max(...tracker.history.map((x) => x.bps));
      mount(
        chartBox,
        h('p', { class: 'meta' }, `Speed while you watched (up to ${formatBytes(peak)}/s)`),
        chart,
      );
    }
    const took = durationOf(run);
    mount(
      head,
      statusBadge(run.status),
      ` ${run.trigger === 'manual' ? 'Started by hand' : 'Scheduled'} · queued ${formatDate(run.createdAt)}`,
      run.finishedAt
        ? h(
            'span',
            { 'data-finished': run.finishedAt },
            ` · finished ${formatDate(run.finishedAt)}${took !== null ? `, took ${formatDuration(took)}` : ''}`,
          )
        : run.startedAt
          ? ` · started ${formatRelative(run.startedAt)}`
          : null,
    );
    mount(
      facts,
      h('dt', null, run.kind === 'restore' ? 'Written' : 'Copied'),
      h('dd', { 'data-count': 'copied' }, formatCount(run.filesCopied)),
      h('dt', null, run.kind === 'restore' ? 'Left alone (identical)' : 'Unchanged'),
      h('dd', { 'data-count': 'unchanged' }, run.filesUnchanged > 0 ? unchangedText(run) : '0'),
      run.kind === 'backup'
        ? [
            h('dt', null, 'Left out by the filter'),
            h('dd', { 'data-count': 'filtered' }, formatCount(run.filesFiltered)),
          ]
        : null,
      h('dt', null, 'Failed'),
      h('dd', { 'data-count': 'failed' }, formatCount(run.filesFailed)),
      h('dt', null, 'Retried faults'),
      h('dd', null, formatCount(run.retries)),
    );
    errorBox.hidden = !run.errorMessage;
    errorBox.textContent = run.errorMessage ?? '';
    const act = (fn: (id: string) => Promise<Run>) => async () => {
      try {
        run = await fn(run.id);
        draw();
      } catch (e) {
        errorBox.hidden = false;
        errorBox.textContent = errorText(e);
      }
    };
    mount(
      actions,
      run.status === 'running'
        ? run.phase === 'paused'
          ? h('button', { type: 'button', onclick: act(api.runs.resume) }, 'Resume run')
          : h('button', { type: 'button', onclick: act(api.runs.pause) }, 'Pause run')
        : null,
      !FINAL.has(run.status)
        ? h(
            'button',
            {
              type: 'button',
              class: 'danger-outline',
              onclick: async () => {
                try {
                  run = await api.runs.cancel(run.id);
                  draw();
                } catch (e) {
                  errorBox.hidden = false;
                  errorBox.textContent = errorText(e);
                }
              },
            },
            'Cancel run',
          )
        : null,
      h('a', { class: 'button', href: `#/tasks/${run.taskId}/versions` }, 'Versions of this task'),
      h('a', { class: 'button', href: `#/runs?task=${run.taskId}` }, 'Runs of this task'),
    );
    drawLog();
  };

  // The story's last line says how the run ended: after the file-by-file events.
  const allLines = (): LogLine[] => {
    const story = storyOf(run, logCtx);
    return [...story.slice(0, -1), ...eventLines(events), ...story.slice(-1)];
  };
  const drawLog = () =>
    mount(
      log,
      allLines().map((l) =>
        h(
          'li',
          { class: `log-${l.level}` },
          l.at ? h('time', { datetime: l.at }, new Date(l.at).toLocaleTimeString()) : null,
          l.level !== 'info'
            ? h('span', { class: 'badge' }, l.level === 'retry' ? 'retried' : l.level)
            : null,
          ' ',
          l.path ? h('code', null, l.path) : null,
          l.path ? ': ' : null,
          l.path && l.message.startsWith(`${l.path}: `)
            ? l.message.slice(l.path.length + 2)
            : l.message,
        ),
      ),
    );
  const loadLog = async () => {
    try {
      events = await api.runs.events(run.id);
      drawLog();
    } catch (e) {
      mount(log, h('li', { class: 'error' }, errorText(e)));
    }
  };
  const fileName = `run-${run.id.slice(0, 8)}-${localDayKey(new Date(run.createdAt))}`;

  mount(
    root,
    title,
    head,
    phaseLine,
    progress,
    summary,
    filesBox,
    chartBox,
    errorBox,
    facts,
    actions,
    h(
      'section',
      { 'aria-labelledby': 'log-h', class: 'log-section' },
      h(
        'div',
        { class: 'section-head' },
        h('h2', { id: 'log-h' }, 'Log'),
        h(
          'span',
          { class: 'actions' },
          h(
            'button',
            {
              type: 'button',
              onclick: () => download(`${fileName}.csv`, 'text/csv', toCsv(allLines())),
            },
            'Download log as CSV',
          ),
          h(
            'button',
            {
              type: 'button',
              onclick: () =>
                download(`${fileName}.json`, 'application/json', toJson(run, allLines())),
            },
            'Download log as JSON',
          ),
        ),
      ),
      log,
    ),
  );
  draw();
  await loadLog();

  if (FINAL.has(run.status)) return;
  let stopped = false;
  let timer: number | undefined;
  // The final event carries the run as the engine held it; the stored one has its start and
  // duration, so the page shows how long it took without a reload.
  const finish = async () => {
    stopped = true;
    try {
      run = await api.runs.get(run.id);
    } catch {
      /* keep what the event said */
    }
    if (!ctx.isCurrent()) return;
    draw();
    await loadLog();
  };
  const poll = async () => {
    if (stopped || !ctx.isCurrent()) return;
    try {
      run = await api.runs.get(run.id);
      if (FINAL.has(run.status)) return void finish();
      draw();
    } catch {
      /* keep trying */
    }
    timer = window.setTimeout(() => void poll(), 1_000);
  };
  const es = new EventSource(api.runs.streamUrl(run.id));
  const onRun = (e: MessageEvent<string>) => {
    run = JSON.parse(e.data) as Run;
    if (FINAL.has(run.status)) {
      es.close();
      void finish();
    } else draw();
  };
  for (const type of ['run', 'started', 'completed', 'failed', 'cancelled'])
    es.addEventListener(type, onRun as EventListener);
  es.addEventListener('progress', ((e: MessageEvent<string>) => {
    const { files, ...counters } = JSON.parse(e.data) as RunCounters & { files?: InFlightFile[] };
    inFlight = files ?? [];
    run = { ...run, ...counters, status: 'running' };
    // Files moving means listing is over (the phase itself comes with the next poll).
    if (inFlight.length > 0 && run.phase === 'planning') run.phase = 'transferring';
    draw();
  }) as EventListener);
  es.onerror = () => {
    // The stream ended without a final event (server restart, proxy): poll instead.
    es.close();
    if (!stopped) void poll();
  };
  // Progress events carry counters, not the phase: ask for the run's phase now and then, and
  // keep speed and time left fresh between events.
  let ticks = 0;
  const tick = window.setInterval(() => {
    if (stopped) return;
    ticks++;
    if (ticks % 2 === 0)
      void api.runs.get(run.id).then(
        (fresh) => {
          if (stopped || FINAL.has(fresh.status)) return;
          run = { ...fresh, ...pickCounters(run, fresh) };
          draw();
        },
        () => undefined,
      );
    else draw();
  }, 1_000);
  ctx.onLeave(() => {
    stopped = true;
    es.close();
    window.clearInterval(tick);
    if (timer) window.clearTimeout(timer);
  });
}

/** The files being copied now, each with its own bytes (a large file moves inside). */
function inFlightList(files: InFlightFile[]): HTMLElement {
  return h(
    'ul',
    { class: 'in-flight', 'aria-label': 'Files in flight' },
    files.map((f) => {
      const pct = f.size ? Math.min(100, Math.floor((f.bytes / f.size) * 100)) : null;
      // Through the CSSOM: the page's CSP refuses style attributes.
      const fill = h('span');
      fill.style.width = `${pct ?? 0}%`;
      return h(
        'li',
        { 'data-path': f.path },
        h('code', null, f.path),
        h(
          'span',
          { class: 'meta' },
          f.size !== null
            ? `${formatBytes(f.bytes)} of ${formatBytes(f.size)}`
            : `${formatBytes(f.bytes)} copied`,
        ),
        pct !== null ? h('span', { class: 'file-bar', 'aria-hidden': 'true' }, fill) : null,
      );
    }),
  );
}

/** The newer of two views of the counters (an event may be fresher than the stored row). */
function pickCounters(a: Run, b: Run): RunCounters {
  const n = a.bytesCopied + a.filesTotal >= b.bytesCopied + b.filesTotal ? a : b;
  return {
    filesTotal: n.filesTotal,
    filesCopied: n.filesCopied,
    filesUnchanged: n.filesUnchanged,
    filesFiltered: n.filesFiltered,
    filesFailed: n.filesFailed,
    bytesTotal: n.bytesTotal,
    bytesCopied: n.bytesCopied,
    bytesUnchanged: n.bytesUnchanged,
    retries: n.retries,
  };
}
