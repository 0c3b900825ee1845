import {
  AlreadyExistsError,
  ConnectorError,
  FatalError,
  InvalidPathError,
  IsADirectoryError,
  NotADirectoryError,
  NotFoundError,
  QuotaExceededError,
  TransientError,
} from '../connector.errors.js';

/** Maps Node file-system errors to connector errors; `what` names the path for the message. */
export function mapFsError(e: unknown, what: string): Error {
  if (e instanceof ConnectorError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const opts = { cause: e, providerCode: code };
  switch (code) {
    case 'ENOENT':
      return new NotFoundError(`'${what}' does not exist`, opts);
    case 'ENOTDIR':
      return new NotADirectoryError(`'${what}': a part of the path is a file, not a folder`, opts);
    case 'EISDIR':
      return new IsADirectoryError(`'${what}' is a folder`, opts);
    case 'ELOOP':
      // Opened with O_NOFOLLOW after lstat saw a plain file: a link was swapped in meanwhile.
      return new InvalidPathError(`'${what}' became a symbolic link while it was opened`, opts);
    case 'EEXIST':
      return new AlreadyExistsError(`'${what}' already exists`, opts);
    case 'ENOSPC':
    case 'EDQUOT':
      return new QuotaExceededError(`no space left on the drive while writing '${what}'`, opts);
    case 'EMFILE':
    case 'ENFILE':
    case 'EAGAIN':
    case 'EBUSY':
    case 'EIO':
      return new TransientError(`'${what}': ${code}`, opts);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new FatalError(`'${what}': permission denied (${code})`, opts);
    default:
      if ((e as Error | undefined)?.name === 'AbortError') return e as Error;
      return new FatalError(`'${what}': ${(e as Error | undefined)?.message ?? String(e)}`, opts);
  }
}
