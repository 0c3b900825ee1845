import { api, type Run, type RunCounters, type RunEvent, type Task } from '../api.js';
import { h, mount } from '../dom.js';
import { errorText } from '../forms.js';
import { formatBytes, formatDate, formatDuration } from '../format.js';
import type { ScreenContext } from '../screen.js';

const FINAL = new Set(['completed', 'warning', 'failed', 'offline', 'cancelled', 'skipped']);
const KIND_LABELS: Record<Run['kind'], string> = {
  backup: 'Backup',
  restore: 'Restore',
  prune: 'Clean-up',
};

function runTitle(run: Run, task: Task | undefined): string {
  return `${KIND_LABELS[run.kind] ?? run.kind} of “${task?.name ?? 'a deleted task'}”`;
}

function durationOf(run: Run): number | null {
  if (run.durationMs !== null && run.durationMs !== undefined) return run.durationMs;
  if (!run.startedAt || !run.finishedAt) return null;
  return new Date(run.finishedAt).getTime() - new Date(run.startedAt).getTime();
}

function statusBadge(status: string): HTMLElement {
  return h('span', { class: `badge run-${status}` }, status);
}

export async function runsScreen(root: HTMLElement, ctx: ScreenContext): Promise<void> {
  const [runs, tasks] = await Promise.all([api.runs.list(), api.tasks.list()]);
  if (!ctx.isCurrent()) return;
  const byId = new Map(tasks.map((t) => [t.id, t]));
  mount(
    root,
    h('h1', null, 'Runs'),
    h(
      'ul',
      { class: 'cards', 'aria-label': 'Runs' },
      runs.length === 0
        ? h('li', { class: 'empty' }, 'No runs yet.')
        : runs.map((r) =>
            h(
              'li',
              { class: 'card', 'data-run': r.id },
              h('h3', null, h('a', { href: `#/runs/${r.id}` }, runTitle(r, byId.get(r.taskId)))),
              h(
                'p',
                { class: 'meta' },
                statusBadge(r.status),
                ` ${formatDate(r.createdAt)} · ${r.trigger} · ${r.filesCopied} of ${r.filesTotal} files copied · ${formatBytes(r.bytesCopied)} · ${formatDuration(durationOf(r))}`,
              ),
            ),
          ),
    ),
  );
}

/** Progress as the page shows it: files done of total; bytes copied; speed; time left. */
export interface ProgressView {
  percent: number;
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  bytesPerSecond: number | null;
  secondsLeft: number | null;
}

export class ProgressTracker {
  private samples: { t: number; bytes: number }[] = [];

  view(run: Run, now = Date.now()): ProgressView {
    const filesDone = run.filesCopied + run.filesUnchanged + run.filesFailed;
    const done = FINAL.has(run.status);
    let percent = run.filesTotal > 0 ? (filesDone / run.filesTotal) * 100 : done ? 100 : 0;
    if (run.status === 'completed') percent = 100;
    this.samples.push({ t: now, bytes: run.bytesCopied });
    this.samples = this.samples.filter((s) => now - s.t <= 5_000);
    const first = this.samples[0]!;
    const span = (now - first.t) / 1000;
    const bytesPerSecond = !done && span >= 0.5 ? (run.bytesCopied - first.bytes) / span : null;
    let secondsLeft: number | null = null;
    if (!done && bytesPerSecond && bytesPerSecond > 0 && run.filesUnchanged === 0) {
      secondsLeft = Math.max(0, run.bytesTotal - run.bytesCopied) / bytesPerSecond;
    } else if (!done && run.startedAt && percent > 0 && percent < 100) {
      const elapsed = (now - new Date(run.startedAt).getTime()) / 1000;
      secondsLeft = (elapsed * (100 - percent)) / percent;
    }
    return {
      percent: Math.min(100, Math.max(0, Math.round(percent))),
      filesDone,
      filesTotal: run.filesTotal,
      bytesDone: run.bytesCopied,
      bytesTotal: run.bytesTotal,
      bytesPerSecond,
      secondsLeft,
    };
  }
}

