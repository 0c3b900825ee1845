import { startOneDriveEmulator } from './onedrive-emulator.js';

// Standalone OneDrive / Graph emulator for the demo and benchmarks:
//   npm run build && node dist/emulators/onedrive/main.js [port]   (or ONEDRIVE_EMULATOR_PORT=...)
// Point the connector's graphBaseUrl and authorityBaseUrl at the printed base URL. Faults can be
// injected with POST {baseUrl}/_emulator/control {"action":"rateLimitNext","args":[{"retryAfterSec":2}]}.
const port = Number(process.argv[2] ?? process.env.ONEDRIVE_EMULATOR_PORT ?? 0);
const emulator = await startOneDriveEmulator({
  port,
  clientId: process.env.ONEDRIVE_EMULATOR_CLIENT_ID,
  clientSecret: process.env.ONEDRIVE_EMULATOR_CLIENT_SECRET,
});
console.log(
  JSON.stringify(
    {
      baseUrl: emulator.baseUrl,
      options: {
        clientId: emulator.credentials.clientId,
        graphBaseUrl: emulator.baseUrl,
        authorityBaseUrl: emulator.baseUrl,
        tenant: 'common',
      },
      secrets: {
        refreshToken: emulator.credentials.refreshToken,
        accessToken: emulator.credentials.accessToken,
        accessTokenExpiresAt: String(emulator.credentials.accessTokenExpiresAt),
      },
      driveId: emulator.credentials.driveId,
    },
    null,
    2,
  ),
);
const shutdown = (): void => {
  void emulator.stop().then(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
