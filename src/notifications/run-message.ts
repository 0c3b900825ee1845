import type { RunEventEntity } from '../backup/entities/run-error.entity.js';
import type { RunEntity } from '../backup/entities/run.entity.js';
import type { MailMessage } from './mailer.js';

export interface RunSummary {
  taskId: string;
  taskName: string;
  runId: string;
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
  errors: Array<{ path: string | null; message: string }>;
  url: string;
}

export function summarizeRun(
  run: RunEntity,
  taskName: string,
  errors: RunEventEntity[],
  publicUrl: string,
): RunSummary {
  const started = run.startedAt ?? null;
  const finished = run.finishedAt ?? null;
  return {
    taskId: run.taskId,
    taskName,
    runId: run.id,
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
    errors: errors.map((e) => ({ path: e.path, message: e.message })),
    url: `${publicUrl}/#/runs/${run.id}`,
  };
}

/** The mail about one finished run: a plain-text and an HTML part with the same facts. */
export function runMessage(s: RunSummary, to: string[]): MailMessage {
  const outcome =
    s.status === 'warning'
      ? 'completed with WARNINGS'
      : s.status === 'offline'
        ? 'OFFLINE, nothing written'
        : s.succeeded
          ? 'completed'
          : 'FAILED';
  const subject = `Backup "${s.taskName}" ${outcome}`;
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
    ['Failed', `${s.filesFailed} file(s)`],
    ['Duration', s.durationMs === null ? '-' : formatDuration(s.durationMs)],
    ['Finished', s.finishedAt ?? '-'],
  ];
  const errorLines = s.errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message));
  const text = [
    `Backup "${s.taskName}" ${s.succeeded ? 'completed' : 'failed'}.`,
    '',
    ...facts.map(([k, v]) => `${k}: ${v}`),
    ...(errorLines.length > 0 ? ['', 'First errors:', ...errorLines.map((l) => `- ${l}`)] : []),
    '',
    `Run details: ${s.url}`,
    '',
  ].join('\n');
  const html = [
    `<p>Backup <b>${esc(s.taskName)}</b> ${s.succeeded ? 'completed' : '<b style="color:#b00">failed</b>'}.</p>`,
    '<table>',
    ...facts.map(([k, v]) => `<tr><th align="left">${esc(k)}</th><td>${esc(v)}</td></tr>`),
    '</table>',
    ...(errorLines.length > 0
      ? ['<p>First errors:</p><ul>', ...errorLines.map((l) => `<li>${esc(l)}</li>`), '</ul>']
      : []),
    `<p><a href="${esc(s.url)}">Run details</a></p>`,
  ].join('\n');
  return { to, subject, text, html };
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
