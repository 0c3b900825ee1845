import type { ConnectorContext } from '../connector-descriptor.js';
import { Pacer } from '../pacer/pacer.js';
import { OneDriveConnector } from './onedrive.connector.js';
import type { OneDriveOptions } from './onedrive.options.js';

/** The real connector, imported by the descriptor on first use (it loads the Graph client). */
export function createOneDriveConnector(
  o: OneDriveOptions,
  ctx: ConnectorContext,
): OneDriveConnector {
  return new OneDriveConnector(o, {
    clock: ctx.clock,
    saveSecrets: (s) => ctx.saveSecrets(s),
    // Retries reach the run's log through the engine's listener.
    pacer: new Pacer({ clock: ctx.clock, onRetry: ctx.onRetry }),
  });
}
