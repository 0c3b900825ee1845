/**
 * `npm run emulators`: the four cloud emulators with sample content, for pointing any client at
 * them by hand. Prints each one's address, client credentials and tokens (one JSON line per
 * emulator after a readable summary), then serves until SIGINT/SIGTERM.
 *
 *   npm run emulators [-- --host 0.0.0.0] [--ports 4201,4202,4203,4204] [--real-hosts]
 *
 * `--real-hosts` makes every emulator hand out the real services' names in the URLs it gives
 * (upload sessions, downloads, web services, cookie domains), for running behind a TLS front that
 * maps those names to these ports (see each emulator's README).
 */
import type { EmulatorControlApi, EmulatorKind } from './emulator-control.js';
import { EMULATOR_KINDS } from './emulator-control.js';
import { startEmulator, type EmulatorOptionsByKind } from './start-emulator.js';

const REAL_HOSTS: EmulatorOptionsByKind = {
  'google-drive': { publicBaseUrl: 'https://www.googleapis.com' },
  onedrive: {
    publicUrls: {
      graph: 'https://graph.microsoft.com',
      login: 'https://login.microsoftonline.com',
      upload: 'https://api.onedrive.com',
      download: 'https://public.dm.files.1drv.com',
      monitor: 'https://api.onedrive.com',
    },
  },
  dropbox: {
    publicUrls: {
      api: 'https://api.dropboxapi.com',
      content: 'https://content.dropboxapi.com',
      notify: 'https://notify.dropboxapi.com',
      www: 'https://www.dropbox.com',
    },
  },
  'icloud-photos': {
    publicUrls: {
      idmsa: 'https://idmsa.apple.com',
      setup: 'https://setup.icloud.com',
      ckdatabasews: 'https://p61-ckdatabasews.icloud.com:443',
      photosupload: 'https://p61-uploadphotosws.icloud.com:443',
      uploadimagews: 'https://p61-uploadimagews.icloud.com:443',
      cdn: 'https://cvws.icloud-content.com',
    },
  },
};

/** A small tree every file cloud gets: plain, unicode-named, nested and a 2 MiB binary. */
function sampleFiles(kind: EmulatorKind): Array<[string, Buffer]> {
  const big = Buffer.alloc(2 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + kind.length) & 0xff;
  return [
    ['README.txt', Buffer.from(`Sample content of the ${kind} emulator.\n`)],
    ['Documents/report.txt', Buffer.from('Quarterly report\n')],
    ['Documents/Café ☕ notes.txt', Buffer.from('unicode name\n')],
    ['Documents/deep/er/file.csv', Buffer.from('a,b\n1,2\n')],
    ['Data/blob.bin', big],
  ];
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

async function main(): Promise<void> {
  const host = arg('host') ?? '127.0.0.1';
  const ports = (arg('ports') ?? '4201,4202,4203,4204').split(',').map(Number);
  const real = process.argv.includes('--real-hosts');
  const started: EmulatorControlApi[] = [];
  const out = (line: string) => process.stdout.write(`${line}\n`);
  try {
    for (const [i, kind] of EMULATOR_KINDS.entries()) {
      const base = { port: ports[i] ?? 0, host, ...(real ? REAL_HOSTS[kind] : {}) };
      const opts =
        kind === 'icloud-photos'
          ? { ...base, librarySize: 40, iterations: 1000 }
          : kind === 'google-drive'
            ? { ...base, fixtures: true }
            : kind === 'onedrive'
              ? { ...base, clientSecret: 'emulator-onedrive-app-secret' }
              : base;
      const api = await startEmulator(kind, opts as EmulatorOptionsByKind[typeof kind]);
      started.push(api);
      if (kind !== 'icloud-photos') {
        for (const [path, bytes] of sampleFiles(kind)) await api.seedFile(path, bytes);
      }
    }
  } catch (e) {
    await Promise.all(started.map((a) => a.stop()));
    throw e;
  }
  for (const api of started) {
    out(`${api.kind.padEnd(14)} ${api.baseUrl}`);
  }
  out('');
  for (const api of started) out(JSON.stringify({ kind: api.kind, ...api.info }));
  // The iCloud sign-in asks for a second-factor code: show each one the account "receives".
  let lastCode: string | undefined;
  const icloud = started.find((a) => a.kind === 'icloud-photos');
  const timer = setInterval(() => {
    const code = icloud?.secondFactorCode();
    if (code && code !== lastCode) out(`icloud-photos second-factor code: ${code}`);
    lastCode = code;
  }, 500);
  const stop = () => {
    clearInterval(timer);
    Promise.all(started.map((a) => a.stop())).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
