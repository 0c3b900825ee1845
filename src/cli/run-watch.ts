import type { ApiClient } from './api-client.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { formatBytes, formatDuration, formatProgress, type ProgressSample } from './format.js';

export interface RunView extends ProgressSample {
  id: string;
  taskId: string;
  kind: string;
  trigger: string;
  status: string;
  retries: number;
  versionId: string | null;
  errorMessage: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
}

const FINISHED = new Set(['completed', 'warning', 'failed', 'offline', 'cancelled', 'skipped']);

export interface WatchOutput {
  write(text: string): void;
  isTTY: boolean;
}

/** What a finished run means for a script. */
export function exitCodeOfRun(run: RunView): ExitCode {
  if (run.status === 'failed' || run.status === 'offline') return EXIT.failed;
  if (run.status === 'warning') return EXIT.warnings;
  if (run.status === 'cancelled') return EXIT.cancelled;
  return EXIT.ok;
}

/**
 * Follows a run until it ends: a live progress line in a terminal (redrawn in place), a plain
 * line every few seconds otherwise, nothing but the final run with --json.
 */
export async function watchRun(
  api: ApiClient,
  runId: string,
  out: WatchOutput,
  opts: { json: boolean; intervalMs?: number; sleep?: (ms: number) => Promise<void> },
): Promise<RunView> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const interval = opts.intervalMs ?? 500;
  const samples: Array<{ t: number; bytes: number }> = [];
  let lastPlain = 0;
  for (;;) {
    const run = await api.get<RunView>(`/api/runs/${encodeURIComponent(runId)}`);
    const now = Date.now();
    samples.push({ t: now, bytes: run.bytesCopied });
    while (samples.length > 1 && now - samples[0]!.t > 10_000) samples.shift();
    const first = samples[0]!;
    const speed = now > first.t ? ((run.bytesCopied - first.bytes) * 1000) / (now - first.t) : 0;
    const done = FINISHED.has(run.status);
    if (!opts.json) {
      if (out.isTTY) out.write(`\r\x1b[2K${formatProgress(run, speed)}`);
      else if (done || now - lastPlain >= 5_000) {
        out.write(`${formatProgress(run, speed)}\n`);
        lastPlain = now;
      }
    }
    if (done) {
      if (!opts.json) {
        if (out.isTTY) out.write('\n');
        out.write(summarizeRun(run));
      }
      return run;
    }
    await sleep(interval);
  }
}

export function summarizeRun(run: RunView): string {
  const duration = run.durationMs === null ? '' : ` in ${formatDuration(run.durationMs)}`;
  const lines = [
    `run ${run.id} ${run.status}${duration}: ${run.filesCopied} files copied (${formatBytes(run.bytesCopied)}), ${run.filesUnchanged} unchanged, ${run.filesFailed} failed, ${run.retries} retries`,
  ];
  if (run.versionId) lines.push(`version ${run.versionId}`);
  if (run.errorMessage) lines.push(`error: ${run.errorMessage}`);
  return lines.join('\n') + '\n';
}
