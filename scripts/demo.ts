/**
 * Demo mode: the real engine with the four cloud emulators beside it, seeded with sample content
 * and already connected through the same flows a person uses, so a newcomer can run a backup and a
 * restore in the UI without any real account. `npm run demo` runs `demo-cli.ts`, which calls
 * `startDemo`; the end-to-end test calls it too.
 *
 * Everything runs in this one process (the engine through `createApp`, each emulator on its own
 * loopback port), so stopping the process stops everything. The emulators keep their state in
 * memory only, so each demo starts from scratch: `dir` is emptied first (when it is empty or a
 * previous demo's) and holds the engine's data, the local backup folder and the photo originals.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { createApp } from '../src/app.factory.js';
import { loadConfig } from '../src/config/app-config.js';
import {
  startDropboxEmulator,
  type DropboxEmulator,
} from '../emulators/dropbox/dropbox-emulator.js';
import {
  startGoogleDriveEmulator,
  type GoogleDriveEmulator,
} from '../emulators/google-drive/google-drive.emulator.js';
import {
  startICloudPhotosEmulator,
  type ICloudPhotosEmulator,
} from '../emulators/icloud-photos/icloud-photos.emulator.js';
import {
  startOneDriveEmulator,
  type OneDriveEmulator,
} from '../emulators/onedrive/onedrive-emulator.js';
import { driveContents, heavyJpeg, postcardJpeg, rng } from './demo-samples.js';

export type DemoCloud = 'google-drive' | 'onedrive' | 'dropbox' | 'icloud-photos';

export const DEMO_CLOUDS: readonly DemoCloud[] = [
  'google-drive',
  'onedrive',
  'dropbox',
  'icloud-photos',
];

/** Fixed loopback ports of `npm run demo` (each overridable, see demo-cli.ts). */
export const DEFAULT_PORTS: Readonly<Record<DemoCloud | 'engine', number>> = {
  engine: 3000,
  'google-drive': 4101,
  onedrive: 4102,
  dropbox: 4103,
  'icloud-photos': 4104,
};

export interface DemoOptions {
  /** Everything the demo writes goes here; emptied at start (refused unless empty or a demo's). */
  dir: string;
  /** The engine's port (UI and API); 0 picks a free one. */
  port?: number;
  /** Each emulator's port; 0 picks a free one. */
  cloudPorts?: Partial<Record<DemoCloud, number>>;
  username?: string;
  password?: string;
  /** Pictures in the iCloud Photos library. */
  photos?: number;
  /** The engine's own log lines (Nest logger) on stdout. */
  engineLogs?: boolean;
  /** Progress lines while the demo starts. */
  progress?: (line: string) => void;
}

export interface DemoAccount {
  id: string;
  kind: string;
  name: string;
  /** What it holds, in a few words, for the banner. */
  about: string;
}

export interface Demo {
  /** Where the UI and the API answer, e.g. http://127.0.0.1:3000 */
  url: string;
  username: string;
  password: string;
  /** Whether the engine asked for a sign-in (false while it has no sign-in yet). */
  signInRequired: boolean;
  dir: string;
  /** The local folder account's root. */
  backupsDir: string;
  accounts: DemoAccount[];
  tasks: Array<{ id: string; name: string }>;
  emulators: Record<DemoCloud, string>;
  /** Signed in as the demo admin (what a script or a test drives the API with). */
  api: DemoApi;
  stop(): Promise<void>;
}

const MARKER = '.cbe-demo';
const KiB = 1024;

/** A minimal browser: remembers cookies, sends the CSRF header on writes, follows nothing. */
export class DemoApi {
  private readonly cookies = new Map<string, string>();
  csrfToken: string | undefined;

  constructor(readonly baseUrl: string) {}

