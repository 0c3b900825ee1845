import type { Agent } from 'node:http';
import type { Socket } from 'node:net';
import type { Clock } from '../common/clock.js';
import type { Capabilities } from './capabilities.js';
import type { Connector } from './connector.js';
import type { RetryEvent } from './pacer/pacer.js';

export type OptionType = 'string' | 'number' | 'boolean';

/** One setting of a connector, as the API validates it and the UI renders it. */
export interface OptionSpec {
  key: string;
  label: string;
  help: string;
  type: OptionType;
  required?: boolean;
  default?: string | number | boolean;
  /** Stored encrypted in the vault, never returned by the API nor logged. */
  secret?: boolean;
  /** Hidden behind "advanced" in the UI (base URLs, chunk sizes). */
  advanced?: boolean;
  /** Allowed values, for a select box. */
  choices?: readonly string[];
  /**
   * What the value points at, for the access policy (src/security): a folder on this machine
   * (an admin's grant), a server the user names (the outbound address policy), or a provider
   * endpoint only an admin or the configuration may change (the OAuth app secret goes there).
   */
  target?: OptionTarget;
}

export type OptionTarget = 'local-folder' | 'server-url' | 'server-host' | 'admin-endpoint';

export type ConnectorConfig = Record<string, string | number | boolean>;
export type ConnectorSecrets = Record<string, string>;

export interface ConnectorSettings {
  config: ConnectorConfig;
  secrets: ConnectorSecrets;
}

/** What the engine gives a connector at creation; connectors never reach for globals. */
export interface ConnectorContext {
  clock: Clock;
  /** Persists rotated credentials (refreshed OAuth tokens, iCloud session) into the vault. */
  saveSecrets(secrets: ConnectorSecrets): Promise<void>;
  /** Give it to the connector's Pacer (`onRetry`), so a run's log names every fault it survived. */
  onRetry?: (e: RetryEvent) => void;
  /**
   * For servers the account's owner named (WebDAV, S3): an agent that checks every connection
   * against the outbound address policy, redirects included. Undefined: no restriction (admins).
   */
  outboundAgent?: (url: string) => Agent;
  /**
   * For servers reached over plain TCP (SFTP): a socket connected to host:port after the name was
   * resolved and checked against the outbound address policy, on every connection. Undefined: no
   * restriction (admins).
   */
  outboundConnect?: (host: string, port: number) => Promise<Socket>;
}

/** OAuth 2.0 authorization-code flow of a provider, for connecting an account from the UI. */
export interface OAuthFlow {
  /** The provider consent page URL. `state` is bound to the user's session by the caller. */
  authorizeUrl(req: {
    state: string;
    redirectUri: string;
    codeChallenge: string;
    config: ConnectorConfig;
  }): string;
  /** Exchanges the code for tokens: returns the settings to store on the account. */
  exchangeCode(req: {
    code: string;
    redirectUri: string;
    codeVerifier: string;
    config: ConnectorConfig;
  }): Promise<ConnectorSettings>;
}

/**
 * Password sign-in with a second factor from the user's devices (iCloud Photos), for connecting
 * an account from the UI instead of OAuth. The session, finished or waiting for the code, is
 * returned as secrets: the accounts module keeps it sealed in the account, where any node of a
 * cluster finds it when the code arrives.
 */
export interface InteractiveSignIn {
  /** The option naming who signs in ('appleId'); its value is `identity` below. */
  identityOption: string;
  /**
   * Signs in with the password. `previous`: the secrets of an earlier session of the same
   * identity (its trust token can spare the code). 'needs-code': a code was asked for.
   */
  signIn(req: {
    config: ConnectorConfig;
    identity: string;
    password: string;
    previous?: ConnectorSecrets;
  }): Promise<{ state: 'authenticated' | 'needs-code'; secrets: ConnectorSecrets }>;
  /** Asks for a new code on the user's devices; the session's secrets as they are now. */
  requestCode(req: {
    config: ConnectorConfig;
    identity: string;
    secrets: ConnectorSecrets;
  }): Promise<ConnectorSecrets>;
  /** Finishes the sign-in with the code; the signed-in session's secrets. */
  submitCode(req: {
    config: ConnectorConfig;
    identity: string;
    secrets: ConnectorSecrets;
    code: string;
  }): Promise<ConnectorSecrets>;
}

export interface ConnectorDescriptor {
  /** Stable id used in config and the database: 'local', 'google-drive', ... */
  kind: string;
  displayName: string;
  description: string;
  options: readonly OptionSpec[];
  /** Static capabilities, for the UI (can it be a target? does it have a change feed?). */
  capabilities: Capabilities;
  create(settings: ConnectorSettings, ctx: ConnectorContext): Connector;
  /**
   * Domains of the provider's servers besides the URL options (each with its subdomains), for
   * the URLs its API hands out: upload sessions, download redirects, per-account partitions. The
   * metrics count a connector's requests by the servers they go to (request-observer.ts).
   */
  requestHosts?: readonly string[];
  oauth?: OAuthFlow;
  /** Accounts connect by password and code (errors: SignInRefusedError), see hasInteractiveSignIn. */
  interactiveSignIn?: InteractiveSignIn;
}
