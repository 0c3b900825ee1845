import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../common/clock.js';
import { AppError, ValidationAppError } from '../common/errors/app-errors.js';
import type { OAuthAppsConfig } from '../config/app-config.js';
import type { ConnectorDescriptor, ConnectorSettings } from '../connectors/connector-descriptor.js';
import { ConnectorError } from '../connectors/connector.errors.js';
import { InvalidOptionsError, validateConnectorOptions } from '../connectors/connector-options.js';
import type { ConnectorRegistry } from '../connectors/connector.registry.js';
import type { AccountsService, AccountView } from './accounts.service.js';
import { OAUTH_STATE_TTL_MS, type OAuthStateStore } from './oauth-state.store.js';

export {
  InMemoryOAuthStateStore,
  OAUTH_STATE_TTL_MS,
  type OAuthStateStore,
} from './oauth-state.store.js';

/** A connect flow that cannot go on: the API answers 400 with the message. */
export class ConnectFlowError extends AppError {
  readonly status = 400;
}

/** Name of the cookie that binds an OAuth `state` to the browser that started the flow. */
export const OAUTH_COOKIE = 'cbe_oauth';
/** Path of the callback under the public URL: the redirect URI to register with each provider. */
export const OAUTH_CALLBACK_PATH = '/api/accounts/oauth/callback';

/** Secrets OAuth descriptors store per account; a re-authentication replaces them, never mixes. */
const TOKEN_SECRET_KEYS = ['refreshToken', 'accessToken', 'accessTokenExpiresAt'];

/** Everything the callback needs, kept server-side; the browser only sees `state` and the nonce. */
export interface PendingOAuth {
  state: string;
  nonce: string;
  kind: string;
  name: string;
  /** Set when an existing account is being re-authenticated. */
  accountId?: string;
  /** The signed-in user who started the flow: only they can finish it, and the account is theirs. */
  ownerId?: string;
  /** Validated options, app secret included: passed to the provider's token exchange. */
  settings: ConnectorSettings;
  codeVerifier: string;
  redirectUri: string;
  expiresAt: number;
  usedAt?: number;
}

export interface StartConnectInput {
  kind: string;
  /** Required for a new account; a re-authentication keeps the old name unless given. */
  name?: string;
  options?: Record<string, unknown>;
  accountId?: string;
  /** The signed-in user starting the flow. */
  ownerId?: string;
}

export interface StartedConnect {
  authorizeUrl: string;
  /** Goes into the `cbe_oauth` cookie (HttpOnly, SameSite=Lax). */
  nonce: string;
}

export interface CallbackInput {
  code?: string;
  state?: string;
  error?: string;
  errorDescription?: string;
  /** The `cbe_oauth` cookie the browser sent back. */
  nonce?: string;
  /** The user signed in on the browser that came back. */
  userId?: string;
}

/**
 * The OAuth 2.0 authorization-code flow (with PKCE) for connecting an account: `start` answers the
 * provider's consent URL and a nonce for the browser cookie; `complete` checks the `state` (known,
 * unexpired, unused, same browser), exchanges the code through the connector's descriptor and
 * stores the account with its tokens sealed in the vault.
 */
export class OAuthConnectService {
  constructor(
    private readonly accounts: AccountsService,
    private readonly registry: ConnectorRegistry,
    private readonly apps: OAuthAppsConfig,
    private readonly publicUrl: string,
    private readonly store: OAuthStateStore,
    private readonly clock: Clock,
  ) {}

  get redirectUri(): string {
    return `${this.publicUrl}${OAUTH_CALLBACK_PATH}`;
  }

