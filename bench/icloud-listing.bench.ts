/**
 * iCloud Photos listing cost through the real engine. The iCloud Photos emulator runs in its own
 * process with a generated library of `--items` assets; the engine (its own process, own
 * DATA_DIR) runs a task iCloud Photos -> local whose filter matches nothing (include extension
 * `zzz`), so the planner lists the whole library, the filter drops every file, and nothing is
 * copied (checked: filesCopied 0, filesFiltered = files listed). Reported: CloudKit requests of
 * the full listing (from the emulator's request log), the page size they used, wall time and
 * the engine's peak RSS; then the same for a second run with nothing changed (a run with a
 * change feed cursor should need a handful of requests). Also, for reference, the connector's
 * own change feed called directly (outside the engine) on the unchanged library.
 *
 * The account is connected through the API's iCloud sign-in (`POST /api/accounts/icloud/sign-in`,
 * then `/:id/icloud/code` with the code read from the emulator, as a user would type it).
 *
 *   npm run bench:icloud -- [--items 100000] [--source-path "All Photos"] [--dir D]
 */
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ICloudAuthService, sessionToSecrets } from '../src/connectors/icloud-photos/index.js';
import { icloudPhotosConnectorDescriptor } from '../src/connectors/icloud-photos/index.js';
import { ASSETS_PER_QUERY } from '../src/connectors/icloud-photos/icloud-photos.queries.js';
import { hasChangeFeed } from '../src/connectors/capabilities.js';
import {
  describeMachine,
  machineInfo,
  parseArgs,
  round,
  saveResult,
} from './support/bench-util.js';
import { EmulatorProcess } from './support/emulator-process.js';
import type { RequestSummary } from './support/emulator-host.js';
import { EngineProcess, type PhaseMemory } from './support/engine-process.js';

const WEB_ORIGIN = 'https://www.icloud.com';

interface ListingRun {
  run: string;
  status: string;
  errorMessage: string | null;
  /** Files the planner saw and the filter dropped (= files listed, since nothing matches). */
  filesListed: number;
  filesCopied: number;
  seconds: number;
  wallSeconds: number;
  memory: PhaseMemory;
  requests: RequestSummary;
  cloudKitRequests: number;
  planFields: Record<string, unknown>;
}

