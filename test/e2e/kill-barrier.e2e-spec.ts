/**
 * Issue #21: files written to a local folder without their own fsync are recorded in the ledger
 * (where a later run reuses them) only after a durability barrier covered them. Here the barrier
 * never ends: `sync` on the engine's PATH is a script that notes it was called and then hangs, so
 * the run has written files that no barrier covered when the engine is killed with SIGKILL (as a
 * power cut would stop it, minus the lost page cache). After the restart nothing of them may be
 * reused: every file is copied again.
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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
  storageFolder: string;
}

const FILES = 300;

async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 1200; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('an engine killed while a durability barrier has not covered its files', () => {
  let dir: string;
  let engine: EngineProcess | undefined;
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < FILES; i++)
    files[`d${i % 3}/f${String(i).padStart(3, '0')}.bin`] = patternBytes(4_000 + i * 10, i + 1);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cbe-kill-barrier-'));
    await Promise.all([buildEngine(), writeTree(join(dir, 'src'), files)]);
    await mkdir(join(dir, 'dst'));
    await mkdir(join(dir, 'bin'));
    // The barrier's `sync -f`: says it was reached (with its pid, to end it later) and hangs.
    await writeFile(
      join(dir, 'bin', 'sync'),
      `#!/bin/sh\necho $$ >> '${join(dir, 'sync-called')}'\nexec sleep 300\n`,
    );
    await chmod(join(dir, 'bin', 'sync'), 0o755);
  });

  afterAll(async () => {
    await engine?.kill('SIGKILL');
    const pids = await readFile(join(dir, 'sync-called'), 'utf8').catch(() => '');
    for (const pid of pids.split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('should record no file its barrier did not cover, and copy them all again after the restart', async () => {
    const env = { DATA_DIR: join(dir, 'data') };
    engine = await startEngine({ ...env, PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}` });
    const base = engine.baseUrl;
    const task = { id: (await localToLocalTask(base, dir)).taskId };
    const first = await api<Run>(base, 'POST', `/api/tasks/${task.id}/run`);

    // Every file is written, and the run waits on the barrier (it never ends) before it records
    // them and commits.
    await until('the barrier', () =>
      readFile(join(dir, 'sync-called'), 'utf8').then(
        () => true,
        () => undefined,
      ),
    );
    const v1 = (await api<Version[]>(base, 'GET', `/api/tasks/${task.id}/versions`))[0]!;
    const onTarget = async () =>
      (
        await Promise.all(
          ['d0', 'd1', 'd2'].map((d) =>
            readdir(join(dir, 'dst', v1.storageFolder, d)).catch(() => [] as string[]),
          ),
        )
      )
        .flat()
        .filter((n) => n.endsWith('.bin')).length;
    // Every file on the target under its final name, while the run still waits on the barrier.
    await until('every file written', async () =>
      (await onTarget()) === FILES ? true : undefined,
    );
    const r = await api<Run>(base, 'GET', `/api/runs/${first.id}`);
    expect(r.status).toBe('running');
    await engine.kill('SIGKILL');

    engine = await startEngine(env); // the real `sync` again
    const done = await until('the resumed run', async () => {
      const r = await api<Run>(engine!.baseUrl, 'GET', `/api/runs/${first.id}`);
      return r.status === 'queued' || r.status === 'running' ? undefined : r;
    });
    const versions = await api<Version[]>(engine.baseUrl, 'GET', `/api/tasks/${task.id}/versions`);
    const partial = versions.find((v) => v.seq === 1)!;
    const recorded = (
      await api<{ files: unknown[] }>(
        engine.baseUrl,
        'GET',
        `/api/versions/${partial.id}/files?limit=5000`,
      )
    ).files;
    // Before issue #21's barrier the files were fsynced one by one and recorded 20 at a time as
    // they were stored: here the barrier was never reached (the fake `sync` never called).
    expect(recorded).toEqual([]);
    expect(done).toMatchObject({
      status: 'completed',
      filesTotal: FILES,
      filesUnchanged: 0,
      filesCopied: FILES,
    });
    const complete = versions.find((v) => v.status === 'complete')!;
    expect(complete.fileCount).toBe(FILES);
    expect(await hashTree(join(dir, 'dst', complete.storageFolder))).toEqual(
      Object.fromEntries(Object.entries(files).map(([p, b]) => [p, sha256(b)])),
    );
  });
});
