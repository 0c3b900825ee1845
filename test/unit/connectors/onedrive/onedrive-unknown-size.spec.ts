import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { NotFoundError, UnsupportedError } from '../../../../src/connectors/connector.errors.js';
import type { OneDriveConnector } from '../../../../src/connectors/onedrive/onedrive.connector.js';
import { UNKNOWN_SIZE_MAX } from '../../../../src/connectors/onedrive/onedrive.write.js';
import { createOneDriveForTest } from '../../../support/connectors/onedrive.js';
import {
  startOneDriveEmulator,
  type OneDriveEmulator,
} from '../../../../emulators/onedrive/onedrive-emulator.js';

const PIECE = 64 * 1024;

/** A stream of `n` patterned bytes that counts what was pulled from it. */
function countedStream(n: number): { stream: Readable; pulled: () => number; data: Buffer } {
  const data = Buffer.alloc(n);
  for (let i = 0; i < n; i++) data[i] = (i * 31 + 7) & 0xff;
  let pulled = 0;
  const stream = Readable.from(
    (function* () {
      for (let i = 0; i < n; i += PIECE) {
        const piece = data.subarray(i, i + PIECE);
        pulled += piece.length;
        yield piece;
      }
    })(),
  );
  return { stream, pulled: () => pulled, data };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('OneDrive uploads of a stream whose size is not known', () => {
  let emu: OneDriveEmulator;
  let sut: OneDriveConnector;

  beforeEach(async () => {
    emu = await startOneDriveEmulator();
    sut = createOneDriveForTest(emu); // 320 KiB fragments
  });

  afterEach(async () => {
    await emu.stop();
  });

  it('should count it in memory and send it through a session with its total in every fragment', async () => {
    const { stream, data } = countedStream(1024 * 1024 + 4321);
    emu.requestLog.length = 0;
    const stored = await sut.write('docs/export.docx', stream);
    expect(stored.size).toBe(data.length);
    expect(sha(await buffer(await sut.read('docs/export.docx')))).toBe(sha(data));
    const ranges = emu.requestLog
      .filter((e) => e.role === 'upload' && e.method === 'PUT')
      .map((e) => e.contentRange);
    expect(ranges.length).toBe(4);
    for (const r of ranges) expect(r).toMatch(new RegExp(`/${data.length}$`));
  });

  it('should refuse one over the in-memory bound without reading it all or storing anything', async () => {
    const { stream, pulled } = countedStream(UNKNOWN_SIZE_MAX + 3 * PIECE);
    await expect(sut.write('docs/huge.bin', stream)).rejects.toThrow(UnsupportedError);
    await expect(
      sut.write('docs/huge.bin', countedStream(UNKNOWN_SIZE_MAX + 1).stream),
    ).rejects.toThrow(/needs a file's size before its upload starts/);
    // It stops one piece past the bound, not at the end of the source.
    expect(pulled()).toBeLessThanOrEqual(UNKNOWN_SIZE_MAX + PIECE);
    await expect(sut.stat('docs/huge.bin')).rejects.toThrow(NotFoundError);
  });
});
