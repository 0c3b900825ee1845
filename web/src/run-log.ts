import type { Account, Run, RunEvent, Task, Version } from './api.js';
import { formatBytes, formatCount, formatDate, formatDuration, plural } from './format.js';

/**
 * A run's story in plain lines (what was listed, unchanged, copied, left out, deleted, failed and
 * why; for a restore, which version went where), and the same as JSON or CSV to download.
 */

export interface LogLine {
  at: string | null;
  level: 'info' | 'warning' | 'error' | 'retry';
  path: string | null;
  message: string;
}

const CONFLICT_WORDS: Record<string, string> = {
  'skip-identical': 'files already there with the same content were left alone',
  overwrite: 'files already there were replaced',
  'keep-both': 'files already there with other content were kept, the restored copy renamed',
};

export interface RunContext {
  task?: Task;
  accounts: Map<string, Account>;
  version?: Version;
}

function where(ctx: RunContext, accountId: string, path: string): string {
  const name = ctx.accounts.get(accountId)?.name ?? 'an account that was removed';
  return `${name} › ${path === '' ? '(top folder)' : path}`;
}

/** "12 files, 3.4 MB": the unchanged files, and their bytes when the server counted them. */
export function unchangedText(run: Run): string {
  const files = plural(run.filesUnchanged, 'file');
  return run.bytesUnchanged && run.bytesUnchanged > 0
    ? `${files}, ${formatBytes(run.bytesUnchanged)}`
    : files;
}

/** The summary lines a run's counters tell, before its own events. */
export function storyOf(run: Run, ctx: RunContext): LogLine[] {
  const lines: LogLine[] = [];
  const add = (message: string, level: LogLine['level'] = 'info', at: string | null = null) =>
    lines.push({ at, level, path: null, message });
  add(
    `${run.trigger === 'manual' ? 'Started by hand' : run.trigger === 'catch-up' ? 'Started to catch up a missed slot' : 'Started by the schedule'}; queued ${formatDate(run.createdAt)}.`,
    'info',
    run.createdAt,
  );
  if (run.kind === 'restore' && run.params) {
    const v = ctx.version;
    const what =
      run.params.paths.length === 0
        ? 'the whole version'
        : run.params.paths.length <= 3
          ? run.params.paths.join(', ')
          : plural(run.params.paths.length, 'file or folder', 'files and folders');
    const dest = run.params.destination
      ? where(ctx, run.params.destination.accountId, run.params.destination.path)
      : 'where it came from';
    add(
      `Restore of ${what} from version ${v ? `${v.seq} (${formatDate(v.completedAt ?? v.createdAt)})` : '(removed)'} to ${dest}.`,
    );
    add(
      `When a file was already there: ${CONFLICT_WORDS[run.params.conflict] ?? run.params.conflict}.`,
    );
    add(`${plural(run.filesTotal, 'file')} to restore (${formatBytes(run.bytesTotal)}).`);
    if (run.filesCopied > 0)
      add(`Wrote ${plural(run.filesCopied, 'file')} (${formatBytes(run.bytesCopied)}).`);
    if (run.filesUnchanged > 0) add(`Left ${plural(run.filesUnchanged, 'identical file')} alone.`);
  } else if (run.kind === 'backup') {
    add(
      `Listed ${plural(run.filesTotal + run.filesFiltered, 'file')} at the source${run.filesFiltered > 0 ? `; ${formatCount(run.filesFiltered)} left out by the filter` : ''}; ${formatBytes(run.bytesTotal)} to protect.`,
    );
    if (run.filesUnchanged > 0) add(`Unchanged ${unchangedText(run)}: not copied again.`);
    add(
      `Copied ${plural(run.filesCopied, 'new or changed file')} (${formatBytes(run.bytesCopied)}).`,
    );
  } else {
    add(`${plural(run.filesCopied, 'item')} processed.`);
  }
  if (run.filesFailed > 0)
    add(`${plural(run.filesFailed, 'file')} could not be copied: the reasons are below.`, 'error');
  if (run.retries > 0) add(`${plural(run.retries, 'fault')} retried along the way.`, 'retry');
  const end = run.finishedAt;
  switch (run.status) {
    case 'completed':
      add(
        run.kind === 'backup'
          ? `Completed ${formatDate(end)}${run.durationMs !== null ? ` in ${formatDuration(run.durationMs)}` : ''}: the new version is complete.`
          : `Completed ${formatDate(end)}${run.durationMs !== null ? ` in ${formatDuration(run.durationMs)}` : ''}.`,
        'info',
        end,
      );
      break;
    case 'failed':
      add(`Failed ${formatDate(end)}: ${run.errorMessage ?? 'no reason given'}`, 'error', end);
      break;
    case 'cancelled':
      add(`Cancelled ${formatDate(end)}: ${run.errorMessage ?? ''}`.trim(), 'warning', end);
      break;
    case 'warning':
      add(
        `Completed with warnings ${formatDate(end)}: ${run.errorMessage ?? 'some files were skipped; see the lines below'}`,
        'warning',
        end,
      );
      break;
    case 'offline':
      add(
        `Stopped ${formatDate(end)}, nothing written: ${run.errorMessage ?? 'the source or target is offline'}`,
        'error',
        end,
      );
      break;
    case 'skipped':
      add('Skipped: the previous run of this task was still going.', 'warning', end);
      break;
    default:
      add(run.status === 'queued' ? 'Waiting for a free worker.' : 'Still running.');
  }
  return lines;
}

export function eventLines(events: RunEvent[]): LogLine[] {
  return events.map((e) => ({ at: e.at, level: e.level, path: e.path, message: e.message }));
}

function csvCell(v: string | null): string {
  const s = v ?? '';
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(lines: LogLine[]): string {
  const rows = [['time', 'level', 'path', 'message'].join(',')];
  for (const l of lines)
    rows.push([l.at, l.level, l.path, l.message].map((v) => csvCell(v)).join(','));
  return rows.join('\r\n') + '\r\n';
}

export function toJson(run: Run, lines: LogLine[]): string {
  return JSON.stringify({ run, log: lines }, null, 2) + '\n';
}
