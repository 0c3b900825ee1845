import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  api,
  buildEngine,
  localToLocalTask,
  startEngine,
  type EngineProcess,
} from '../support/engine-process.js';
import { hashTree, patternBytes, sha256, writeTree } from '../support/files.js';

interface Run {
  id: string;
  status: string;
  filesCopied: number;
  filesUnchanged: number;
  filesTotal: number;
  errorMessage: string | null;
}
interface Version {
  id: string;
  seq: number;
  status: string;
  fileCount: number;
}

// Enough data that the run is still going when the first batch of records reaches the ledger
// (after a durability barrier, due a second in or once 192 MiB are stored, whichever is first:
// backup-records.ts). The files go to the local target in groups (issue #21: a group of small
// files or photos is one job of the file worker); 1,500 files of 270 KB are 405 MB, so the
// first batch of records holds about half of them and the kill finds the rest to resume.
const FILES = 1500;

describe('an engine killed with SIGKILL in the middle of a run', () => {
  let dir: string;
  let engine: EngineProcess | undefined;
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < FILES; i++)
    files[`f${String(i).padStart(3, '0')}.bin`] = patternBytes(270_000 + i, i + 1);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cbe-kill-'));
    await Promise.all([buildEngine(), writeTree(join(dir, 'src'), files)]);
    await mkdir(join(dir, 'dst')); // a local account's folder must exist
  });

  afterAll(async () => {
    await engine?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('should leave no complete version behind, and the next run finishes without copying what was recorded', async () => {
    const env = { DATA_DIR: join(dir, 'data'), BACKUP_CONCURRENCY: '1' };
    engine = await startEngine(env);
    const base = engine.baseUrl;
    const made = await localToLocalTask(base, dir);
    const task = { id: made.taskId };
    const dst = { id: made.targetAccountId };
    const first = await api<Run>(base, 'POST', `/api/tasks/${task.id}/run`);

    // Kill it hard once it has recorded part of the files (issue #21: a batch of records
    // reaches the ledger after the target's durability barrier, about once a second).
    for (;;) {
      const r = await api<Run>(base, 'GET', `/api/runs/${first.id}`);
      if (r.status !== 'queued' && r.status !== 'running')
        throw new Error(`run ended before the kill: ${JSON.stringify(r)}`);
      const v = (await api<Version[]>(base, 'GET', `/api/tasks/${task.id}/versions`))[0];
      const some = v
        ? (await api<{ files: unknown[] }>(base, 'GET', `/api/versions/${v.id}/files?limit=1`))
            .files.length
        : 0;
      if (some >= 1) break;
      await new Promise((res) => setTimeout(res, 10));
    }
    await engine.kill('SIGKILL');

    engine = await startEngine(env);
    // Issue 18, item 6: the embedded engine resumes the interrupted run at start-up, as a
    // cluster worker does; what the ledger recorded before the kill is reused, not copied again.
    let done: Run;
    for (;;) {
      done = await api<Run>(engine.baseUrl, 'GET', `/api/runs/${first.id}`);
      if (done.status !== 'queued' && done.status !== 'running') break;
      await new Promise((res) => setTimeout(res, 50));
    }
    const log = await api<Array<{ message: string }>>(
      engine.baseUrl,
      'GET',
      `/api/runs/${first.id}/events?level=warning`,
    );
    expect(log.map((e) => e.message)).toContain(
      'interrupted: the engine stopped during this run; resumed at start-up, reusing what it stored',
    );
    const partialFiles = (
      await api<Version[]>(engine.baseUrl, 'GET', `/api/tasks/${task.id}/versions`)
    ).find((v) => v.seq === 1)!;
    const recorded = (
      await api<{ files: unknown[] }>(
        engine.baseUrl,
        'GET',
        `/api/versions/${partialFiles.id}/files?limit=5000`,
      )
    ).files.length;
    expect(recorded).toBeGreaterThan(0);
    expect(recorded).toBeLessThan(FILES);
    expect(done).toMatchObject({
      status: 'completed',
      filesTotal: FILES,
      filesUnchanged: recorded,
      filesCopied: FILES - recorded,
    });

    const final = await api<Version[]>(engine.baseUrl, 'GET', `/api/tasks/${task.id}/versions`);
    expect(final.map((v) => [v.seq, v.status, v.fileCount])).toEqual([
      [2, 'complete', FILES],
      [1, 'partial', 0],
    ]);
    const restore = await api<Run>(
      engine.baseUrl,
      'POST',
      `/api/versions/${final[0]!.id}/restore`,
      {
        destination: { accountId: dst.id, path: 'restored' },
      },
    );
    for (;;) {
      const r = await api<Run>(engine.baseUrl, 'GET', `/api/runs/${restore.id}`);
      if (r.status === 'completed') break;
      if (r.status !== 'queued' && r.status !== 'running')
        throw new Error(`restore ${r.status}: ${r.errorMessage}`);
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(await hashTree(join(dir, 'dst', 'restored'))).toEqual(
      Object.fromEntries(Object.entries(files).map(([p, b]) => [p, sha256(b)])),
    );
  });
});