  async start(input: StartConnectInput): Promise<StartedConnect> {
    const descriptor = this.oauthDescriptor(input.kind);
    let name = input.name?.trim();
    let previous: ConnectorSettings | undefined;
    if (input.accountId) {
      const existing = await this.accounts.settingsFor(input.accountId);
      if (existing.kind !== input.kind) {
        throw new ConnectFlowError(
          `account '${input.accountId}' is a '${existing.kind}' account, not '${input.kind}'`,
        );
      }
      name ||= existing.name;
      const secrets = { ...existing.settings.secrets };
      for (const k of TOKEN_SECRET_KEYS) delete secrets[k];
      previous = { config: existing.settings.config, secrets };
    } else if (!name) {
      throw new ValidationAppError(['name must not be empty (the name of the new account)']);
    }
    const app = this.apps[input.kind];
    const options = {
      ...(previous ? {} : appDefaultsFor(app?.defaults, input.options)),
      ...input.options,
    };
    for (const k of TOKEN_SECRET_KEYS) {
      if (k in options)
        throw new ValidationAppError([`options.${k} is set by the provider, not by you`]);
    }
    const hasClientId = typeof options.clientId === 'string' && options.clientId !== '';
    if (!hasClientId && !previous?.config.clientId) {
      const env = app?.envByOption.clientId;
      throw new ConnectFlowError(
        `no OAuth client for '${input.kind}': ${env ? `set ${env} or ` : ''}pass options.clientId ` +
          '(create your own OAuth app with the provider, see README "Connecting clouds")',
      );
    }
    // The schema only: connectors refuse to be created before they hold a token (OneDrive).
    let settings: ConnectorSettings;
    try {
      settings = validateConnectorOptions(descriptor, options, previous);
    } catch (e) {
      if (e instanceof InvalidOptionsError) throw new ValidationAppError(e.problems);
      throw e;
    }
    // Endpoint overrides are an admin's: the token call carries the app secret to them.
    await this.accounts.checkAccess(input.kind, settings, input.ownerId, input.options);
    const state = token();
    const nonce = token();
    const codeVerifier = token();
    const codeChallenge = createHash('sha256').update(codeVerifier).digest('base64url');
    let authorizeUrl: string;
    try {
      authorizeUrl = descriptor.oauth!.authorizeUrl({
        state,
        redirectUri: this.redirectUri,
        codeChallenge,
        config: flowConfig(settings),
      });
    } catch (e) {
      if (e instanceof ConnectorError) throw new ConnectFlowError(e.message);
      throw e;
    }
    await this.store.put({
      state,
      nonce,
      kind: input.kind,
      name: name!,
      accountId: input.accountId,
      ownerId: input.ownerId,
      settings,
      codeVerifier,
      redirectUri: this.redirectUri,
      expiresAt: this.clock.now().getTime() + OAUTH_STATE_TTL_MS,
    });
    return { authorizeUrl, nonce };
  }

  /** Finishes the flow; every problem a browser or provider can cause is a 400 with a message. */
  async complete(
    input: CallbackInput,
  ): Promise<{ account: AccountView; reauthenticated: boolean }> {
    const pending = await this.claim(input.state, input.nonce, input.userId);
    const descriptor = this.oauthDescriptor(pending.kind);
    if (input.error) {
      throw new ConnectFlowError(
        `${descriptor.displayName} did not grant access (${input.error}` +
          `${input.errorDescription ? `: ${input.errorDescription}` : ''}); start connecting again`,
      );
    }
    if (!input.code) {
      throw new ConnectFlowError('the OAuth callback has neither a code nor an error parameter');
    }
    let exchanged: ConnectorSettings;
    try {
      exchanged = await descriptor.oauth!.exchangeCode({
        code: input.code,
        redirectUri: pending.redirectUri,
        codeVerifier: pending.codeVerifier,
        config: flowConfig(pending.settings),
      });
    } catch (e) {
      // Refused codes (invalid_grant), bad client credentials, no refresh token: the user's to fix.
      if (e instanceof ConnectorError && (e.code === 'AUTH_EXPIRED' || e.code === 'FATAL')) {
        throw new ConnectFlowError(withCause(e));
      }
      throw e;
    }
    const settings = mergeSettings(descriptor, pending.settings, exchanged);
    if (pending.accountId) {
      const account = await this.accounts.replaceSettings(pending.accountId, {
        settings,
        state: 'connected',
      });
      return { account, reauthenticated: true };
    }
    const account = await this.accounts.createConnected({
      kind: pending.kind,
      name: pending.name,
      settings,
      state: 'connected',
      ownerId: pending.ownerId ?? null,
    });
    return { account, reauthenticated: false };
  }

