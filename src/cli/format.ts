/** Text output of `cbe`: sizes, durations, tables and the run progress line. */

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Columns padded to their widest cell; values are shown as given. */
export function formatTable(headers: string[], rows: Array<Array<string | number | null>>): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return (
    cells
      .map((r) =>
        r
          .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

export interface ProgressSample {
  bytesCopied: number;
  bytesTotal: number;
  filesCopied: number;
  filesUnchanged: number;
  filesFailed: number;
  filesTotal: number;
  phase: string;
}

/**
 * `[########------------]  41%  1.02 GiB / 2.50 GiB  12.3 MiB/s  2m03s left  files 120/300`.
 * Speed is over the last samples (`speedBps`); time left is what remains at that speed.
 */
export function formatProgress(p: ProgressSample, speedBps: number, width = 24): string {
  const fraction = p.bytesTotal > 0 ? Math.min(1, p.bytesCopied / p.bytesTotal) : 0;
  const filled = Math.round(fraction * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  const pct = `${Math.floor(fraction * 100)}%`.padStart(4);
  const bytes =
    p.bytesTotal > 0
      ? `${formatBytes(p.bytesCopied)} / ${formatBytes(p.bytesTotal)}`
      : formatBytes(p.bytesCopied);
  const speed = `${formatBytes(Math.round(speedBps))}/s`;
  const left =
    speedBps > 0 && p.bytesTotal > p.bytesCopied
      ? `${formatDuration(((p.bytesTotal - p.bytesCopied) / speedBps) * 1000)} left`
      : p.phase;
  const done = p.filesCopied + p.filesUnchanged + p.filesFailed;
  const files = `files ${done}/${p.filesTotal || '?'}${p.filesFailed ? ` (${p.filesFailed} failed)` : ''}`;
  return `${bar} ${pct}  ${bytes}  ${speed}  ${left}  ${files}`;
}
