import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.factory.js';
import { ConfigError, loadConfig } from './config/app-config.js';

async function main(): Promise<void> {
  const logger = new Logger('main');
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      logger.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  const app = await createApp({ config });
  if (config.role === 'worker') {
    // A worker-only node (cluster mode): executes queued runs and schedule slots, serves no HTTP.
    await app.init();
    logger.log(`worker started (pid ${process.pid}); runs and schedule slots from Redis`);
    return;
  }
  await app.listen(config.port, config.host);
  const db = config.database.type === 'sqlite' ? config.database.file : 'PostgreSQL';
  logger.log(
    `API on ${config.publicUrl}/api (docs at ${config.publicUrl}/api/docs); data in ${config.dataDir}; database ${db}`,
  );
}

main().catch((e: unknown) => {
  new Logger('main').error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