  /** One request; `extraCookies` ride along (the OAuth flow's cookie lives on a narrower path). */
  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const h: Record<string, string> = { accept: 'application/json', ...headers };
    if (body !== undefined) h['content-type'] = 'application/json';
    if (this.cookies.size > 0) h.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (method !== 'GET' && method !== 'HEAD' && this.csrfToken) h['x-csrf-token'] = this.csrfToken;
    const res = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      const expired = attrs.some(
        (a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=thu, 01 jan 1970/i.test(a),
      );
      if (value === '' || expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /** A JSON call that must succeed; the error names the call and the engine's message. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.request(method, path, body);
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * Signs in as the admin the engine created from ADMIN_USERNAME/ADMIN_PASSWORD (or sets it up
   * when the engine still asks for a first user). False when the engine has no sign-in at all.
   */
  async signIn(username: string, password: string): Promise<boolean> {
    const session = await this.request('GET', '/api/auth/session');
    if (session.status === 404) return false;
    const s = (await session.json()) as { setupRequired?: boolean };
    const path = s.setupRequired ? '/api/auth/setup' : '/api/auth/login';
    const done = await this.json<{ csrfToken: string }>('POST', path, { username, password });
    this.csrfToken = done.csrfToken;
    return true;
  }
}

interface RunView {
  id: string;
  status: string;
  versionId: string | null;
  filesCopied: number;
  filesFailed: number;
  errorMessage: string | null;
}

/** Polls a run until it has finished. */
export async function waitForRun(
  api: DemoApi,
  runId: string,
  timeoutMs = 60_000,
): Promise<RunView> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const run = await api.json<RunView>('GET', `/api/runs/${runId}`);
    if (run.status !== 'queued' && run.status !== 'running') return run;
    if (Date.now() > until)
      throw new Error(`run ${runId} still ${run.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A mistake the person running the demo can fix (shown without a stack trace). */
export class DemoSetupError extends Error {
  override readonly name = 'DemoSetupError';
}

/** The process id a demo folder's marker names, when that process still runs. */
async function runningDemoPid(marker: string): Promise<number | undefined> {
  const text = await readFile(marker, 'utf8').catch(() => '');
  const pid = Number(/^pid=(\d+)$/m.exec(text)?.[1]);
  if (!pid || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/**
 * Empties `dir` when it is empty or a previous demo's; refuses any other folder, and a folder a
 * demo that still runs is using. The marker file names this process while it runs.
 */
async function prepareDir(dir: string): Promise<void> {
  if (existsSync(dir)) {
    const names = await readdir(dir);
    if (names.length > 0 && !names.includes(MARKER))
      throw new DemoSetupError(
        `${dir} exists and was not made by the demo: move it away or choose another folder (DEMO_DIR)`,
      );
    const other = await runningDemoPid(join(dir, MARKER));
    if (other)
      throw new DemoSetupError(
        `another demo (process ${other}) is using ${dir}: stop it first, or choose another folder (DEMO_DIR) and ports`,
      );
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, MARKER),
    `Made by \`npm run demo\`: emptied at the next start of the demo.\npid=${process.pid}\n`,
  );
}

/** A free loopback port (the engine must know its public URL before it listens). */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolvePort(port));
    });
  });
}

/** What a browser does to an href attribute: named and numeric character references. */
function decodeEntities(s: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (all, e: string) => {
    if (/^#x/i.test(e)) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(Number(e.slice(1)));
    return named[e.toLowerCase()] ?? all;
  });
}

/**
 * Connects an OAuth cloud the way a browser does: start the flow, open the provider's consent
 * page, press Allow, follow the redirect back to the engine's callback with the cookies.
 */
