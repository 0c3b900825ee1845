import type { Readable } from 'node:stream';
import type { VersionFileEntity } from '../../../src/versions/entities/version-file.entity.js';
import {
  MANIFEST_FORMAT,
  manifestBody,
  manifestBodyOfLines,
  manifestPageLength,
  manifestPageOfRows,
  manifestSize,
  manifestStream,
  type ManifestHeader,
  type ManifestRow,
} from '../../../src/versions/manifest.js';

const header: ManifestHeader = {
  format: MANIFEST_FORMAT,
  taskId: 't1',
  taskName: 'photos',
  seq: 2,
  versionId: 'v2',
  createdAt: '2026-12-07T01:00:00.000Z',
  sourceAccountKind: 'local',
  sourcePath: 'src',
  storageFolder: 'dst/v000001_2026-12-07_010000',
};

function record(i: number): VersionFileEntity {
  return {
    id: i + 1,
    taskId: 't1',
    path: `d/f${i}.bin`,
    size: 1000 + i,
    sha256: 'a'.repeat(64),
    sourceHashes: {},
    sourceId: null,
    modifiedAt: new Date(1_700_000_000_000 + i),
    storedPath: `dst/v000001_2026-12-07_010000/d/f${i}.bin`,
    firstSeq: 1,
    lastSeq: null,
  } as unknown as VersionFileEntity;
}

function rowOf(r: VersionFileEntity): ManifestRow {
  return {
    path: r.path,
    size: r.size,
    sha256: r.sha256,
    sourceHashesJson: JSON.stringify(r.sourceHashes),
    sourceId: r.sourceId,
    modifiedAtMs: r.modifiedAt === null ? null : r.modifiedAt.getTime(),
    storedPath: r.storedPath,
    firstSeq: r.firstSeq,
  };
}

/** Two pages of records, counting how often the ledger is read. */
function ledger(n: number) {
  const reads = { count: 0 };
  const records = Array.from({ length: n }, (_, i) => record(i));
  async function* pages(): AsyncGenerator<VersionFileEntity[]> {
    reads.count++;
    yield records.slice(0, Math.ceil(n / 2));
    yield records.slice(Math.ceil(n / 2));
  }
  return { pages, reads };
}

async function text(body: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts).toString('utf8');
}

describe('manifestBody', () => {
  it('should read the ledger once and send what the size pass made when the manifest is small', async () => {
    const { pages, reads } = ledger(50);

    const sut = await manifestBody(header, pages);

    const expected = await text(manifestStream(header, ledger(50).pages()));
    expect(await text(sut.body)).toBe(expected);
    expect(sut.size).toBe(Buffer.byteLength(expected));
    expect(reads.count).toBe(1);
  });

  it('should give the lines after the header, which make the same manifest under another header', async () => {
    const sut = await manifestBody(header, ledger(50).pages);
    const other = { ...header, seq: 8, versionId: 'v8' };

    const again = manifestBodyOfLines(other, Buffer.concat(sut.lines!));

    const expected = await text(manifestStream(other, ledger(50).pages()));
    expect(await text(again.body)).toBe(expected);
    expect(again.size).toBe(Buffer.byteLength(expected));
    expect(Buffer.concat(sut.lines!).toString('utf8')).toBe(
      expected.slice(expected.indexOf('\n') + 1),
    );
  });

  it('should make the body again from the ledger when the manifest passes the buffer limit', async () => {
    const { pages, reads } = ledger(50);

    const sut = await manifestBody(header, pages, 1000);

    const expected = await text(manifestStream(header, ledger(50).pages()));
    expect(sut.size).toBe(await manifestSize(header, ledger(50).pages()));
    expect(await text(sut.body)).toBe(expected);
    expect(reads.count).toBe(2);
    expect(sut.lines).toBeUndefined();
  });
});

