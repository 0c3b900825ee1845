import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from '../../src/app.factory.js';
import { loadConfig } from '../../src/config/app-config.js';
import {
  CONNECTOR_DESCRIPTORS,
  ConnectorRegistry,
} from '../../src/connectors/connector.registry.js';
import { slowLocalDescriptor } from './slow-local-connector.js';

/**
 * A worker node as `npm run worker` starts it (ROLE=worker from the environment), plus the
 * slow-local connector the cluster tests need. Compiled and spawned by test/support/cluster.ts.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const registry = new ConnectorRegistry([...CONNECTOR_DESCRIPTORS, slowLocalDescriptor]);
  const app = await createApp({ config, registry });
  await app.init();
  new Logger('worker').log(`worker ready (pid ${process.pid})`);
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

main().catch((e: unknown) => {
  new Logger('worker').error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
