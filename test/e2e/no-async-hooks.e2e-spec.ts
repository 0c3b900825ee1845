import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWebDavServer, type WebDavServer } from '../servers/apache-webdav.server.js';
import { api, buildEngine, startEngine, type EngineProcess } from '../support/engine-process.js';
import { patternBytes, writeTree } from '../support/files.js';

/**
 * Issue #21: on Node 20 an enabled AsyncLocalStorage (or any async_hooks hook) installs promise
 * hooks for the whole process, and every promise pays for them (per small file: ~122 promises,
 * 16.7 KB of the 93 KB allocated, 15-25 % of the engine's CPU; docs/benchmarks.md). The engine
 * passes its log ids and the connectors' kinds explicitly instead; this keeps it so.
 *
 * The engine runs as its own process (Jest's test runner itself runs every test inside an
 * AsyncLocalStorage), with a preload that records two witnesses, both public API: every
 * `AsyncHook.enable()` with its stack (an AsyncLocalStorage's first `run`/`enterWith` enables
 * its hook through it), and, sampled every few milliseconds, whether a promise reaction runs
 * with a promise as its execution resource, which it does only while promise hooks are on.
 */
const PRELOAD = `
const { createHook, executionAsyncResource } = require('node:async_hooks');
const { renameSync, writeFileSync } = require('node:fs');
const report = { enabled: [], hooksSeen: false, samples: 0 };
// Written aside and renamed: the test reading it between a truncate and a write got '' (CI).
const save = () => {
  writeFileSync(process.env.HOOK_REPORT + '.tmp', JSON.stringify(report));
  renameSync(process.env.HOOK_REPORT + '.tmp', process.env.HOOK_REPORT);
};
const proto = Object.getPrototypeOf(createHook({}));
const enable = proto.enable;
proto.enable = function () {
  report.enabled.push(new Error('AsyncHook.enable()').stack);
  save();
  return enable.call(this);
};
setInterval(() => {
  Promise.resolve().then(() => {
    report.samples++;
    if (executionAsyncResource() instanceof Promise) report.hooksSeen = true;
  });
}, 5).unref();
setInterval(save, 50).unref();
`;

interface HookReport {
  enabled: string[];
  hooksSeen: boolean;
  samples: number;
}

interface Run {
  id: string;
  status: string;
  filesCopied: number;
}

describe('an engine serving the API and running backups', () => {
  let dir: string;
  let dav: WebDavServer;
  let engine: EngineProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cbe-no-hooks-'));
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 60; i++) files[`f${i % 4}/small-${i}.jpg`] = patternBytes(2000 + i * 37, i);
    [dav] = await Promise.all([
      startWebDavServer(),
      buildEngine(),
      writeTree(join(dir, 'src'), files),
      mkdir(join(dir, 'usb')),
      writeFile(join(dir, 'preload.cjs'), PRELOAD),
    ]);
  }, 120_000);

  afterAll(async () => {
    await engine?.kill('SIGKILL');
    await dav?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('should never enable an async_hooks hook or AsyncLocalStorage (promise hooks on every promise)', async () => {
    const reportFile = join(dir, 'hooks.json');
    engine = await startEngine({
      DATA_DIR: join(dir, 'data'),
      NODE_OPTIONS: `--require ${join(dir, 'preload.cjs')}`,
      HOOK_REPORT: reportFile,
    });
    const base = engine.baseUrl;
    const account = async (kind: string, name: string, options: Record<string, unknown>) =>
      (await api<{ id: string }>(base, 'POST', '/api/accounts', { kind, name, options })).id;
    const source = await account('local', 'Photos', { root: join(dir, 'src') });
    const usb = await account('local', 'USB', { root: join(dir, 'usb') });
    const nas = await account('webdav', 'NAS', {
      url: dav.basicUrl,
      username: dav.basic.username,
      password: dav.basic.password,
    });

    for (const target of [usb, nas]) {
      const task = await api<{ id: string }>(base, 'POST', '/api/tasks', {
        name: `to ${target}`,
        sourceAccountId: source,
        targetAccountId: target,
      });
      let run = await api<Run>(base, 'POST', `/api/tasks/${task.id}/run`);
      while (run.status === 'queued' || run.status === 'running') {
        await new Promise((r) => setTimeout(r, 50));
        run = await api<Run>(base, 'GET', `/api/runs/${run.id}`);
      }
      expect(run).toMatchObject({ status: 'completed', filesCopied: 60 });
    }
    await api(base, 'GET', `/api/accounts/${nas}/browse`);
    await new Promise((r) => setTimeout(r, 200)); // a last sample and save

    const report = JSON.parse(await readFile(reportFile, 'utf8')) as HookReport;
    expect(report.samples).toBeGreaterThan(10);
    expect(report.enabled).toEqual([]);
    expect(report.hooksSeen).toBe(false);
  });
});
