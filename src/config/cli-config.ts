/** What the `cbe` command line reads from its environment (flags override both). */
export interface CliEnv {
  /** CBE_URL: the engine's address, e.g. http://localhost:3000. */
  url?: string;
  /** CBE_TOKEN: an API token (Settings > API tokens, or POST /api/tokens). */
  token?: string;
}

export function loadCliEnv(env: Record<string, string | undefined> = process.env): CliEnv {
  return { url: env.CBE_URL || undefined, token: env.CBE_TOKEN || undefined };
}

/** The whole environment, for `cbe config check` and the local admin commands. */
export function processEnv(): Record<string, string | undefined> {
  return process.env;
}