async function main(): Promise<void> {
  const args = parseArgs();
  const items = Number(args.get('items') ?? 100_000);
  const sourcePath = args.get('source-path') ?? 'All Photos';
  const root = resolve(args.get('dir') ?? join(tmpdir(), `cbe-bench-icloud-${items}`));
  const machine = machineInfo();
  await rm(root, { recursive: true, force: true });
  const localRoot = join(root, 'local');
  await mkdir(localRoot, { recursive: true });

  console.log(`icloud-photos: starting the emulator with ${items} items ...`);
  const emulator = await EmulatorProcess.start('icloud-photos', { librarySize: items });
  let engine: EngineProcess | undefined;
  try {
    const info = emulator.info as {
      authBaseUrl: string;
      setupBaseUrl: string;
      credentials: { appleId: string; password: string };
      visibleItems: number;
    };
    const endpoints = {
      authBaseUrl: info.authBaseUrl,
      setupBaseUrl: info.setupBaseUrl,
      webOrigin: WEB_ORIGIN,
    };

    const dataDir = join(root, 'engine-data');
    engine = await EngineProcess.start({ dataDir, env: { TMPDIR: root } });
    const e = engine;
    const idle = await e.status();
    // Sign in through the API as the UI does: password, then the code the "trusted device" shows.
    const { appleId, password } = info.credentials;
    const signIn = await e.api<{ account: { id: string }; state: string }>(
      'POST',
      '/api/accounts/icloud/sign-in',
      { name: 'bench iCloud', appleId, password, options: endpoints },
    );
    const icloud = signIn.account;
    if (signIn.state !== 'connected') {
      const code = await emulator.call('securityCode');
      if (!code) throw new Error('the emulator sent no second-factor code');
      const done = await e.api<{ state: string }>(
        'POST',
        `/api/accounts/${icloud.id}/icloud/code`,
        { code },
      );
      if (done.state !== 'connected') throw new Error(`iCloud sign-in ended '${done.state}'`);
    }
    const local = await e.api<{ id: string }>('POST', '/api/accounts', {
      kind: 'local',
      name: 'bench local',
      options: { root: localRoot },
    });
    const task = await e.api<{ id: string }>('POST', '/api/tasks', {
      name: 'icloud listing bench',
      sourceAccountId: icloud.id,
      sourcePath,
      targetAccountId: local.id,
      targetPath: 'icloud',
      filter: { mode: 'include', extensions: ['zzz'] },
    });

    const measureRun = async (name: string): Promise<ListingRun> => {
      await emulator.call('clearRequests');
      console.log(`${name} ...`);
      const { value: run, memory } = await e.measure(() => e.runTask(task.id));
      const requests = await emulator.call('requests');
      const r: ListingRun = {
        run: name,
        status: run.status,
        errorMessage: run.errorMessage,
        filesListed: run.filesFiltered,
        filesCopied: run.filesCopied,
        seconds: round(run.durationMs / 1000, 2),
        wallSeconds: round(run.wallMs / 1000, 2),
        memory: {
          ...memory,
          startRssMiB: round(memory.startRssMiB),
          peakRssMiB: round(memory.peakRssMiB),
          sampledMaxRssMiB: round(memory.sampledMaxRssMiB),
        },
        requests,
        cloudKitRequests: Object.entries(requests.byLabel)
          .filter(([k]) => k.startsWith('ck '))
          .reduce((n, [, v]) => n + v, 0),
        planFields: Object.fromEntries(
          Object.entries(run).filter(([k]) => /plan|mode|cursor/i.test(k)),
        ),
      };
      console.log(
        `  ${r.status}: ${r.filesListed} files listed, ${r.filesCopied} copied, ${r.requests.total} requests (${r.cloudKitRequests} CloudKit), ${r.seconds} s, peak RSS ${r.memory.peakRssMiB} MiB`,
      );
      return r;
    };

    const full = await measureRun('first run (full listing)');
    const repeat = await measureRun('second run, library unchanged');

    // Reference figure: the connector's change feed on the unchanged library, called directly
    // (its own sign-in: the trust token lives in the engine's vault, so this one needs a code).
    const auth = new ICloudAuthService(endpoints);
    const first = await auth.signIn(appleId, password);
    let session = first.session;
    if (first.state !== 'authenticated') {
      const asked = await auth.requestCode(first.session);
      const code = await emulator.call('securityCode');
      if (!code) throw new Error('the emulator sent no second-factor code');
      session = (await auth.submitCode(asked, code)).session;
    }
    const connector = icloudPhotosConnectorDescriptor.create(
      {
        config: { appleId, ...endpoints, includeLivePhotoVideos: true, includeEdited: false },
        secrets: { ...sessionToSecrets(session), password },
      },
      {
        clock: { now: () => new Date(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
        saveSecrets: async () => undefined,
      },
    );
    let feed: { cursorRequests: number; changesRequests: number; changes: number } | null = null;
    if (hasChangeFeed(connector)) {
      await emulator.call('clearRequests');
      const cursor = await connector.currentCursor(sourcePath, {});
      const cursorRequests = (await emulator.call('requests')).total;
      await emulator.call('clearRequests');
      const page = await connector.changes(sourcePath, cursor, {});
      feed = {
        cursorRequests,
        changesRequests: (await emulator.call('requests')).total,
        changes: page.changes.length,
      };
    }
    await connector.close?.();

    const result = {
      benchmark: 'icloud-listing',
      date: new Date().toISOString(),
      command: `node dist/bench/icloud-listing.bench.js --items ${items}`,
      machine,
      machineText: describeMachine(machine),
      libraryItems: items,
      visibleItems: info.visibleItems,
      sourcePath,
      filter: 'include extension zzz (matches nothing)',
      connectorPageSize: {
        assetsPerQuery: ASSETS_PER_QUERY,
        resultsLimitRecords: ASSETS_PER_QUERY * 2,
      },
      engineIdleRssMiB: round(idle.rssKiB / 1024),
      emulatorPeakRssMiB: round(await emulator.peakRssMiB()),
      runs: [full, repeat],
      connectorChangeFeedDirect: feed,
    };
    console.log(JSON.stringify(result, null, 2));
    console.log(`saved ${await saveResult(`icloud-listing-${items}`, result)}`);
    const ok = [full, repeat].every((r) => r.status === 'completed' && r.filesCopied === 0);
    if (!ok || full.filesListed === 0) process.exitCode = 1;
  } finally {
    await engine?.stop();
    await emulator.stop();
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
