/**
 * `npm run demo`: builds, then runs this file. Starts the demo (see demo.ts), prints where to go
 * and how to sign in, and stops everything on Ctrl-C (SIGINT) or SIGTERM.
 *
 * Environment (all optional):
 *   DEMO_DIR                  folder for the demo's data, emptied at each start (./demo-data)
 *   DEMO_PORT                 the UI and API (3000)
 *   DEMO_GOOGLE_DRIVE_PORT, DEMO_ONEDRIVE_PORT, DEMO_DROPBOX_PORT, DEMO_ICLOUD_PORT
 *                             the emulators (4101, 4102, 4103, 4104)
 *   DEMO_PHOTOS               pictures in the iCloud Photos library (150)
 *   DEMO_VERBOSE=1            the engine's own log lines too
 */
import { DEFAULT_PORTS, DemoSetupError, startDemo, type Demo, type DemoCloud } from './demo.js';

const out = (line = '') => process.stdout.write(`${line}\n`);
const env = process.env;

function intFrom(name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`${name} must be a whole number from ${min} to ${max} (got '${raw}')\n`);
    process.exit(2);
  }
  return n;
}

const KIND_LABEL: Record<string, string> = {
  local: 'Local folder',
  'google-drive': 'Google Drive',
  onedrive: 'OneDrive',
  dropbox: 'Dropbox',
  'icloud-photos': 'iCloud Photos',
};

function banner(demo: Demo): void {
  const line = '-'.repeat(72);
  out();
  out(line);
  out(' Demo mode: the backup engine with emulated clouds (no real account needed)');
  out(line);
  out(` Open        ${demo.url}/`);
  if (demo.signInRequired) {
    out(` Username    ${demo.username}`);
    out(` Password    ${demo.password}`);
  } else out(` Sign-in     none (this engine has no sign-in yet)`);
  out();
  out(' Connected:');
  for (const a of demo.accounts)
    out(`   ${(KIND_LABEL[a.kind] ?? a.kind).padEnd(14)} ${a.name}: ${a.about}`);
  out();
  out(' Example tasks (Backup tasks page):');
  for (const t of demo.tasks) out(`   ${t.name}`);
  out();
  out(' Try it: open Backup tasks, press "Run now" on "iCloud Photos to this computer",');
  out(' watch the run. Then press "Versions", open the version and restore it:');
  out(' Where > "Somewhere else", account "This computer", folder "Restored".');
  out(` Backups and restored files land in ${demo.backupsDir}`);
  out();
  out(` Data: ${demo.dir} (emptied at the next start of the demo)`);
  out(` Emulators: ${Object.values(demo.emulators).join('  ')}`);
  out(' Stop: Ctrl-C (stops the engine and the emulators)');
  out(line);
}

async function main(): Promise<void> {
  const cloudPorts: Record<DemoCloud, number> = {
    'google-drive': intFrom('DEMO_GOOGLE_DRIVE_PORT', DEFAULT_PORTS['google-drive'], 0, 65535),
    onedrive: intFrom('DEMO_ONEDRIVE_PORT', DEFAULT_PORTS.onedrive, 0, 65535),
    dropbox: intFrom('DEMO_DROPBOX_PORT', DEFAULT_PORTS.dropbox, 0, 65535),
    'icloud-photos': intFrom('DEMO_ICLOUD_PORT', DEFAULT_PORTS['icloud-photos'], 0, 65535),
  };
  // While starting, everything lives in this process: leaving it stops everything.
  const early = (signal: NodeJS.Signals) => {
    out(`\n${signal}: stopped while starting`);
    process.exit(130);
  };
  process.on('SIGINT', early);
  process.on('SIGTERM', early);

  const demo = await startDemo({
    dir: env.DEMO_DIR || 'demo-data',
    port: intFrom('DEMO_PORT', DEFAULT_PORTS.engine, 0, 65535),
    cloudPorts,
    photos: intFrom('DEMO_PHOTOS', 150, 1, 5000),
    engineLogs: env.DEMO_VERBOSE === '1',
    progress: (l) => out(`demo: ${l}...`),
  });

  // The engine listens for these signals too (Nest's shutdown hooks close it, then re-raise the
  // signal); the demo closes the engine itself, then the emulators, so it keeps them to itself.
  // Ctrl-C under `npm run` can arrive twice at once (from the terminal and forwarded by npm): a
  // repeat within a moment is the same Ctrl-C; a later one stops at once.
  let stoppingSince = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stoppingSince > 0) {
      if (Date.now() - stoppingSince < 1500) return;
      out('\nstopping at once');
      process.exit(130);
    }
    stoppingSince = Date.now();
    out(`\n${signal}: stopping the engine and the emulators...`);
    demo.stop().then(
      () => {
        out('demo stopped');
        process.exit(0);
      },
      (e: unknown) => {
        process.stderr.write(`while stopping: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, shutdown);
  }
  banner(demo);
}

main().catch((e: unknown) => {
  const err = e as NodeJS.ErrnoException;
  if (err instanceof DemoSetupError) process.stderr.write(`demo: ${err.message}\n`);
  else if (err.code === 'EADDRINUSE')
    process.stderr.write(
      `demo: a port is already in use (${err.message}); set DEMO_PORT or the DEMO_*_PORT variables\n`,
    );
  else process.stderr.write(`demo: ${err.stack ?? String(e)}\n`);
  process.exit(1);
});
