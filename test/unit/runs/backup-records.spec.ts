/**
 * Issue #21: the stored-file records of a backup run go to the ledger in batches, each after the
 * target's durability barrier. A batch is due by count, by time, and by bytes: on a local folder
 * each barrier waits for the disk, so large files must not all wait for one barrier at the end.
 */
import { PendingRecords } from '../../../src/runs/executors/backup-records.js';
import type { StoredFile } from '../../../src/versions/version-ledger.repository.js';

const MiB = 1024 * 1024;

function stored(i: number, size: number): StoredFile {
  return {
    path: `f${i}`,
    size,
    sha256: '0'.repeat(64),
    sourceHashes: {},
    sourceId: null,
    modifiedAt: null,
    storedPath: `v1/f${i}`,
  };
}

describe('PendingRecords', () => {
  let written: StoredFile[][];
  let sut: PendingRecords;

  beforeEach(() => {
    written = [];
    sut = new PendingRecords(
      (batch) => {
        written.push(batch);
        return Promise.resolve();
      },
      (e) => {
        throw e;
      },
    );
  });

  it('should hold a few small files until a batch is due, then write them all', async () => {
    for (let i = 0; i < 10; i++) {
      sut.push(stored(i, 64 * 1024));
      sut.recordIfDue();
    }
    expect(written).toEqual([]);

    await sut.flush();

    expect(written.map((b) => b.length)).toEqual([10]);
  });

  it('should write a batch once the files pending hold enough bytes, before count or time', async () => {
    for (let i = 0; i < 40; i++) {
      sut.push(stored(i, 8 * MiB));
      sut.recordIfDue();
      await Promise.resolve(); // the batch in flight ends
    }
    await sut.flush();

    // 192 MiB per batch: 24 files of 8 MiB, then the rest at the end.
    expect(written.map((b) => b.length)).toEqual([24, 16]);
  });
});