describe('manifestPageOfRows', () => {
  it('should make the same bytes as the records give when rows carry every kind of value', async () => {
    const records = [
      record(0),
      { ...record(1), path: 'q/"quoted" \\ and \u2028', sourceId: 'id "1"' },
      // What JSON.stringify writes as escapes: controls, a lone surrogate, a backslash alone.
      { ...record(150), path: 'ctl/tab\there\nnewline\u0001\u001f', sourceId: 'back\\slash' },
      { ...record(151), path: 'lone/\ud800 and \udfff/x', storedPath: 'v/\udc00', sourceId: '' },
      {
        ...record(2),
        path: 'é/日本語/😀.txt',
        modifiedAt: null,
        sourceHashes: { md5: 'ab'.repeat(16) },
      },
      { ...record(3), modifiedAt: new Date(0), size: 5_000_000_000 },
      // Longer than the buffer made for one page of 4 rows: it has to grow.
      { ...record(4), path: `long/${'ü'.repeat(3000)}` },
      // Past several writes of 64 lines, one long line among them.
      ...Array.from({ length: 150 }, (_, i) =>
        i === 100 ? { ...record(5 + i), path: `é${'€'.repeat(400 * 384)}` } : record(5 + i),
      ),
    ] as VersionFileEntity[];
    async function* asRecords(): AsyncGenerator<VersionFileEntity[]> {
      yield records;
    }
    async function* asRows(): AsyncGenerator<Buffer> {
      yield manifestPageOfRows(records.map(rowOf));
    }

    const sut = await text(manifestStream(header, asRows()));

    expect(sut).toBe(await text(manifestStream(header, asRecords())));
    expect(sut.trimEnd().split('\n')).toHaveLength(records.length + 1);
  });

  it('should make an empty page of no rows', () => {
    expect(manifestPageOfRows([])).toHaveLength(0);
  });

  it('should hold exactly its bytes, not the most its rows could take', () => {
    const rows = Array.from({ length: 2000 }, (_, i) => rowOf(record(i)));

    const sut = manifestPageOfRows(rows);

    // The old page was a view of a buffer of 384 bytes a row: 1.75 times its bytes held.
    expect(sut.buffer.byteLength).toBe(sut.length);
    expect(sut.length).toBeLessThan(rows.length * 384 * 0.75);
    // Made through one buffer shared by every page: a later page leaves it as it was.
    const copy = Buffer.from(sut);
    manifestPageOfRows(rows.slice(0, 10).map((r) => ({ ...r, path: `other/${r.path}` })));
    expect(sut.equals(copy)).toBe(true);
  });

  it('should count the bytes of a page as it would make them', () => {
    const rows = [
      rowOf(record(0)),
      rowOf({ ...record(1), path: 'é/日本語/😀 "q" \\ \u2028.txt' } as VersionFileEntity),
      rowOf({ ...record(2), path: `long/${'ü'.repeat(3000)}` } as VersionFileEntity),
    ];

    expect(manifestPageLength(rows)).toBe(manifestPageOfRows(rows).length);
    expect(manifestPageLength([])).toBe(0);
  });
});

describe('manifestBody of plain rows', () => {
  function rowLedger(n: number) {
    const reads = { count: 0 };
    const rows = Array.from({ length: n }, (_, i) => rowOf(record(i)));
    async function* pages(): AsyncGenerator<{ rows: ManifestRow[] }> {
      reads.count++;
      for (let i = 0; i < n; i += 20) yield { rows: rows.slice(i, i + 20) };
    }
    return { pages, reads };
  }

  it('should give the same manifest as the records, kept whole when small', async () => {
    const { pages, reads } = rowLedger(50);

    const sut = await manifestBody(header, pages);

    const expected = await text(manifestStream(header, ledger(50).pages()));
    expect(await text(sut.body)).toBe(expected);
    expect(sut.size).toBe(Buffer.byteLength(expected));
    expect(reads.count).toBe(1);
    expect(Buffer.concat(sut.lines!).toString('utf8')).toBe(
      expected.slice(expected.indexOf('\n') + 1),
    );
  });

  it('should count the size of a large one without keeping it, and stream the same bytes', async () => {
    const { pages, reads } = rowLedger(50);

    const sut = await manifestBody(header, pages, 1000);

    const expected = await text(manifestStream(header, ledger(50).pages()));
    expect(sut.size).toBe(Buffer.byteLength(expected));
    expect(sut.lines).toBeUndefined();
    expect(await text(sut.body)).toBe(expected);
    expect(reads.count).toBe(2);
  });
});
