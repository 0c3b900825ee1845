import type { ConnectorContext } from '../connector-descriptor.js';
import { Pacer } from '../pacer/pacer.js';
import { GoogleDriveConnector } from './google-drive.connector.js';
import type { GoogleDriveOptions } from './google-drive.options.js';

/** The real connector, imported by the descriptor on first use (it loads googleapis). */
export function createGoogleDriveConnector(
  o: GoogleDriveOptions,
  ctx: ConnectorContext,
): GoogleDriveConnector {
  return new GoogleDriveConnector(o, {
    clock: ctx.clock,
    saveSecrets: (s) => ctx.saveSecrets(s),
    pacer: new Pacer({ clock: ctx.clock, onRetry: ctx.onRetry }),
  });
}