export async function connectOAuth(
  api: DemoApi,
  kind: DemoCloud,
  name: string,
  options: Record<string, unknown>,
): Promise<string> {
  const { authorizeUrl } = await api.json<{ authorizeUrl: string }>(
    'POST',
    '/api/accounts/connect',
    { kind, name, options },
  );
  const page = await fetch(authorizeUrl, { redirect: 'manual' });
  const html = await page.text();
  const allow = /<a id="allow" href="([^"]+)"/.exec(html);
  if (!allow) throw new Error(`${kind}: no Allow link on the consent page (${page.status})`);
  const decided = await fetch(new URL(decodeEntities(allow[1]!), authorizeUrl), {
    redirect: 'manual',
  });
  const location = decided.headers.get('location');
  if (decided.status !== 302 || !location)
    throw new Error(`${kind}: the consent page answered ${decided.status}, not a redirect`);
  const back = new URL(location);
  const res = await api.request('GET', `${back.pathname}${back.search}`);
  const body = (await res.json()) as { account?: { id: string }; message?: string };
  if (!res.ok || !body.account)
    throw new Error(`${kind}: the OAuth callback answered ${res.status} ${body.message ?? ''}`);
  return body.account.id;
}

/** iCloud: Apple ID and password, then the six-digit code the emulator "sent to a device". */
async function connectICloud(
  api: DemoApi,
  emu: ICloudPhotosEmulator,
  name: string,
  options: Record<string, unknown>,
): Promise<string> {
  const signIn = await api.json<{ state: string; account: { id: string } }>(
    'POST',
    '/api/accounts/icloud/sign-in',
    { name, appleId: emu.credentials.appleId, password: emu.credentials.password, options },
  );
  const id = signIn.account.id;
  if (signIn.state === 'connected') return id;
  const code = emu.control.lastSecurityCode();
  if (!code) throw new Error('icloud-photos: the emulator showed no verification code');
  const done = await api.json<{ state: string }>('POST', `/api/accounts/${id}/icloud/code`, {
    code,
  });
  if (done.state !== 'connected') throw new Error(`icloud-photos: sign-in ended in ${done.state}`);
  return id;
}

/** The sample photo library: `count` postcards over four months, one album of the summer ones. */
async function seedPhotoLibrary(
  emu: ICloudPhotosEmulator,
  folder: string,
  count: number,
): Promise<void> {
  await mkdir(folder, { recursive: true });
  const rand = rng(2025);
  const start = Date.UTC(2025, 5, 1, 8);
  const span = Date.UTC(2025, 9, 1) - start;
  const summer: string[] = [];
  for (let i = 0; i < count; i++) {
    const assetDate = start + Math.floor(((i + rand() * 0.8) / count) * span);
    const month = new Date(assetDate).getUTCMonth();
    const card = postcardJpeg(1000 + i, month, 32 + 8 * (i % 3), 24 + 6 * (i % 3));
    // One photo in twenty weighs what a phone's does, so speed and time left show.
    const bytes = i % 20 === 7 ? heavyJpeg(card, 3_000_000 + i * 10_000, 1000 + i) : card;
    const filename = `IMG_${String(i + 1).padStart(4, '0')}.JPG`;
    const file = join(folder, filename);
    await writeFile(file, bytes);
    const a = emu.control.addAsset({
      kind: 'jpeg',
      filename,
      filenameType: 'ENCRYPTED_BYTES',
      assetDate,
      addedDate: assetDate + 60_000,
      modifiedAt: assetDate + 60_000,
      tzOffset: 0,
      editGen: 0,
      sizes: { resOriginal: bytes.length },
      upload: { file, ext: 'JPG', sha256: createHash('sha256').update(bytes).digest('hex') },
    });
    if (month === 6 && summer.length < 24) summer.push(a.assetId);
  }
  // The emulator's default albums are test fixtures; the demo has one album of its own.
  const lib = emu.primary;
  lib.albums.length = 0;
  const album = {
    recordName: 'DEMO-ALBUM-0000-4000-8000-000000000001',
    name: 'Summer holiday',
    albumType: 0 as const,
    position: 1024,
    deleted: false,
    members: new Set(summer),
  };
  lib.albums.push(album);
  lib.touch(`L:${album.recordName}`);
  for (const m of summer) lib.touch(`R:${m}-IN-${album.recordName}`);
}

