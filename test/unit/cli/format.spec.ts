import { exitCodeFor } from '../../../src/cli/api-client.js';
import { EXIT } from '../../../src/cli/exit-codes.js';
import { formatBytes, formatDuration, formatProgress } from '../../../src/cli/format.js';

describe('cbe output', () => {
  it('should show bytes, speed, time left and files on the progress line', () => {
    const sut = formatProgress(
      {
        bytesCopied: 512 * 2 ** 20,
        bytesTotal: 2 * 2 ** 30,
        filesCopied: 10,
        filesUnchanged: 5,
        filesFailed: 1,
        filesTotal: 40,
        phase: 'copying',
      },
      8 * 2 ** 20,
      20,
    );
    expect(sut).toBe(
      '[#####---------------]  25%  512.0 MiB / 2.00 GiB  8.00 MiB/s  3m12s left  files 16/40 (1 failed)',
    );
  });

  it('should format sizes and durations for people', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatDuration(59_400)).toBe('59s');
    expect(formatDuration(3_725_000)).toBe('1h02m');
  });

  it('should map HTTP statuses to the documented exit codes', () => {
    expect(exitCodeFor(400)).toBe(EXIT.usage);
    expect(exitCodeFor(401)).toBe(EXIT.unauthorized);
    expect(exitCodeFor(404)).toBe(EXIT.notFound);
    expect(exitCodeFor(409)).toBe(EXIT.conflict);
    expect(exitCodeFor(500)).toBe(EXIT.failed);
  });
});
