/**
 * Standalone Google Drive emulator for the demo and the benchmarks.
 *   npm run build && node dist/emulators/google-drive/main.js [port]   (or GOOGLE_DRIVE_EMULATOR_PORT)
 * Prints the base URL and the credentials as JSON on one line, then serves until SIGINT/SIGTERM.
 * Faults over HTTP: POST /__control/<action> (rate-limit-next, fail-next, cut-next-download,
 * cut-next-upload-chunk, partial-persist-next, expire-tokens, revoke-refresh-tokens,
 * expire-upload-sessions, upload-cap, invalidate-change-tokens, clear-faults, inject);
 * GET /__control/requests returns the request log.
 */
import { startGoogleDriveEmulator } from './google-drive.emulator.js';

const port = Number(process.argv[2] ?? process.env.GOOGLE_DRIVE_EMULATOR_PORT ?? 0);
const emulator = await startGoogleDriveEmulator({
  port,
  fixtures: process.env.GOOGLE_DRIVE_EMULATOR_FIXTURES !== 'false',
});
console.log(
  JSON.stringify({
    kind: 'google-drive',
    baseUrl: emulator.baseUrl,
    sharedDriveId: emulator.sharedDrive?.id,
    credentials: emulator.credentials,
  }),
);
const stop = () => {
  emulator.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
