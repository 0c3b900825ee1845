// Builds the engine (dist/) and the browser app (web/dist/) only when a source is newer than the
// last build, so `npm start` on a built tree starts in seconds instead of rebuilding (18-39 s).
// Plain JavaScript on purpose: it must run before anything is compiled. Usage:
//   node scripts/build-if-stale.js [--force] [--if-tools]
// --if-tools (npm's prepare, so `npm ci` leaves a built tree): without the build tools
// (`npm ci --omit=dev` on a tree built elsewhere) say so and succeed instead of failing.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const force = process.argv.includes('--force');
const ifTools = process.argv.includes('--if-tools');

const parts = [
  {
    name: 'engine',
    stamp: 'dist/.build-stamp',
    inputs: [
      'src',
      'scripts',
      'bench',
      'emulators',
      'tsconfig.json',
      'tsconfig.build.json',
      'package-lock.json',
    ],
    script: 'build:server',
  },
  {
    name: 'web UI',
    stamp: 'web/dist/.build-stamp',
    inputs: [
      'web/src',
      'web/index.html',
      'web/vite.config.ts',
      'web/tsconfig.json',
      'package-lock.json',
    ],
    script: 'build:web',
  },
];

/** Newest modification time (ms) under a file or folder; 0 when it does not exist. */
function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const e of readdirSync(path)) {
    if (e === 'node_modules' || e === 'dist') continue;
    max = Math.max(max, newest(join(path, e)));
  }
  return max;
}

for (const part of parts) {
  const stamp = join(root, part.stamp);
  const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
  const changed = Math.max(...part.inputs.map((p) => newest(join(root, p))));
  if (!force && built > 0 && changed <= built) continue;
  if (!existsSync(join(root, 'node_modules', 'typescript'))) {
    if (ifTools) {
      process.stderr.write(`cbe: not building the ${part.name}: no build tools installed\n`);
      continue;
    }
    process.stderr.write(
      `cbe: the ${part.name} needs a build but the build tools are missing: run npm ci first\n`,
    );
    process.exit(1);
  }
  process.stderr.write(`Building the ${part.name} (sources changed since the last build)...\n`);
  // The stamp gets the time the build started: a file saved during the build counts as newer.
  const started = new Date();
  const npm = process.env.npm_execpath;
  const r = npm
    ? spawnSync(process.execPath, [npm, 'run', '--silent', part.script], {
        cwd: root,
        stdio: 'inherit',
      })
    : spawnSync('npm', ['run', '--silent', part.script], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`cbe: building the ${part.name} failed (npm run ${part.script})\n`);
    process.exit(1);
  }
  writeFileSync(stamp, `${started.toISOString()}\n`);
  utimesSync(stamp, started, started);
}
