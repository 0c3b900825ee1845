import type { RunEntity } from '../tasks/entities/run.entity.js';
import type { RunFinishedEvent } from '../runs/run-events.js';
import type { MailMessage } from './mailer.js';

export interface RunSummary {
  taskId: string;
  taskName: string;
  runId: string;
  kind: RunEntity['kind'];
  status: RunEntity['status'];
  trigger: RunEntity['trigger'];
  succeeded: boolean;
  errorMessage: string | null;
  filesCopied: number;
  bytesCopied: number;
  filesUnchanged: number;
  filesFailed: number;
  filesFiltered: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  versionId: string | null;
  errors: Array<{ path: string | null; message: string }>;
  /** The version the run committed is held by the deletion guard, and how to decide on it. */
  held: {
    versionId: string;
    reason: string;
    deleted: number;
    changed: number;
    previousFileCount: number;
    reviewUrl: string;
    approveUrl: string;
    discardUrl: string;
  } | null;
  url: string;
}

/** Everything from the final run event; nothing is read from the database. */
export function summarizeRun(
  run: RunFinishedEvent,
  taskName: string,
  publicUrl: string,
): RunSummary {
  const started = run.startedAt ?? null;
  const finished = run.finishedAt ?? null;
  const held = run.held ?? null;
  return {
    taskId: run.taskId,
    taskName,
    runId: run.id,
    kind: run.kind,
    status: run.status,
    trigger: run.trigger,
    succeeded: run.status === 'completed' || run.status === 'warning',
    errorMessage: run.errorMessage,
    filesCopied: run.filesCopied,
    bytesCopied: run.bytesCopied,
    filesUnchanged: run.filesUnchanged,
    filesFailed: run.filesFailed,
    filesFiltered: run.filesFiltered,
    startedAt: started ? new Date(started).toISOString() : null,
    finishedAt: finished ? new Date(finished).toISOString() : null,
    durationMs:
      started && finished ? new Date(finished).getTime() - new Date(started).getTime() : null,
    versionId: run.versionId ?? null,
    errors: (run.firstErrors ?? []).map((e) => ({ path: e.path, message: e.message })),
    held: held
      ? {
          ...held,
          reviewUrl: `${publicUrl}/#/tasks/${run.taskId}/versions`,
          approveUrl: `${publicUrl}/api/versions/${held.versionId}/approve`,
          discardUrl: `${publicUrl}/api/versions/${held.versionId}/discard`,
        }
      : null,
    url: `${publicUrl}/#/runs/${run.id}`,
  };
}

const KIND_NAME: Record<RunEntity['kind'], string> = {
  backup: 'Backup',
  restore: 'Restore',
  prune: 'Prune',
  verify: 'Verify',
};

/**
 * The mail about one finished run: a plain-text and an HTML part with the same facts. Each
 * outcome says what the owner must know: an offline run names what is missing and that nothing
 * was written; a held version says what it would delete, that nothing was pruned, and how to
 * approve or discard it; a run with warnings lists the files it skipped and why.
 */
export function runMessage(s: RunSummary, to: string[]): MailMessage {
  const kind = KIND_NAME[s.kind] ?? 'Backup';
  const outcome = s.held
    ? 'completed, version HELD for approval'
    : s.status === 'warning'
      ? 'completed with WARNINGS'
      : s.status === 'offline'
        ? 'OFFLINE, nothing written'
        : s.succeeded
          ? 'completed'
          : 'FAILED';
  const subject = `${kind} "${s.taskName}" ${outcome}`;
  const facts: Array<[string, string]> = [
    ['Task', s.taskName],
    [
      'Result',
      s.status === 'warning'
        ? `completed with warnings: ${s.errorMessage ?? 'see the run log'}`
        : s.status === 'offline'
          ? `offline: ${s.errorMessage ?? 'the source or target is missing'}`
          : s.succeeded
            ? 'completed'
            : `failed: ${s.errorMessage ?? 'unknown error'}`,
    ],
    ['Started by', s.trigger],
    ['Copied', `${s.filesCopied} file(s), ${formatBytes(s.bytesCopied)}`],
    ['Unchanged', `${s.filesUnchanged} file(s)`],
    [s.status === 'warning' ? 'Skipped' : 'Failed', `${s.filesFailed} file(s)`],
    ['Duration', s.durationMs === null ? '-' : formatDuration(s.durationMs)],
    ['Finished', s.finishedAt ?? '-'],
  ];
  // Paragraphs of plain sentences, the same in both parts.
  const notes: string[] = [];
  if (s.status === 'offline') {
    notes.push(
      `Nothing was written: no new version, no file copied, and every earlier version is kept as it was. ` +
        `Reconnect or mount what is missing (an unplugged drive, a moved or deleted folder, a signed-out account); the next run continues from there.`,
    );
  }
  if (s.held) {
    const h = s.held;
    const changed = h.changed > 0 ? ` and change ${h.changed}` : '';
    notes.push(
      `The new version is HELD: it would delete ${h.deleted} of the ${h.previousFileCount} files of the last complete version${changed}. ` +
        `Why: ${h.reason}${/[.?!]$/.test(h.reason) ? '' : '.'}`,
      `Nothing was pruned: while the version is held, retention deletes no older version, and it does not count as a kept version. Its files are stored.`,
      `If the change is intended, approve the version; if the source was emptied or replaced by mistake, discard it. ` +
        `In the web app: ${h.reviewUrl} (Versions of the task). With the API: POST ${h.approveUrl} or POST ${h.discardUrl}.`,
    );
  }
  const errorLines = s.errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message));
  const errorTitle =
    s.status === 'warning'
      ? `Skipped files (not in this version; the next run tries them again)${s.filesFailed > errorLines.length ? `, first ${errorLines.length} of ${s.filesFailed}` : ''}:`
      : 'First errors:';
  const text = [
    `${kind} "${s.taskName}" ${outcome}.`,
    '',
    ...facts.map(([k, v]) => `${k}: ${v}`),
    ...notes.flatMap((n) => ['', n]),
    ...(errorLines.length > 0 ? ['', errorTitle, ...errorLines.map((l) => `- ${l}`)] : []),
    '',
    `Run details: ${s.url}`,
    '',
  ].join('\n');
  const alarming = !s.succeeded || s.status === 'warning';
  const html = [
    `<p>${esc(kind)} <b>${esc(s.taskName)}</b> ${alarming ? `<b style="color:#b00">${esc(outcome)}</b>` : esc(outcome)}.</p>`,
    '<table>',
    ...facts.map(([k, v]) => `<tr><th align="left">${esc(k)}</th><td>${esc(v)}</td></tr>`),
    '</table>',
    ...notes.map((n) => `<p>${linkify(n)}</p>`),
    ...(errorLines.length > 0
      ? [`<p>${esc(errorTitle)}</p><ul>`, ...errorLines.map((l) => `<li>${esc(l)}</li>`), '</ul>']
      : []),
    `<p><a href="${esc(s.url)}">Run details</a></p>`,
  ].join('\n');
  return { to, subject, text, html };
}

/** Escapes a sentence and makes its web-app address (not the POST ones) a link. */
function linkify(sentence: string): string {
  return esc(sentence).replace(
    /(https?:\/\/[^\s]+\/#\/[^\s]+?)(?=[\s)]|$)/g,
    (url) => `<a href="${url}">${url}</a>`,
  );
}

export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[i]} (${n} bytes)`;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function esc(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
