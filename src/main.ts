import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { ConfigError, loadConfig, type AppConfig } from './config/app-config.js';
import { formatConfigHelp } from './config/config-variables.js';

const USAGE = `Usage: npm start [-- --help]    (or: node dist/src/main.js)

Starts the cloud backup engine: the web UI, the API (/api, documented at /api/docs) and the run
executor, configured by the environment variables below. Exit codes: 0 stopped, 1 could not
start or crashed, 2 bad configuration or option.`;

/** What a start failure means for the operator, in one line naming the variable to change. */
function describeListenError(e: unknown, config: AppConfig): string | undefined {
  const code = (e as { code?: unknown }).code;
  switch (code) {
    case 'EADDRINUSE':
      return `PORT ${config.port} is already in use on ${config.host}: stop what listens there or set PORT to a free port`;
    case 'EACCES':
      return `PORT ${config.port} needs privileges on this machine: set PORT to 1024 or above`;
    case 'EADDRNOTAVAIL':
      return `HOST '${config.host}' is not an address of this machine: set HOST to one of its addresses, 127.0.0.1 or 0.0.0.0`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `HOST '${config.host}' does not resolve to an address: set HOST to an address of this machine, 127.0.0.1 or 0.0.0.0`;
    default:
      return undefined;
  }
}

function fail(line: string, code: number): never {
  process.stderr.write(`cbe: ${line}\n`);
  process.exit(code);
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(formatConfigHelp(USAGE));
    return;
  }
  const unknown = argv.filter((a) => a.startsWith('-'));
  if (unknown.length > 0) fail(`unknown option ${unknown[0]} (see --help)`, 2);
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const p of e.problems) process.stderr.write(`cbe: ${p}\n`);
    process.stderr.write('cbe: bad configuration; --help lists every variable\n');
    process.exit(2);
  }
  // Imported after the configuration is checked: --help and a bad variable answer at once
  // instead of after loading Nest, TypeORM and the connectors.
  const { EngineLogger } = await import('./logging/engine-logger.js');
  const logger = EngineLogger.fromConfig(config);
  let app: INestApplication;
  try {
    const { createApp } = await import('./app.factory.js');
    app = await createApp({ config, logger });
  } catch (e) {
    logger.error(e instanceof Error ? e : String(e), 'main');
    fail(`could not start: ${e instanceof Error ? e.message : String(e)}`, 1);
  }
  if (config.role === 'worker') {
    // A worker-only node (cluster mode): executes queued runs and schedule slots, serves no HTTP.
    await app.init();
    logger.log(`worker started (pid ${process.pid}); runs and schedule slots from Redis`, 'main');
    return;
  }
  try {
    await app.listen(config.port, config.host);
  } catch (e) {
    const line = describeListenError(e, config);
    if (!line) throw e;
    await app.close().catch(() => undefined);
    fail(line, 1);
  }
  const db = config.database.type === 'sqlite' ? config.database.file : 'PostgreSQL';
  logger.log(`data in ${config.dataDir}; database ${db}`, 'main');
  logger.log(`web UI at ${config.publicUrl}/  API docs at ${config.publicUrl}/api/docs`, 'main');
}

main(process.argv.slice(2)).catch((e: unknown) => {
  fail(`could not start: ${e instanceof Error ? e.message : String(e)}`, 1);
});
