import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { RunEntity } from '../../../src/tasks/entities/run.entity.js';
import { RunsRepository } from '../../../src/tasks/runs.repository.js';
import { RUN_EVENTS } from '../../../src/runs/run-events.js';
import { TEST_DATABASES, type TestDatabase } from '../../support/databases.js';
import { patternBytes, writeTree } from '../../support/files.js';
import { startTestApp, waitForRun, type TestApp } from '../../support/test-app.js';

/**
 * Retention follows a completed backup. A client that sees the backup `completed` (its row or
 * its event) and then lists the task's runs must find the prune already queued: it used to be
 * inserted by a listener of the completed event, a moment after the row said completed.
 */
describe.each(TEST_DATABASES)(
  'prune after a backup, on %s: queued before the backup is announced completed',
  (_name, createDb) => {
    let db: TestDatabase;
    let t: TestApp;
    let src: string;
    let dst: string;

    beforeAll(async () => {
      db = await createDb();
      t = await startTestApp({ db });
      src = await mkdtemp(join(tmpdir(), 'cbe-src-'));
      dst = await mkdtemp(join(tmpdir(), 'cbe-dst-'));
      await writeTree(src, { 'a.bin': patternBytes(1000, 1), 'b.bin': patternBytes(2000, 2) });
    });

    afterAll(async () => {
      await t?.close();
      await db?.dispose();
      for (const d of [src, dst]) if (d) await rm(d, { recursive: true, force: true });
    });

    it('should have the prune run row when the completed event is announced and when the row reads completed', async () => {
      const account = async (root: string) =>
        (
          await t.http
            .post('/api/accounts')
            .send({ kind: 'local', name: root, options: { root } })
            .expect(201)
        ).body.id as string;
      const task = await t.http
        .post('/api/tasks')
        .send({
          name: 'retained',
          sourceAccountId: await account(src),
          targetAccountId: await account(dst),
          targetPath: 'b',
        })
        .expect(201);
      const taskId = task.body.id as string;
      await t.http.put(`/api/tasks/${taskId}/retention`).send({ keepLast: 1 }).expect(200);

      const runs = t.app.get(RunsRepository);
      const bus = t.app.get(EventEmitter2);
      // Asked first, at the instant the completed event is announced (before any other listener).
      const seen: Array<Promise<string[]>> = [];
      const onCompleted = (run: RunEntity) => {
        if (run.kind === 'backup' && run.taskId === taskId)
          seen.push(runs.list({ taskId, limit: 10 }).then((l) => l.map((r) => r.kind)));
      };
      bus.prependListener(RUN_EVENTS.completed, onCompleted);
      try {
        const runId = (await t.http.post(`/api/tasks/${taskId}/run`).expect(202)).body.id as string;
        // And as a polling client sees it: the first time the row reads completed.
        const run = await waitForRun(t.http, runId);
        const listed = (await t.http.get(`/api/runs?taskId=${taskId}`).expect(200)).body as Array<{
          kind: string;
        }>;
        expect(run.status).toBe('completed');
        expect(listed.map((r) => r.kind)).toContain('prune');
        expect(seen).toHaveLength(1);
        expect(await seen[0]).toContain('prune');
      } finally {
        bus.removeListener(RUN_EVENTS.completed, onCompleted);
      }
    });
  },
);
