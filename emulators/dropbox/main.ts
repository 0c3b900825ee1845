import { startDropboxEmulator } from './dropbox-emulator.js';

/**
 * Standalone Dropbox emulator for the demo and the benchmarks:
 *   npm run build && node dist/emulators/dropbox/main.js [port]   (or the compiled dist file)
 * Port from argv[2] or DROPBOX_EMULATOR_PORT (0 = any free port). Prints the hosts and
 * credentials as JSON; faults are driven with POST <baseUrl>/_control/<action>.
 */
async function main(): Promise<void> {
  const port = Number(process.argv[2] ?? process.env.DROPBOX_EMULATOR_PORT ?? 0);
  const emulator = await startDropboxEmulator({
    port,
    host: process.env.DROPBOX_EMULATOR_HOST ?? '127.0.0.1',
  });
  console.log(
    JSON.stringify(
      {
        baseUrl: emulator.baseUrl,
        hosts: emulator.hosts,
        credentials: emulator.credentials,
        connectorConfig: {
          clientId: emulator.credentials.clientId,
          apiBaseUrl: emulator.hosts.api,
          contentBaseUrl: emulator.hosts.content,
          notifyBaseUrl: emulator.hosts.notify,
          authorizeBaseUrl: emulator.hosts.www,
        },
        control: `${emulator.baseUrl}/_control/<rateLimitNext|failNext|cutNextDownload|cutNextUpload|expireAccessTokens|revokeRefreshTokens|setInsufficientSpace|resetCursors|...>`,
      },
      null,
      2,
    ),
  );
  const stop = () => {
    emulator.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
