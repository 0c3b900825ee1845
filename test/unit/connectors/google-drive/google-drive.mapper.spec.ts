import {
  ChunkReader,
  persistedBytes,
} from '../../../../src/connectors/google-drive/google-drive.upload.js';
import {
  nativeSourceOf,
  quote,
  toEntry,
} from '../../../../src/connectors/google-drive/google-drive.mapper.js';
import {
  parseExportFormats,
  toGoogleDriveOptions,
} from '../../../../src/connectors/google-drive/google-drive.options.js';
import { bytesOf, streamOf } from './helpers.js';

const ALL = parseExportFormats('docx,xlsx,pptx');

describe('google-drive mapper', () => {
  it('should map a blob with string size and lowercase hashes when Drive reports them', () => {
    const sut = toEntry(
      {
        id: 'f1',
        name: 'a.bin',
        mimeType: 'application/octet-stream',
        size: '1234',
        md5Checksum: 'ABC',
        sha256Checksum: 'def',
        modifiedTime: '2024-05-01T10:00:00.123Z',
      },
      'dir',
      ALL,
    );
    expect(sut).toMatchObject({
      path: 'dir/a.bin',
      name: 'a.bin',
      kind: 'file',
      size: 1234,
      id: 'f1',
      hashes: { md5: 'abc', sha256: 'def' },
    });
    expect(sut.modifiedAt?.toISOString()).toBe('2024-05-01T10:00:00.123Z');
  });

  it('should name a Google Doc Name.docx with no size when export is on', () => {
    const sut = toEntry(
      { id: 'd', name: 'Plan', mimeType: 'application/vnd.google-apps.document', size: '999' },
      '',
      ALL,
    );
    expect(sut).toMatchObject({ path: 'Plan.docx', kind: 'file', hashes: {} });
    expect(sut.size).toBeUndefined();
    expect(sut.extras).toMatchObject({ googleNative: true, approximateSize: 999 });
    expect(sut.extras?.skipReason).toBeUndefined();
  });

  it('should keep the name and give a skip reason when export is disabled', () => {
    const sut = toEntry(
      { id: 's', name: 'Budget', mimeType: 'application/vnd.google-apps.spreadsheet' },
      'x',
      parseExportFormats('none'),
    );
    expect(sut.path).toBe('x/Budget');
    expect(sut.extras?.skipReason).toBe('google-native document, export disabled');
  });

  it('should find the native type behind an export name only when that format is enabled', () => {
    expect(nativeSourceOf('Deck.pptx', ALL)).toEqual({
      baseName: 'Deck',
      mimeType: 'application/vnd.google-apps.presentation',
    });
    expect(nativeSourceOf('Deck.pptx', parseExportFormats('docx'))).toBeUndefined();
  });

  it('should escape quotes and backslashes when quoting a name for q', () => {
    expect(quote("it's a \\ name")).toBe("'it\\'s a \\\\ name'");
  });

  it('should refuse a chunk size that is not a multiple of 256 KiB', () => {
    expect(() => toGoogleDriveOptions({ clientId: 'c', uploadChunkSize: 300_000 }, {})).toThrow(
      /multiple of 262144/,
    );
  });
});

describe('resumable helpers', () => {
  it('should read exact chunks and flag the last one when the stream size is unknown', async () => {
    const data = bytesOf(256 * 1024 * 2 + 10);
    const sut = new ChunkReader(streamOf(data, 10_000), 256 * 1024);
    const a = await sut.next();
    const b = await sut.next();
    const c = await sut.next();
    expect([a.data.length, a.isLast, b.data.length, b.isLast, c.data.length, c.isLast]).toEqual([
      262144,
      false,
      262144,
      false,
      10,
      true,
    ]);
    expect(Buffer.concat([a.data, b.data, c.data]).equals(data)).toBe(true);
  });

  it('should flag a chunk as last when the stream ends exactly on a chunk boundary', async () => {
    const sut = new ChunkReader(streamOf(bytesOf(256 * 1024)), 256 * 1024);
    const a = await sut.next();
    expect([a.data.length, a.isLast]).toEqual([262144, true]);
  });

  it('should read the persisted byte count from a 308 Range header', () => {
    expect(persistedBytes('bytes=0-262143')).toBe(262144);
    expect(persistedBytes(undefined)).toBe(0);
  });
});
