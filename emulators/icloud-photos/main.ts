import { startICloudPhotosEmulator } from './icloud-photos.emulator.js';

/**
 * Standalone iCloud Photos emulator for the demo and the benchmarks.
 *   npx tsc -p tsconfig.json --outDir /tmp/cbe && node /tmp/cbe/emulators/icloud-photos/main.js [port] [librarySize]
 * or PORT / ICLOUD_LIBRARY_SIZE / ICLOUD_MAX_FILE_SIZE in the environment. Benchmarks: 100000.
 */
async function main(): Promise<void> {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
  const librarySize = Number(process.argv[3] ?? process.env.ICLOUD_LIBRARY_SIZE ?? 1000);
  const maxFileSize = Number(process.env.ICLOUD_MAX_FILE_SIZE ?? 48 * 1024);
  const emu = await startICloudPhotosEmulator({
    port,
    librarySize,
    maxFileSize,
    minFileSize: Math.min(1024, maxFileSize),
  });
  console.log(`iCloud Photos emulator listening on ${emu.baseUrl}`);
  console.log(`  authBaseUrl:  ${emu.authBaseUrl}`);
  console.log(`  setupBaseUrl: ${emu.setupBaseUrl}`);
  console.log(`  Apple ID:     ${emu.credentials.appleId}`);
  console.log(`  password:     ${emu.credentials.password}`);
  console.log(`  library:      ${librarySize} items (${emu.primary.visible().length} visible)`);
  console.log('  second factor: the code is printed here when a sign-in asks for one');
  const poll = setInterval(() => {
    const code = emu.control.lastSecurityCode();
    if (code && code !== lastShown) {
      lastShown = code;
      console.log(`  verification code: ${code}`);
    }
  }, 500);
  let lastShown: string | undefined;
  const stop = () => {
    clearInterval(poll);
    void emu.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
