/**
 * One side of a pair in the scenario matrix: a local folder or a cloud emulator in its own
 * process, with the engine account that points at it, the connector settings the limit uses (the
 * same options through the same validation, so the same product defaults and chunk sizes), and
 * its seeding helpers.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { systemClock } from '../../src/common/clock.js';
import type { ConnectorSettings } from '../../src/connectors/connector-descriptor.js';
import { validateConnectorOptions } from '../../src/connectors/connector-options.js';
import { CONNECTOR_DESCRIPTORS } from '../../src/connectors/connector.registry.js';
import {
  ICloudAuthService,
  icloudPhotosConnectorDescriptor,
  sessionToSecrets,
} from '../../src/connectors/icloud-photos/index.js';
import { contentBlocks } from './bench-util.js';
import { cloudEntry } from './cloud-table.js';
import type { RequestSummary } from './emulator-host.js';
import { EmulatorProcess } from './emulator-process.js';
import type { EngineProcess } from './engine-process.js';
import type { DataSet, SeedFile, SideKind } from './matrix-data.js';

const ICLOUD_WEB_ORIGIN = 'https://www.icloud.com';

function contentOf(f: SeedFile): Buffer {
  const out = Buffer.allocUnsafe(f.size);
  let at = 0;
  for (const b of contentBlocks(f.size, f.seed)) {
    b.copy(out, at);
    at += b.length;
  }
  return out;
}

export class Side {
  accountId = '';
  settings!: ConnectorSettings;
  private constructor(
    readonly kind: SideKind,
    readonly emulator: EmulatorProcess | undefined,
    readonly localRoot: string | undefined,
  ) {}

  /**
   * Starts the side (its emulator, for a cloud) and creates its engine account. iCloud Photos
   * generates its library at start, so it takes the data set to generate.
   */
  static async start(
    kind: SideKind,
    engine: EngineProcess,
    dir: string,
    icloudData?: DataSet,
  ): Promise<Side> {
    if (kind === 'local') {
      const root = join(dir, 'local');
      await mkdir(root, { recursive: true });
      const side = new Side(kind, undefined, root);
      const options = { root };
      side.settings = validateConnectorOptions(descriptor('local'), options);
      side.accountId = (
        await engine.api<{ id: string }>('POST', '/api/accounts', {
          kind,
          name: 'bench local',
          options,
        })
      ).id;
      return side;
    }
    const tmp = join(dir, `${kind}-tmp`);
    await mkdir(tmp, { recursive: true });
    if (kind === 'icloud-photos') {
      const lib = icloudData?.icloud ?? { librarySize: 10, minFileSize: 1024, maxFileSize: 4096 };
      const emulator = await EmulatorProcess.start(kind, lib, { TMPDIR: tmp });
      const side = new Side(kind, emulator, undefined);
      await side.signInICloud(engine);
      return side;
    }
    const emulator = await EmulatorProcess.start(kind, {}, { TMPDIR: tmp });
    const side = new Side(kind, emulator, undefined);
    const options = cloudEntry(kind).accountOptions(emulator.info);
    side.settings = validateConnectorOptions(descriptor(kind), options);
    side.accountId = (
      await engine.api<{ id: string }>('POST', '/api/accounts', {
        kind,
        name: `bench ${kind}`,
        options,
      })
    ).id;
    return side;
  }

  /** The engine signs in through its API (code read from the emulator); the limit on its own. */
  private async signInICloud(engine: EngineProcess): Promise<void> {
    const info = this.emulator!.info as {
      authBaseUrl: string;
      setupBaseUrl: string;
      credentials: { appleId: string; password: string };
    };
    const endpoints = {
      authBaseUrl: info.authBaseUrl,
      setupBaseUrl: info.setupBaseUrl,
      webOrigin: ICLOUD_WEB_ORIGIN,
    };
    const { appleId, password } = info.credentials;
    const signIn = await engine.api<{ account: { id: string }; state: string }>(
      'POST',
      '/api/accounts/icloud/sign-in',
      { name: 'bench iCloud', appleId, password, options: endpoints },
    );
    this.accountId = signIn.account.id;
    if (signIn.state !== 'connected') {
      const code = await this.emulator!.call('securityCode');
      const done = await engine.api<{ state: string }>(
        'POST',
        `/api/accounts/${this.accountId}/icloud/code`,
        { code },
      );
      if (done.state !== 'connected') throw new Error(`iCloud sign-in ended '${done.state}'`);
    }
    const auth = new ICloudAuthService(endpoints);
    const first = await auth.signIn(appleId, password);
    let session = first.session;
    if (first.state !== 'authenticated') {
      const asked = await auth.requestCode(first.session);
      const code = await this.emulator!.call('securityCode');
      if (!code) throw new Error('the iCloud emulator sent no second-factor code');
      session = (await auth.submitCode(asked, code)).session;
    }
    const base = validateConnectorOptions(icloudPhotosConnectorDescriptor, {
      appleId,
      password,
      ...endpoints,
    });
    this.settings = {
      config: base.config,
      secrets: { ...base.secrets, ...sessionToSecrets(session) },
    };
  }

  /** Where a data set lives on this side (iCloud: its whole library). */
  folderOf(ds: DataSet): string {
    return this.kind === 'icloud-photos' ? 'All Photos' : ds.folder;
  }

  /** Puts the data set at the source, with the emulator's own seeding helper (not the engine). */
  async seed(ds: DataSet): Promise<void> {
    if (this.kind === 'icloud-photos') return; // generated by the emulator at start
    if (this.kind === 'local') {
      for (const f of ds.files) {
        const p = join(this.localRoot!, ds.folder, f.rel);
        await mkdir(dirname(p), { recursive: true });
        await writeFile(p, contentOf(f));
      }
      return;
    }
    // Files of 1 GiB and more: the emulators' helpers take one Buffer and hash it in one call
    // (Drive's refuses 2 GiB: "data is too long"), so those go through the production connector,
    // streamed block by block (still not through the engine).
    const huge = ds.files.filter((f) => f.size >= 1024 * 1024 * 1024);
    if (huge.length) {
      const c = descriptor(this.kind).create(this.settings, {
        clock: systemClock,
        saveSecrets: async () => undefined,
      });
      try {
        for (const f of huge) {
          await c.write(`${ds.folder}/${f.rel}`, Readable.from(contentBlocks(f.size, f.seed)), {
            size: f.size,
          });
        }
      } finally {
        await c.close?.();
      }
    }
    // In batches: one IPC message per ~256 MiB (the emulator builds each file as a Buffer).
    let batch: Array<{ path: string; size: number; seed: number }> = [];
    let bytes = 0;
    const flush = async () => {
      if (batch.length) await this.emulator!.call('seedMany', { files: batch });
      batch = [];
      bytes = 0;
    };
    for (const f of ds.files) {
      if (huge.includes(f)) continue;
      batch.push({ path: `${ds.folder}/${f.rel}`, size: f.size, seed: f.seed });
      bytes += f.size;
      if (bytes >= 256 * 1024 * 1024 || batch.length >= 2000) await flush();
    }
    await flush();
  }

  /** Rewrites files at the source as a user would: through the production connector. */
  async modify(ds: DataSet, files: SeedFile[]): Promise<void> {
    const c = descriptor(this.kind).create(this.settings, {
      clock: systemClock,
      saveSecrets: async () => undefined,
    });
    try {
      for (const f of files) {
        await c.write(`${ds.folder}/${f.rel}`, Readable.from([contentOf(f)]), { size: f.size });
      }
    } finally {
      await c.close?.();
    }
  }

  async clearRequests(): Promise<void> {
    await this.emulator?.call('clearRequests');
  }

  async requests(): Promise<RequestSummary | null> {
    return this.emulator ? this.emulator.call('requests') : null;
  }

  async stop(): Promise<void> {
    await this.emulator?.stop();
  }
}

function descriptor(kind: string) {
  const d = CONNECTOR_DESCRIPTORS.find((x) => x.kind === kind);
  if (!d) throw new Error(`the '${kind}' connector is not registered`);
  return d;
}
