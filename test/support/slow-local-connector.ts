import type { ConnectorDescriptor } from '../../src/connectors/connector-descriptor.js';
import { localConnectorDescriptor } from '../../src/connectors/local/index.js';
import { FaultyConnector } from './faulty-connector.js';

/** Reads of a slow-local source wait this long before the bytes flow: runs that last seconds. */
export const SLOW_READ_MS = 120;

/** 'slow-local': the local connector whose every read starts late, for kill-mid-run tests. */
export const slowLocalDescriptor: ConnectorDescriptor = {
  ...localConnectorDescriptor,
  kind: 'slow-local',
  displayName: 'Slow local folder (tests)',
  create: (settings, ctx) =>
    new FaultyConnector(localConnectorDescriptor.create(settings, ctx), (op) =>
      op === 'read' ? { delayMs: SLOW_READ_MS } : undefined,
    ),
};