  /** Looks the state up and marks it used: a state works once, in the browser that started it. */
  private async claim(
    state: string | undefined,
    nonce: string | undefined,
    userId: string | undefined,
  ): Promise<PendingOAuth> {
    if (!state) throw new ConnectFlowError('the OAuth callback has no state parameter');
    const now = this.clock.now().getTime();
    const pending = await this.store.take(state, now);
    if (!pending) {
      throw new ConnectFlowError(
        'unknown OAuth state: this connection was not started here, or the server restarted; start connecting again',
      );
    }
    if (pending.usedAt !== undefined) {
      throw new ConnectFlowError('this OAuth state was already used; start connecting again');
    }
    if (pending.expiresAt <= now) {
      throw new ConnectFlowError(
        `the OAuth state expired (consent must finish within ${OAUTH_STATE_TTL_MS / 60_000} minutes); start connecting again`,
      );
    }
    if (!nonce) {
      throw new ConnectFlowError(
        `the ${OAUTH_COOKIE} cookie is missing: finish connecting in the browser that started it, with cookies enabled`,
      );
    }
    if (!sameToken(nonce, pending.nonce)) {
      throw new ConnectFlowError(
        'the OAuth state does not belong to this browser session (cookie mismatch); start connecting again',
      );
    }
    if (pending.ownerId !== undefined && pending.ownerId !== userId) {
      throw new ConnectFlowError(
        'the OAuth state belongs to another signed-in user: sign in as the user who started connecting, and start again',
      );
    }
    return pending;
  }

  private oauthDescriptor(kind: string): ConnectorDescriptor {
    const oauthKinds = this.registry
      .list()
      .filter((d) => d.oauth)
      .map((d) => d.kind);
    if (!this.registry.has(kind)) {
      throw new ValidationAppError([
        `kind '${kind}' is not a connector kind (OAuth kinds: ${oauthKinds.join(', ')})`,
      ]);
    }
    const d = this.registry.get(kind);
    if (!d.oauth) {
      const how =
        kind === 'icloud-photos' ? 'POST /api/accounts/icloud/sign-in' : 'POST /api/accounts';
      throw new ConnectFlowError(
        `'${kind}' accounts are not connected through OAuth: use ${how} (OAuth kinds: ${oauthKinds.join(', ')})`,
      );
    }
    return d;
  }
}

/**
 * The server's OAuth app, unless the request brings its own client id: the operator's secret is
 * never paired with a client (or sent along a flow) the operator did not configure.
 */
function appDefaultsFor(
  defaults: Record<string, string> | undefined,
  options: Record<string, unknown> | undefined,
): Record<string, string> {
  if (!defaults) return {};
  const clientId = options?.clientId;
  if (typeof clientId === 'string' && clientId !== '' && clientId !== defaults.clientId) {
    const rest = { ...defaults };
    delete rest.clientId;
    delete rest.clientSecret;
    return rest;
  }
  return defaults;
}

function token(): string {
  return randomBytes(32).toString('base64url');
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The descriptors' flows read the app secret from `config` (their only input): merge it in. */
function flowConfig(s: ConnectorSettings): ConnectorSettings['config'] {
  return { ...s.config, ...s.secrets };
}

/**
 * What the account stores: the validated options, then what the exchange returned. Secret keys
 * never stay in `config` (a flow may echo the merged input back), and the app secret is kept
 * even by flows that drop it, since refreshing needs it.
 */
function mergeSettings(
  d: ConnectorDescriptor,
  prepared: ConnectorSettings,
  exchanged: ConnectorSettings,
): ConnectorSettings {
  const secretKeys = new Set(d.options.filter((o) => o.secret).map((o) => o.key));
  const config: ConnectorSettings['config'] = { ...prepared.config };
  for (const [k, v] of Object.entries(exchanged.config)) if (!secretKeys.has(k)) config[k] = v;
  return { config, secrets: { ...prepared.secrets, ...exchanged.secrets } };
}

/** The provider's own words often sit in the cause (an SDK error); keep them in the message. */
function withCause(e: Error): string {
  const cause = e.cause instanceof Error ? e.cause.message : undefined;
  return cause && !e.message.includes(cause) ? `${e.message} (${cause})` : e.message;
}
