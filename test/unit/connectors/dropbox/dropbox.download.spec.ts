import { createHash } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { NotFoundError } from '../../../../src/connectors/connector.errors.js';
import { createDropboxForTest } from '../../../support/connectors/dropbox.js';
import {
  startDropboxEmulator,
  type DropboxEmulator,
} from '../../../../emulators/dropbox/dropbox-emulator.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('Dropbox downloads (issue 18: the large-file CPU)', () => {
  let emu: DropboxEmulator;
  let fetched: string[];

  beforeEach(async () => {
    emu = await startDropboxEmulator();
    fetched = [];
  });

  afterEach(async () => {
    await emu.stop();
  });

  function connector() {
    return createDropboxForTest(emu, {
      fetch: (url, init) => {
        fetched.push(url);
        return fetch(url, init);
      },
    }).connector;
  }

  it("should read a body through Node's http client, not fetch, when a file is downloaded", async () => {
    // fetch hands a body over as a web stream: two copies and a few promises per chunk, and
    // the full GCs they led to (docs/benchmarks.md, "Where a large file's CPU goes").
    const data = Buffer.alloc(3 * 1024 * 1024, 7);
    await emu.seedFile('/big.bin', data);
    const sut = connector();

    const got = await buffer(await sut.read('big.bin'));

    expect(sha(got)).toBe(sha(data));
    expect(fetched.filter((u) => u.includes('/files/download'))).toEqual([]);
    expect(emu.requestLog.filter((e) => e.route === 'files/download')).toHaveLength(1);
  });

  it('should map an error answer of the download as before when the file is missing', async () => {
    const sut = connector();

    await expect(sut.read('missing.bin')).rejects.toBeInstanceOf(NotFoundError);
  });
});
