import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from '../../../src/common/clock.js';
import type {
  ConnectorConfig,
  ConnectorSecrets,
} from '../../../src/connectors/connector-descriptor.js';
import type { DropboxConnector } from '../../../src/connectors/dropbox/dropbox.connector.js';
import type { FetchLike } from '../../../src/connectors/dropbox/dropbox.fetch.js';
import { createDropboxConnector } from '../../../src/connectors/dropbox/dropbox.factory.js';
import type { PacerOptions } from '../../../src/connectors/pacer/pacer.js';
import type { DropboxEmulator } from '../../../emulators/dropbox/dropbox-emulator.js';
import type { TestApp } from '../test-app.js';

export interface DropboxForTestOverrides {
  config?: ConnectorConfig;
  secrets?: ConnectorSecrets;
  pacer?: PacerOptions;
  fetch?: FetchLike;
  /** Real waits are capped at this many ms (the requested delays are still recorded). */
  maxSleepMs?: number;
}

export interface DropboxForTest {
  connector: DropboxConnector;
  /** Every delay the pacer asked for, in ms (Retry-After shows up here). */
  sleeps: number[];
  /** Every secret set persisted through ctx.saveSecrets. */
  savedSecrets: ConnectorSecrets[];
}

/**
 * A Dropbox connector on the production code path, pointed at a running emulator: only the
 * three host URLs differ. It starts with the refresh token alone (so the first call refreshes,
 * as after a restart), and a clock that records delays without really waiting for them.
 */
export function createDropboxForTest(
  emulator: DropboxEmulator,
  overrides: DropboxForTestOverrides = {},
): DropboxForTest {
  const sleeps: number[] = [];
  const savedSecrets: ConnectorSecrets[] = [];
  const maxSleep = overrides.maxSleepMs ?? 5;
  const clock: Clock = {
    now: () => new Date(),
    sleep: async (ms, signal) => {
      sleeps.push(ms);
      await delay(Math.min(ms, maxSleep), undefined, signal ? { signal } : undefined);
    },
  };
  const connector = createDropboxConnector(
    {
      config: {
        clientId: emulator.credentials.clientId,
        apiBaseUrl: emulator.hosts.api,
        contentBaseUrl: emulator.hosts.content,
        notifyBaseUrl: emulator.hosts.notify,
        authorizeBaseUrl: emulator.hosts.www,
        uploadChunkSize: 256 * 1024,
        listPageSize: 25,
        ...overrides.config,
      },
      secrets: {
        clientSecret: emulator.credentials.clientSecret,
        refreshToken: emulator.credentials.refreshToken,
        ...overrides.secrets,
      },
    },
    {
      clock,
      saveSecrets: async (s) => {
        savedSecrets.push(s);
      },
    },
    {
      fetch: overrides.fetch,
      pacer: { backoff: { initialMs: 1, maxMs: 20, factor: 2, jitter: 0 }, ...overrides.pacer },
    },
  );
  return { connector, sleeps, savedSecrets };
}

/** The options of a Dropbox account (POST /api/accounts) that talks to `emulator`. */
export function dropboxAccountOptions(emulator: DropboxEmulator): Record<string, string> {
  return {
    clientId: emulator.credentials.clientId,
    clientSecret: emulator.credentials.clientSecret,
    refreshToken: emulator.credentials.refreshToken,
    apiBaseUrl: emulator.hosts.api,
    contentBaseUrl: emulator.hosts.content,
    notifyBaseUrl: emulator.hosts.notify,
    authorizeBaseUrl: emulator.hosts.www,
  };
}

/**
 * Through the API: a Dropbox account on `emulator`, a local "usb" account at `usbRoot` and a task
 * backing up the emulator's `/Photos` into `B` on it. Returns the task's id.
 */
export async function dropboxPhotosToUsbTask(
  t: TestApp,
  emulator: DropboxEmulator,
  usbRoot: string,
): Promise<string> {
  const account = async (body: object): Promise<string> =>
    (await t.http.post('/api/accounts').send(body).expect(201)).body.id as string;
  const sourceAccountId = await account({
    kind: 'dropbox',
    name: 'dropbox',
    options: dropboxAccountOptions(emulator),
  });
  const targetAccountId = await account({
    kind: 'local',
    name: 'usb',
    options: { root: usbRoot, fsync: false },
  });
  const res = await t.http
    .post('/api/tasks')
    .send({
      name: 'dropbox photos',
      sourceAccountId,
      sourcePath: 'Photos',
      targetAccountId,
      targetPath: 'B',
    })
    .expect(201);
  return res.body.id as string;
}
