import type { Clock } from '../../../src/common/clock.js';
import { ICloudAuthService } from '../../../src/connectors/icloud-photos/icloud-auth.service.js';
import { ICloudPhotosConnector } from '../../../src/connectors/icloud-photos/icloud-photos.connector.js';
import type { ICloudPhotosOptions } from '../../../src/connectors/icloud-photos/icloud-photos.options.js';
import type { ICloudSession } from '../../../src/connectors/icloud-photos/icloud-photos.session.js';
import { Pacer } from '../../../src/connectors/pacer/pacer.js';
import type { ICloudPhotosEmulator } from '../../../emulators/icloud-photos/icloud-photos.emulator.js';

/** A clock whose sleeps return at once, so backoff in tests costs no time. */
export const fastClock: Clock = {
  now: () => new Date(),
  sleep: async (_ms, signal) => {
    signal?.throwIfAborted();
    await new Promise((r) => setImmediate(r));
  },
};

export function emulatorEndpoints(emulator: ICloudPhotosEmulator) {
  return {
    authBaseUrl: emulator.authBaseUrl,
    setupBaseUrl: emulator.setupBaseUrl,
    webOrigin: 'https://www.icloud.com',
  };
}

/**
 * Signs in once with a second factor (code read from the emulator), so the returned session
 * carries a trust token and later sign-ins need no code.
 */
export async function signInWithTrust(emulator: ICloudPhotosEmulator): Promise<ICloudSession> {
  const auth = new ICloudAuthService(emulatorEndpoints(emulator));
  const { appleId, password } = emulator.credentials;
  const first = await auth.signIn(appleId, password);
  if (first.state === 'authenticated') return first.session;
  const asked = await auth.requestCode(first.session);
  const code = emulator.control.lastSecurityCode();
  if (!code) throw new Error('the emulator sent no code');
  return (await auth.submitCode(asked, code)).session;
}

export interface ICloudTestHandle {
  connector: ICloudPhotosConnector;
  session: ICloudSession;
  /** Every session the connector asked to persist. */
  saved: ICloudSession[];
}

export async function createICloudPhotosForTest(
  emulator: ICloudPhotosEmulator,
  overrides: Partial<ICloudPhotosOptions> & { session?: ICloudSession; pacer?: Pacer } = {},
): Promise<ICloudTestHandle> {
  const session = overrides.session ?? (await signInWithTrust(emulator));
  const saved: ICloudSession[] = [];
  const { session: _s, pacer, ...opts } = overrides;
  const connector = new ICloudPhotosConnector(
    {
      appleId: emulator.credentials.appleId,
      password: emulator.credentials.password,
      includeLivePhotoVideos: true,
      includeEdited: false,
      experimentalUpload: false,
      listConcurrency: 4,
      ...emulatorEndpoints(emulator),
      ...opts,
    },
    {
      session,
      clock: fastClock,
      pacer: pacer ?? new Pacer({ clock: fastClock, maxRetries: 6, random: () => 0 }),
      saveSession: async (s) => {
        saved.push(s);
      },
    },
  );
  return { connector, session, saved };
}
