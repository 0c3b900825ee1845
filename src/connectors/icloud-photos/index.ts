import type { ConnectorDescriptor } from '../connector-descriptor.js';
import { Pacer } from '../pacer/pacer.js';
import { ICLOUD_PHOTOS_CAPABILITIES, ICloudPhotosConnector } from './icloud-photos.connector.js';
import {
  DEFAULT_AUTH_BASE_URL,
  DEFAULT_SETUP_BASE_URL,
  DEFAULT_WEB_ORIGIN,
  ICLOUD_PHOTOS_OPTIONS,
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

/**
 * iCloud Photos (read-only source). Accounts are connected through `ICloudAuthService` (SRP
 * sign-in, second factor, trust token), not OAuth: the accounts module stores the returned
 * session with `sessionToSecrets`, and the connector keeps it fresh through `ctx.saveSecrets`.
 */
export const icloudPhotosConnectorDescriptor: ConnectorDescriptor = {
  kind: 'icloud-photos',
  displayName: 'iCloud Photos',
  description:
    'The photo library of an Apple Account (read-only: back up from it, restore to another place).',
  options: ICLOUD_PHOTOS_OPTIONS,
  capabilities: ICLOUD_PHOTOS_CAPABILITIES,
  create: (settings, ctx) => {
    const c = settings.config;
    const options: ICloudPhotosOptions = {
      appleId: String(c.appleId),
      password: settings.secrets.password || undefined,
      includeLivePhotoVideos: c.includeLivePhotoVideos !== false,
      includeEdited: c.includeEdited === true,
      experimentalUpload: c.experimentalUpload === true,
      authBaseUrl: String(c.authBaseUrl ?? DEFAULT_AUTH_BASE_URL),
      setupBaseUrl: String(c.setupBaseUrl ?? DEFAULT_SETUP_BASE_URL),
      webOrigin: String(c.webOrigin ?? DEFAULT_WEB_ORIGIN),
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
