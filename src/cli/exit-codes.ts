/**
 * Exit codes of `cbe`, for scripts (documented in `cbe --help` and the README). Stable: a code
 * is never reused for another meaning.
 */
export const EXIT = {
  ok: 0,
  /** The run or operation failed (a run that ended `failed`, a 5xx answer). */
  failed: 1,
  /** Wrong command line or a value the engine refused (400). */
  usage: 2,
  /** The engine could not be reached at --url / CBE_URL. */
  unreachable: 3,
  /** No token, or the engine refused it (401, 403). */
  unauthorized: 4,
  /** No such account, task, run, version or user (404). */
  notFound: 5,
  /** Refused because of the current state: the task already runs, a name is taken (409). */
  conflict: 6,
  /** The engine does not offer this command (an older engine). */
  unavailable: 7,
  /** The run was cancelled. */
  cancelled: 8,
  /** The run completed with warnings: some files were skipped (the log lists them). */
  warnings: 9,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `Exit codes:
  0  success (a watched run completed)
  1  the run or operation failed (also a run that ended offline: nothing was written)
  2  wrong command line, or a value the engine refused
  3  the engine could not be reached (--url, CBE_URL)
  4  no token or the token was refused (--token, CBE_TOKEN)
  5  not found
  6  conflict (e.g. the task is already running)
  7  not available on this engine
  8  the run was cancelled
  9  the run completed with warnings (some files were skipped; see its log)`;

/** An error that ends the command with a message and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
