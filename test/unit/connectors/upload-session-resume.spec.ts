import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Connector, UploadSessionHooks } from '../../../src/connectors/connector.js';
import { createDropboxForTest } from '../../support/connectors/dropbox.js';
import { startDropboxEmulator } from '../../../emulators/dropbox/dropbox-emulator.js';
import { createGoogleDriveForTest } from '../../support/connectors/google-drive.js';
import { startGoogleDriveEmulator } from '../../../emulators/google-drive/google-drive.emulator.js';
import { createOneDriveForTest } from '../../support/connectors/onedrive.js';
import { startOneDriveEmulator } from '../../../emulators/onedrive/onedrive-emulator.js';
import { patternBytes } from '../../support/files.js';

const CHUNK = 4 * 320 * 1024; // a legal chunk for all three (256 KiB and 320 KiB multiples)
const SIZE = 8 * CHUNK + 12_345;
const DATA = patternBytes(SIZE, 7);

interface Cloud {
  connector: Connector;
  /** A locator of the cloud's kind that names no session. */
  unknownLocator: string;
  stop(): Promise<void>;
}

const CLOUDS: Array<[string, () => Promise<Cloud>]> = [
  [
    'google-drive',
    async () => {
      const emu = await startGoogleDriveEmulator({ fixtures: false });
      return {
        connector: createGoogleDriveForTest(emu, { config: { uploadChunkSize: CHUNK } }),
        unknownLocator: `${emu.credentials.apiBaseUrl}/upload/drive/v3/files?uploadType=resumable&upload_id=no-such-session`,
        stop: () => emu.stop(),
      };
    },
  ],
  [
    'onedrive',
    async () => {
      const emu = await startOneDriveEmulator();
      return {
        connector: createOneDriveForTest(emu, { uploadFragmentSize: CHUNK }),
        unknownLocator: `${emu.baseUrl}/up/no-such-session`,
        stop: () => emu.stop(),
      };
    },
  ],
  [
    'dropbox',
    async () => {
      const emu = await startDropboxEmulator({ maxLongpollMs: 200 });
      return {
        connector: createDropboxForTest(emu, { config: { uploadChunkSize: CHUNK } }).connector,
        unknownLocator: 'pid_upload_session:no-such-session',
        stop: () => emu.stop(),
      };
    },
  ],
];

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function readAll(c: Connector, path: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of await c.read(path)) parts.push(p as Buffer);
  return Buffer.concat(parts);
}

/** Yields the first `n` bytes, then waits for ever: an upload stopped half-way, as by a kill. */
function stalledAfter(n: number): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(DATA.subarray(0, n));
      }
    },
  });
}

function recorder(resume?: string): UploadSessionHooks & { seen: Array<[string, number]> } {
  const seen: Array<[string, number]> = [];
  return {
    resume,
    seen,
    onConfirmed: (locator, confirmed) => void seen.push([locator, confirmed]),
  };
}

describe.each(CLOUDS)('%s upload sessions (WriteMeta.session)', (_kind, start) => {
  let cloud: Cloud;

  beforeAll(async () => {
    cloud = await start();
  });

  afterAll(async () => {
    await cloud?.stop();
  });

  it('should continue a session an earlier attempt left, from the offset the cloud confirms', async () => {
    const first = recorder();
    const stalled = stalledAfter(5 * CHUNK + 100);
    const abandoned = cloud.connector
      .write('big/resume.bin', stalled, { size: SIZE, session: first })
      .catch(() => undefined);
    // Everything the stalled stream can give is confirmed: the first attempt now waits for ever.
    while (!first.seen.some(([, n]) => n >= 5 * CHUNK)) await new Promise((r) => setTimeout(r, 5));
    const [locator] = first.seen[first.seen.length - 1]!;

    const second = recorder(locator);
    const stored = await cloud.connector.write('big/resume.bin', Readable.from([DATA]), {
      size: SIZE,
      session: second,
    });

    expect(second.seen[0]).toEqual([locator, expect.any(Number)]);
    expect(second.seen[0]![1]).toBe(5 * CHUNK);
    expect(second.seen.every(([l]) => l === locator)).toBe(true);
    expect(stored.size).toBe(SIZE);
    expect(sha256(await readAll(cloud.connector, 'big/resume.bin'))).toBe(sha256(DATA));
    stalled.destroy(new Error('the killed attempt'));
    await abandoned;
  });

  it('should continue a session whose attempt was stopped (a cancelled run, an engine shutting down)', async () => {
    const first = recorder();
    const stop = new AbortController();
    const body = stalledAfter(5 * CHUNK + 100);
    const stopped = cloud.connector
      .write('big/stopped.bin', body, {
        size: SIZE,
        session: first,
        signal: stop.signal,
      })
      .then(
        () => 'stored',
        () => 'stopped',
      );
    while (!first.seen.some(([, n]) => n >= 5 * CHUNK)) await new Promise((r) => setTimeout(r, 5));
    // As in a run: the signal fires and the pipeline tears the source stream down.
    stop.abort(new Error('shutting down'));
    body.destroy(new Error('shutting down'));
    expect(await stopped).toBe('stopped');
    const [locator] = first.seen[first.seen.length - 1]!;

    const second = recorder(locator);
    await cloud.connector.write('big/stopped.bin', Readable.from([DATA]), {
      size: SIZE,
      session: second,
    });

    expect(second.seen[0]).toEqual([locator, 5 * CHUNK]);
    expect(sha256(await readAll(cloud.connector, 'big/stopped.bin'))).toBe(sha256(DATA));
  });

  it('should start a fresh upload, when the session to continue is unknown or expired', async () => {
    const hooks = recorder(cloud.unknownLocator);

    const stored = await cloud.connector.write('big/fresh.bin', Readable.from([DATA]), {
      size: SIZE,
      session: hooks,
    });

    expect(hooks.seen[0]![0]).not.toBe(cloud.unknownLocator);
    expect(hooks.seen[0]![1]).toBe(0);
    expect(stored.size).toBe(SIZE);
    expect(sha256(await readAll(cloud.connector, 'big/fresh.bin'))).toBe(sha256(DATA));
  });
});
