import { UploadSessionBook } from '../../../src/backup/transfer/upload-session-book.js';
import { systemClock } from '../../../src/common/clock.js';
import type { Connector, Entry } from '../../../src/connectors/connector.js';
import type {
  UploadSessionRecord,
  UploadSessionStore,
} from '../../../src/tasks/upload-sessions.repository.js';

const TASK = { id: 'task-1', targetAccountId: 'acc-1' };
const MTIME = new Date('2026-01-01T00:00:00Z');

function record(sourcePath: string, over: Partial<UploadSessionRecord> = {}): UploadSessionRecord {
  return {
    taskId: TASK.id,
    sourcePath,
    targetAccountId: TASK.targetAccountId,
    targetPath: `v1/${sourcePath}`,
    size: 100,
    sourceModifiedAt: MTIME,
    locator: `locator-of-${sourcePath}`,
    confirmedBytes: 40,
    ...over,
  };
}

function fakeStore(rows: UploadSessionRecord[]): UploadSessionStore & { removed: string[] } {
  const removed: string[] = [];
  return {
    removed,
    listForTask: async () => rows,
    open: async () => undefined,
    confirm: async () => undefined,
    remove: async (_t, p) => void removed.push(p),
  };
}

/** A target that keeps upload sessions until told (as S3 multipart uploads). */
function keepingTarget(): Connector & { discarded: string[] } {
  const discarded: string[] = [];
  return {
    kind: 'fake',
    capabilities: { uploadChunkSize: 10 },
    discarded,
    discardUploadSession: async (locator: string) => void discarded.push(locator),
  } as unknown as Connector & { discarded: string[] };
}

const entry = (path: string, modifiedAt = MTIME): Entry =>
  ({ path, name: path, type: 'file', size: 100, modifiedAt, hashes: {} }) as unknown as Entry;

describe('UploadSessionBook: sessions nothing will continue', () => {
  const log = { info: () => undefined };

  it('should have the target drop the session of a file that changed since it was opened', async () => {
    const store = fakeStore([record('a.bin')]);
    const book = new UploadSessionBook(store, TASK, systemClock, log);
    await book.load();
    const target = keepingTarget();

    const up = book.forFile(
      target,
      { rel: 'a.bin', entry: entry('a.bin', new Date()) },
      'v2/a.bin',
    );
    await new Promise((r) => setImmediate(r));

    expect(up.hooks?.().resume).toBeUndefined();
    expect(target.discarded).toEqual(['locator-of-a.bin']);
  });

  it('should continue, not drop, the session of the same file', async () => {
    const book = new UploadSessionBook(fakeStore([record('a.bin')]), TASK, systemClock, log);
    await book.load();
    const target = keepingTarget();

    const up = book.forFile(target, { rel: 'a.bin', entry: entry('a.bin') }, 'v2/a.bin');
    await new Promise((r) => setImmediate(r));

    expect(up.hooks?.().resume).toBe('locator-of-a.bin');
    expect(target.discarded).toEqual([]);
  });

  it('should have the target drop the sessions of files no attempt of the run continued', async () => {
    const store = fakeStore([
      record('gone.bin'),
      record('other-account.bin', { targetAccountId: 'acc-2' }),
    ]);
    const book = new UploadSessionBook(store, TASK, systemClock, log);
    await book.load();
    const target = keepingTarget();

    await book.forgetStale(target);

    // A session of another account (the task's target changed) is not this connector's to drop.
    expect(target.discarded).toEqual(['locator-of-gone.bin']);
    expect(store.removed.sort()).toEqual(['gone.bin', 'other-account.bin']);
  });
});
