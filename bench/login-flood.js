// Issue 19's sign-in flood against an engine process, outside Jest, for before/after figures
// (docs/benchmarks.md, "Sign-in flood"). Run from the repository root:
//   node bench/login-flood.js <build dir> [--rounds 3] [--same-addr] [--hold] [--n 300]
//        [--kind login|404] [--timeline] [--prof DIR]
// <build dir> holds a tsc build (src/main.js), e.g. `tsc -p tsconfig.build.json --outDir .b`.
// Each round: /api/health polled every 10 ms from this process while a child process sends n
// concurrent wrong passwords (or GETs of a missing page); prints health p50/p90/max, the flood's
// duration, the engine's CPU (utime+stime from /proc) and the answers, by kind ("429 gate": the
// in-flight gate, "429": the throttle inside Nest). --same-addr: every round from one address
// (rounds 2+ meet a locked address); --hold: 4 sign-ins hang in flight first (all gate refusals);
// --prof: the engine runs with --cpu-prof, and "window" is each flood's CLOCK_MONOTONIC span (us).
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const args = process.argv.slice(2);
const build = args[0];
const prof = args.includes('--prof') ? args[args.indexOf('--prof') + 1] : undefined;
const kind = args.includes('--kind') ? args[args.indexOf('--kind') + 1] : 'login';
const rounds = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 3;
const n = args.includes('--n') ? Number(args[args.indexOf('--n') + 1]) : 300;

const dir = mkdtempSync(join(tmpdir(), 'flood-'));
const port = 20000 + Math.floor(Math.random() * 20000);
const flags = ['--max-semi-space-size=4', '--heap-growing-percent=50', '--expose-gc'];
if (prof) flags.push('--cpu-prof', `--cpu-prof-dir=${prof}`);
const child = spawn(process.execPath, [...flags, join(build, 'src', 'main.js')], {
  cwd: process.cwd(),
  env: {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    ADMIN_USERNAME: 'admin',
    ADMIN_PASSWORD: 'admin-password-1',
    DATA_DIR: join(dir, 'data'),
    TRUST_PROXY: 'loopback',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;
for (;;) {
  try {
    if ((await fetch(`${base}/api/health`)).ok) break;
  } catch {}
  await new Promise((r) => setTimeout(r, 50));
}
const cpu = () => {
  const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const script = (addr) => `
  const statuses = await Promise.all(Array.from({ length: ${n} }, async (_, i) => {
    const r = ${
      kind === 'login'
        ? `await fetch(${JSON.stringify(base)} + '/api/auth/login', { method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '${addr}' },
        body: JSON.stringify({ username: 'admin', password: 'guess-' + i }) });`
        : `await fetch(${JSON.stringify(base)} + '/api/nothing-' + i);`
    }
    const t = await r.text();
    return r.status + (t.includes('at once') ? ' gate' : '');
  }));
  process.stdout.write(JSON.stringify(statuses));`;
import { connect } from 'node:net';
const held = [];
if (args.includes('--hold')) {
  for (let i = 0; i < 4; i++) {
    const so = connect(port, '127.0.0.1');
    await new Promise((r) => so.once('connect', r));
    so.write(
      'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Forwarded-For: 203.0.113.9\r\nContent-Length: 1000\r\n\r\n{"username":',
    );
    held.push(so);
  }
  await new Promise((r) => setTimeout(r, 300));
}
const q = (s, p) => s[Math.min(s.length - 1, Math.floor(s.length * p))];
for (let round = 0; round < rounds; round++) {
  let polling = true;
  const lat = [];
  const tl = [];
  const poll = (async () => {
    while (polling) {
      const t0 = performance.now();
      const r = await fetch(`${base}/api/health`);
      await r.arrayBuffer();
      lat.push(performance.now() - t0);
      tl.push([Math.round(t0 - (globalThis.fs0 ?? t0)), Math.round(performance.now() - t0)]);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  await new Promise((r) => setTimeout(r, 100));
  const c0 = cpu();
  const h0 = process.hrtime.bigint() / 1000n;
  const t0 = performance.now();
  globalThis.fs0 = t0;
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--input-type=module',
    '-e',
    script(args.includes('--same-addr') ? '203.0.113.9' : `203.0.113.${10 + round}`),
  ]);
  const floodMs = performance.now() - t0;
  const h1 = process.hrtime.bigint() / 1000n;
  polling = false;
  await poll;
  await new Promise((r) => setTimeout(r, 300));
  const c1 = cpu();
  const st = JSON.parse(stdout);
  if (args.includes('--timeline')) console.log(JSON.stringify(tl));
  const counts = {};
  for (const s of st) counts[s] = (counts[s] ?? 0) + 1;
  const s = [...lat].sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      kind,
      window: [String(h0), String(h1)],
      samples: s.length,
      p50: +q(s, 0.5).toFixed(1),
      p90: +q(s, 0.9).toFixed(1),
      max: +s[s.length - 1].toFixed(1),
      floodMs: Math.round(floodMs),
      engineCpuMs: Math.round((c1 - c0) * 1000),
      cpuPerReqMs: +(((c1 - c0) * 1000) / n).toFixed(2),
      counts,
      load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    }),
  );
}
for (const so of held) so.destroy();
child.kill('SIGINT');
await new Promise((r) => child.once('exit', r));
rmSync(dir, { recursive: true, force: true });