/** Starts the emulators, seeds them, starts the engine and connects every cloud. */
export async function startDemo(opts: DemoOptions): Promise<Demo> {
  const dir = resolve(opts.dir);
  const username = opts.username ?? 'demo';
  const password = opts.password ?? 'demo-password';
  const progress = opts.progress ?? (() => undefined);
  const port = (p: DemoCloud) => opts.cloudPorts?.[p] ?? 0;
  await prepareDir(dir);
  const backupsDir = join(dir, 'backups');
  await mkdir(backupsDir, { recursive: true });

  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    // Engine first (it may be mid-transfer against an emulator), then the emulators.
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
  };
  try {
    progress('starting the cloud emulators');
    const seeded = (day: number) => new Date(Date.UTC(2025, 8, day, 10, 30));

    const drive: GoogleDriveEmulator = await startGoogleDriveEmulator({
      port: port('google-drive'),
      fixtures: false,
    });
    stops.push(() => drive.stop());
    const onedrive: OneDriveEmulator = await startOneDriveEmulator({
      port: port('onedrive'),
      clientSecret: 'demo-onedrive-app-secret',
    });
    stops.push(() => onedrive.stop());
    const dropbox: DropboxEmulator = await startDropboxEmulator({ port: port('dropbox') });
    stops.push(() => dropbox.stop());
    // The same sample tree in each, through the emulators' shared control API.
    for (const [api, seed] of [
      [drive.api, 11],
      [onedrive.api, 22],
      [dropbox.api, 33],
    ] as const) {
      for (const [i, [path, bytes]] of Object.entries(driveContents(api.kind, seed)).entries())
        await api.seedFile(path, bytes, { modifiedAt: seeded(1 + (i % 28)) });
    }

    const icloud: ICloudPhotosEmulator = await startICloudPhotosEmulator({
      port: port('icloud-photos'),
      librarySize: 0,
      sharedLibrarySize: 0,
      iterations: 1000,
    });
    stops.push(() => icloud.stop());
    const photos = opts.photos ?? 150;
    await seedPhotoLibrary(icloud, join(dir, 'emulators', 'icloud-photos'), photos);

    progress('starting the engine');
    const enginePort =
      opts.port === undefined ? DEFAULT_PORTS.engine : opts.port || (await freePort());
    const url = `http://127.0.0.1:${enginePort}`;
    const config = loadConfig({
      DATA_DIR: join(dir, 'engine'),
      PORT: String(enginePort),
      HOST: '127.0.0.1',
      PUBLIC_URL: url,
      ADMIN_USERNAME: username,
      ADMIN_PASSWORD: password,
      // The emulators' OAuth apps stand in for the ones a real install registers.
      GOOGLE_DRIVE_CLIENT_ID: drive.credentials.clientId,
      GOOGLE_DRIVE_CLIENT_SECRET: drive.credentials.clientSecret,
      ONEDRIVE_CLIENT_ID: onedrive.credentials.clientId,
      ONEDRIVE_CLIENT_SECRET: onedrive.credentials.clientSecret!,
      ONEDRIVE_TENANT: 'consumers',
      DROPBOX_APP_KEY: dropbox.credentials.clientId,
      DROPBOX_APP_SECRET: dropbox.credentials.clientSecret,
    });
    // Where each OAuth cloud lives in the demo. As the OAuth apps' defaults, they also send the
    // web UI's "Add a cloud" to the emulators' consent pages instead of the real providers'
    // (a real install has no such defaults: the connectors' own endpoints are the providers').
    const endpoints: Record<'google-drive' | 'onedrive' | 'dropbox', Record<string, string>> = {
      'google-drive': {
        apiBaseUrl: drive.credentials.apiBaseUrl,
        tokenUrl: drive.credentials.tokenUrl,
        authorizeUrl: drive.credentials.authorizeUrl,
        revokeUrl: drive.credentials.revokeUrl,
      },
      onedrive: { graphBaseUrl: onedrive.baseUrl, authorityBaseUrl: onedrive.baseUrl },
      dropbox: {
        apiBaseUrl: dropbox.hosts.api,
        contentBaseUrl: dropbox.hosts.content,
        notifyBaseUrl: dropbox.hosts.notify,
        authorizeBaseUrl: dropbox.hosts.www,
      },
    };
    for (const [kind, urls] of Object.entries(endpoints)) {
      Object.assign(config.oauth[kind]!.defaults, urls);
    }
    await mkdir(config.dataDir, { recursive: true });
    const app: INestApplication = await createApp({
      config,
      ...(opts.engineLogs ? {} : { logger: false as const }),
    });
    stops.push(() => app.close());
    await app.listen(enginePort, '127.0.0.1');

    const api = new DemoApi(url);
    const signInRequired = await api.signIn(username, password);

    progress('connecting the clouds');
    const accounts: DemoAccount[] = [];
    const local = await api.json<{ id: string }>('POST', '/api/accounts', {
      kind: 'local',
      name: 'This computer',
      options: { root: backupsDir },
    });
    accounts.push({
      id: local.id,
      kind: 'local',
      name: 'This computer',
      about: `the folder ${backupsDir}`,
    });
    const count = (cloud: string, n: number) => {
      const files = Object.keys(driveContents(cloud, n));
      const jpgs = files.filter((f) => f.endsWith('.jpg')).length;
      const videos = files.filter((f) => f.endsWith('.mp4')).length;
      return `${files.length - jpgs - videos} documents, ${jpgs} photos and ${videos} video`;
    };
    // Only a name, as the web UI sends: the endpoints come from the OAuth apps' defaults above.
    const driveId = await connectOAuth(api, 'google-drive', 'Google Drive (emulated)', {});
    accounts.push({
      id: driveId,
      kind: 'google-drive',
      name: 'Google Drive (emulated)',
      about: count('google-drive', 11),
    });
    const onedriveId = await connectOAuth(api, 'onedrive', 'OneDrive (emulated)', {});
    accounts.push({
      id: onedriveId,
      kind: 'onedrive',
      name: 'OneDrive (emulated)',
      about: count('onedrive', 22),
    });
    const dropboxId = await connectOAuth(api, 'dropbox', 'Dropbox (emulated)', {
      uploadChunkSize: 64 * KiB,
    });
    accounts.push({
      id: dropboxId,
      kind: 'dropbox',
      name: 'Dropbox (emulated)',
      about: count('dropbox', 33),
    });
    const icloudId = await connectICloud(api, icloud, 'iCloud Photos (emulated)', {
      authBaseUrl: icloud.authBaseUrl,
      setupBaseUrl: icloud.setupBaseUrl,
    });
    accounts.push({
      id: icloudId,
      kind: 'icloud-photos',
      name: 'iCloud Photos (emulated)',
      about: `${photos} photos, June to September 2025, one album`,
    });

    progress('creating the example tasks');
    const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
    const tasks: Array<{ id: string; name: string }> = [];
    const photosTask = await api.json<{ id: string; name: string }>('POST', '/api/tasks', {
      name: 'iCloud Photos to this computer',
      sourceAccountId: icloudId,
      sourcePath: 'All Photos',
      targetAccountId: local.id,
      targetPath: 'iCloud Photos',
      filter: { mode: 'all' },
      schedule: { kind: 'weekly', weekdays: ['sun'], time: '03:00', timezone },
    });
    tasks.push({ id: photosTask.id, name: photosTask.name });
    const driveTask = await api.json<{ id: string; name: string }>('POST', '/api/tasks', {
      name: 'Google Drive to Dropbox',
      sourceAccountId: driveId,
      targetAccountId: dropboxId,
      targetPath: 'Backups/Google Drive',
      filter: { mode: 'all' },
      schedule: { kind: 'daily', time: '02:00', timezone },
    });
    tasks.push({ id: driveTask.id, name: driveTask.name });

    return {
      url,
      username,
      password,
      signInRequired,
      dir,
      backupsDir,
      accounts,
      tasks,
      emulators: {
        'google-drive': drive.baseUrl,
        onedrive: onedrive.baseUrl,
        dropbox: dropbox.baseUrl,
        'icloud-photos': icloud.baseUrl,
      },
      api,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
