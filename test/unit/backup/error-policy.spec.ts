import { classifyFileError, runEndFor } from '../../../src/backup/transfer/error-policy.js';
import {
  SourceGoneError,
  SourceHashMismatchError,
} from '../../../src/backup/transfer/transfer-file.js';
import {
  AuthExpiredError,
  FatalError,
  IntegrityError,
  InvalidPathError,
  NotFoundError,
  QuotaExceededError,
  RateLimitedError,
  RootMissingError,
  SourceOfflineError,
  TargetOfflineError,
  TransientError,
} from '../../../src/connectors/connector.errors.js';

const first = { attempt: 1, maxAttempts: 3, aborted: false };
const last = { attempt: 3, maxAttempts: 3, aborted: false };

describe('classifyFileError', () => {
  it.each([
    ['a backslash in a name', new InvalidPathError("path 'a\\b.jpg' contains a backslash")],
    ['a 300-byte name', new InvalidPathError('name is longer than 255 bytes')],
    ['an unreadable file', new FatalError("'x': permission denied (EACCES)")],
    ['a stored copy that differs', new IntegrityError('sha256 differs')],
    ['a file the target does not have', new NotFoundError('x')],
    ['an error no connector typed', new TypeError('boom')],
  ])('should skip the file, not the run, for %s', (_what, e) => {
    const verdict = classifyFileError(e, first);

    expect(verdict).toMatchObject({ action: 'skip-file', reason: e.message });
  });

  it.each([
    ['a cut connection', new TransientError('socket hang up')],
    ['a rate limit', new RateLimitedError('429')],
    ['a source whose bytes do not match its hash', new SourceHashMismatchError('md5 differs')],
  ])('should retry %s while tries are left', (_what, e) => {
    expect(classifyFileError(e, first)).toEqual({ action: 'retry' });
  });

  it('should skip a file that keeps failing after the retries, saying so', () => {
    const verdict = classifyFileError(new TransientError('socket hang up'), last);

    expect(verdict).toEqual({
      action: 'skip-file',
      code: 'TRANSIENT',
      reason: 'socket hang up (still failing after 3 tries)',
    });
  });

  it.each([
    ['expired credentials', new AuthExpiredError('token revoked')],
    ['a full target', new QuotaExceededError('no space')],
    ['an offline target', new TargetOfflineError('gone')],
    ['an offline source', new SourceOfflineError('gone')],
    ['a root lost mid-run', new RootMissingError('gone')],
  ])('should stop the run for %s', (_what, e) => {
    expect(classifyFileError(e, first)).toEqual({ action: 'stop-run', error: e });
  });

  it('should call a file deleted at the source since the listing vanished', () => {
    expect(classifyFileError(new SourceGoneError('x'), first)).toEqual({ action: 'vanished' });
  });

  it('should call any failure after a cancel cancelled', () => {
    const verdict = classifyFileError(new TransientError('x'), { ...first, aborted: true });

    expect(verdict).toEqual({ action: 'cancelled' });
  });

  it("should retry, then skip with a reason, an AbortError the run's signal did not cause", () => {
    const abort = Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });

    expect(classifyFileError(abort, first)).toEqual({ action: 'retry' });
    expect(classifyFileError(abort, last)).toEqual({
      action: 'skip-file',
      code: 'ABORTED',
      reason: 'This operation was aborted (still failing after 3 tries)',
    });
    expect(classifyFileError(abort, { ...first, aborted: true })).toEqual({ action: 'cancelled' });
  });

  it('should end a run offline for an offline side, failed otherwise', () => {
    expect(runEndFor(new TargetOfflineError('x'))).toBe('target-offline');
    expect(runEndFor(new SourceOfflineError('x'))).toBe('source-offline');
    expect(runEndFor(new QuotaExceededError('x'))).toBe('failed');
  });
});
