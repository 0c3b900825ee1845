import type {
  ConnectorConfig,
  ConnectorDescriptor,
  InteractiveSignIn,
} from '../connector-descriptor.js';
import { Pacer } from '../pacer/pacer.js';
import { ICloudAuthService } from './icloud-auth.service.js';
import { ICLOUD_PHOTOS_CAPABILITIES, ICloudPhotosConnector } from './icloud-photos.connector.js';
import {
  DEFAULT_AUTH_BASE_URL,
  DEFAULT_SETUP_BASE_URL,
  DEFAULT_WEB_ORIGIN,
  ICLOUD_PHOTOS_OPTIONS,
  type ICloudEndpoints,
  type ICloudPhotosOptions,
} from './icloud-photos.options.js';
import { sessionFromSecrets, sessionToSecrets } from './icloud-photos.session.js';

export { ICloudAuthService, type SignInResult } from './icloud-auth.service.js';
export {
  ICloudSignInError,
  REAUTH_MESSAGE,
  type ICloudSignInReason,
} from './icloud-photos.errors.js';
export {
  sessionFromSecrets,
  sessionToSecrets,
  type ICloudSession,
} from './icloud-photos.session.js';

function endpointsOf(c: ConnectorConfig): ICloudEndpoints {
  return {
    authBaseUrl: String(c.authBaseUrl ?? DEFAULT_AUTH_BASE_URL),
    setupBaseUrl: String(c.setupBaseUrl ?? DEFAULT_SETUP_BASE_URL),
    webOrigin: String(c.webOrigin ?? DEFAULT_WEB_ORIGIN),
  };
}

/** SRP sign-in with the Apple ID password, then the 6-digit code unless a trust token spares it. */
export const icloudInteractiveSignIn: InteractiveSignIn = {
  identityOption: 'appleId',
  async signIn({ config, identity, password, previous }) {
    const auth = new ICloudAuthService(endpointsOf(config));
    const before = previous ? sessionFromSecrets(identity, previous) : undefined;
    const result = await auth.signIn(identity, password, before);
    if (result.state === 'authenticated')
      return { state: 'authenticated', secrets: sessionToSecrets(result.session) };
    // Since iOS 26.4 Apple shows no code until the client asks for one.
    const asked = await auth.requestCode(result.session);
    return { state: 'needs-code', secrets: sessionToSecrets(asked) };
  },
  async requestCode({ config, identity, secrets }) {
    const auth = new ICloudAuthService(endpointsOf(config));
    return sessionToSecrets(await auth.requestCode(sessionFromSecrets(identity, secrets)));
  },
  async submitCode({ config, identity, secrets, code }) {
    const auth = new ICloudAuthService(endpointsOf(config));
    const result = await auth.submitCode(sessionFromSecrets(identity, secrets), code);
    return sessionToSecrets(result.session);
  },
};

/**
 * iCloud Photos (read-only source). Accounts are connected through its interactive sign-in (SRP,
 * second factor, trust token), not OAuth: the accounts module stores the returned session's
 * secrets, and the connector keeps them fresh through `ctx.saveSecrets`.
 */
export const icloudPhotosConnectorDescriptor: ConnectorDescriptor = {
  kind: 'icloud-photos',
  displayName: 'iCloud Photos',
  description:
    'The photo library of an Apple Account (read-only: back up from it, restore to another place).',
  options: ICLOUD_PHOTOS_OPTIONS,
  capabilities: ICLOUD_PHOTOS_CAPABILITIES,
  requestHosts: ['icloud.com', 'icloud-content.com'], // the account's partitions, downloads
  interactiveSignIn: icloudInteractiveSignIn,
  create: (settings, ctx) => {
    const c = settings.config;
    const options: ICloudPhotosOptions = {
      appleId: String(c.appleId),
      password: settings.secrets.password || undefined,
      includeLivePhotoVideos: c.includeLivePhotoVideos !== false,
      includeEdited: c.includeEdited === true,
      experimentalUpload: c.experimentalUpload === true,
      ...endpointsOf(c),
      listConcurrency: typeof c.listConcurrency === 'number' ? c.listConcurrency : 4,
    };
    // experimentalUpload makes this instance writable (uploads via photosupload, see upload.ts).
    return new ICloudPhotosConnector(options, {
      session: sessionFromSecrets(options.appleId, settings.secrets),
      clock: ctx.clock,
      // One pacer per connector, reporting its retries so a run's log names each fault survived.
      pacer: new Pacer({ clock: ctx.clock, maxRetries: 6, onRetry: ctx.onRetry }),
      saveSession: (s) =>
        ctx.saveSecrets({
          ...sessionToSecrets(s),
          ...(settings.secrets.password ? { password: settings.secrets.password } : {}),
        }),
    });
  },
};
