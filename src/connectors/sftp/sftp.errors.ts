import {
  AlreadyExistsError,
  AuthExpiredError,
  ConnectorError,
  FatalError,
  isAbortError,
  isTransientNetworkError,
  NotFoundError,
  QuotaExceededError,
  TransientError,
} from '../connector.errors.js';

/** SSH_FX_* status codes of SFTP v3 (draft-ietf-secsh-filexfer-02). */
export const SFTP_STATUS = {
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
} as const;

/** Raised by the host key check: the server presented a key other than the pinned one. */
export class HostKeyMismatchError extends FatalError {}

/** Maps ssh2/SFTP errors to connector errors; `what` names the path for the message. */
export function mapSftpError(e: unknown, what: string): Error {
  if (e instanceof ConnectorError) return e;
  if (isAbortError(e)) return e as Error;
  const err = e as { code?: unknown; level?: string; message?: string } | undefined;
  const opts = { cause: e, providerCode: err?.code === undefined ? undefined : String(err.code) };
  if (err?.level === 'client-authentication')
    return new AuthExpiredError(
      'the SSH server rejected the credentials (password or key): re-enter them',
      opts,
    );
  switch (err?.code) {
    case SFTP_STATUS.NO_SUCH_FILE:
      return new NotFoundError(`'${what}' does not exist`, opts);
    case SFTP_STATUS.PERMISSION_DENIED:
      return new FatalError(`'${what}': permission denied on the SSH server`, opts);
    case SFTP_STATUS.NO_CONNECTION:
    case SFTP_STATUS.CONNECTION_LOST:
      return new TransientError(`the SSH connection broke on '${what}'`, opts);
    default:
      break;
  }
  if (/no space left|quota exceeded/i.test(err?.message ?? ''))
    return new QuotaExceededError(`the SSH server has no space left while writing '${what}'`, opts);
  if (/file already exists/i.test(err?.message ?? ''))
    return new AlreadyExistsError(`'${what}' already exists`, opts);
  if (
    isTransientNetworkError(e) ||
    err?.level === 'client-socket' ||
    err?.level === 'client-timeout' ||
    /not connected|no response from server|connection lost|channel closed/i.test(err?.message ?? '')
  )
    return new TransientError(`the SSH connection broke on '${what}': ${err?.message ?? ''}`, opts);
  return new FatalError(`'${what}': ${err?.message ?? String(e)}`, opts);
}