/** One run, live: `GET /api/runs/:id/stream` (server-sent events), falling back to polling. */
export async function runScreen(root: HTMLElement, ctx: ScreenContext): Promise<void> {
  const runId = ctx.params[0]!;
  let run = await api.runs.get(runId);
  const task = await api.tasks.get(run.taskId).catch(() => undefined);
  if (!ctx.isCurrent()) return;
  const tracker = new ProgressTracker();

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
      'aria-valuenow': 0,
    },
    bar,
  );
  const summary = h('p', { class: 'progress-text', 'aria-live': 'polite' });
  const facts = h('dl', { class: 'facts' });
  const head = h('p', { class: 'meta' });
  const errorBox = h('p', { class: 'error', role: 'alert', hidden: true });
  const actions = h('div', { class: 'actions' });
  const log = h('ol', { class: 'log', 'aria-label': 'Run log' });

  const draw = () => {
    const p = tracker.view(run);
    progress.setAttribute('aria-valuenow', String(p.percent));
    progress.setAttribute('aria-valuetext', `${p.percent}%`);
    progress.dataset.status = run.status;
    bar.style.width = `${p.percent}%`;
    const parts = [
      `${p.percent}%`,
      `${p.filesDone} of ${p.filesTotal} files`,
      `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`,
    ];
    if (p.bytesPerSecond !== null) parts.push(`${formatBytes(p.bytesPerSecond)}/s`);
    if (p.secondsLeft !== null) parts.push(`about ${formatDuration(p.secondsLeft * 1000)} left`);
    summary.textContent = parts.join(' · ');
    mount(
      head,
      statusBadge(run.status),
      ` ${run.trigger} · queued ${formatDate(run.createdAt)}`,
      run.finishedAt
        ? ` · finished ${formatDate(run.finishedAt)} (${formatDuration(durationOf(run))})`
        : null,
    );
    mount(
      facts,
      h('dt', null, 'Copied'),
      h('dd', { 'data-count': 'copied' }, String(run.filesCopied)),
      h('dt', null, run.kind === 'restore' ? 'Skipped (identical)' : 'Unchanged'),
      h('dd', { 'data-count': 'unchanged' }, String(run.filesUnchanged)),
      run.kind === 'backup'
        ? [
            h('dt', null, 'Left out by the filter'),
            h('dd', { 'data-count': 'filtered' }, String(run.filesFiltered)),
          ]
        : null,
      h('dt', null, 'Failed'),
      h('dd', { 'data-count': 'failed' }, String(run.filesFailed)),
      h('dt', null, 'Retried faults'),
      h('dd', null, String(run.retries)),
    );
    errorBox.hidden = !run.errorMessage;
    errorBox.textContent = run.errorMessage ?? '';
    mount(
      actions,
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
      h('a', { class: 'button', href: '#/runs' }, 'All runs'),
    );
  };

  const drawLog = (events: RunEvent[]) =>
    mount(
      log,
      events.length === 0
        ? h('li', { class: 'empty' }, 'Nothing to report.')
        : events.map((e) =>
            h(
              'li',
              { class: `log-${e.level}` },
              h('span', { class: 'badge' }, e.level),
              ' ',
              e.path ? h('code', null, e.path) : null,
              e.path ? ': ' : null,
              e.message,
            ),
          ),
    );
  const loadLog = async () => {
    try {
      drawLog(await api.runs.events(run.id));
    } catch (e) {
      mount(log, h('li', { class: 'error' }, errorText(e)));
    }
  };

  mount(
    root,
    title,
    head,
    progress,
    summary,
    errorBox,
    facts,
    actions,
    h('section', { 'aria-labelledby': 'log-h' }, h('h2', { id: 'log-h' }, 'Log'), log),
  );
  draw();
  await loadLog();

  if (FINAL.has(run.status)) return;
  let stopped = false;
  let timer: number | undefined;
  const finish = () => {
    stopped = true;
    draw();
    void loadLog();
  };
  const poll = async () => {
    if (stopped || !ctx.isCurrent()) return;
    try {
      run = await api.runs.get(run.id);
      if (FINAL.has(run.status)) return finish();
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
      finish();
    } else draw();
  };
  for (const type of ['run', 'started', 'completed', 'failed', 'cancelled'])
    es.addEventListener(type, onRun as EventListener);
  es.addEventListener('progress', ((e: MessageEvent<string>) => {
    run = { ...run, ...(JSON.parse(e.data) as RunCounters), status: 'running' };
    draw();
  }) as EventListener);
  es.onerror = () => {
    // The stream ended without a final event (server restart, proxy): poll instead.
    es.close();
    if (!stopped) void poll();
  };
  // Keep speed and time left fresh between events.
  const tick = window.setInterval(() => !stopped && draw(), 1_000);
  ctx.onLeave(() => {
    stopped = true;
    es.close();
    window.clearInterval(tick);
    if (timer) window.clearTimeout(timer);
  });
}
