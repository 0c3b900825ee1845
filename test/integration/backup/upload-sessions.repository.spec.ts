import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { SecretVault } from '../../../src/accounts/secret-vault.js';
import { UploadSessionEntity } from '../../../src/tasks/entities/upload-session.entity.js';
import { TasksRepository } from '../../../src/tasks/tasks.repository.js';
import {
  UploadSessionsRepository,
  type UploadSessionRecord,
} from '../../../src/tasks/upload-sessions.repository.js';
import { Database } from '../../../src/persistence/database.js';
import { openDataSource, TEST_DATABASES, type TestDatabase } from '../../support/databases.js';

const LOCATOR = 'https://upload.example/session?upload_id=bearer-like-secret-value';

describe.each(TEST_DATABASES)('UploadSessionsRepository on %s', (_name, create) => {
  let db: TestDatabase;
  let ds: DataSource;
  let sut: UploadSessionsRepository;
  const taskId = randomUUID();
  const record = (over: Partial<UploadSessionRecord> = {}): UploadSessionRecord => ({
    taskId,
    sourcePath: 'videos/big.mov',
    targetAccountId: randomUUID(),
    targetPath: 'Backups/v000001_2026-12-06_220000/videos/big.mov',
    size: 3 * 1024 ** 3, // past 2^32: a bigint column
    sourceModifiedAt: new Date(1_765_000_000_123),
    locator: LOCATOR,
    confirmedBytes: 0,
    ...over,
  });

  beforeAll(async () => {
    db = await create();
    ds = await openDataSource(db);
    sut = new UploadSessionsRepository(new Database(ds), SecretVault.fromKey(randomBytes(32)));
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.dispose();
  });

  it('should give back a session with its locator and confirmed offset, after the migration', async () => {
    const rec = record();
    await sut.open(rec, new Date());
    await sut.confirm(taskId, rec.sourcePath, 2 * 1024 ** 3, new Date());

    expect(await sut.listForTask(taskId)).toEqual([{ ...rec, confirmedBytes: 2 * 1024 ** 3 }]);
  });

  it('should keep the locator sealed in the database, when a session is recorded', async () => {
    await sut.open(record(), new Date());

    const rows = await ds.getRepository(UploadSessionEntity).find();

    expect(JSON.stringify(rows)).not.toContain('bearer-like-secret-value');
  });

  it('should keep one session per file, when a new one replaces an older one', async () => {
    await sut.open(record({ locator: 'first' }), new Date());
    await sut.open(record({ locator: 'second' }), new Date());

    expect((await sut.listForTask(taskId)).map((r) => r.locator)).toEqual(['second']);
  });

  it('should forget a session, when the file is stored', async () => {
    await sut.open(record(), new Date());
    await sut.remove(taskId, 'videos/big.mov');

    expect(await sut.listForTask(taskId)).toEqual([]);
  });

  it('should forget the sessions of a task, when the task is deleted', async () => {
    await sut.open(record(), new Date());

    await new TasksRepository(new Database(ds)).delete(taskId);

    expect(await ds.getRepository(UploadSessionEntity).findBy({ taskId })).toEqual([]);
  });

  it('should skip a session sealed with another key, when the key changed', async () => {
    await sut.open(record(), new Date());
    const other = new UploadSessionsRepository(
      new Database(ds),
      SecretVault.fromKey(randomBytes(32)),
    );

    expect(await other.listForTask(taskId)).toEqual([]);
  });
});
