import { AppError, ConflictAppError, ValidationAppError } from '../common/errors/app-errors.js';
import { hasInteractiveSignIn } from '../connectors/capabilities.js';
import type {
  ConnectorSecrets,
  ConnectorSettings,
  InteractiveSignIn,
} from '../connectors/connector-descriptor.js';
import { SignInRefusedError } from '../connectors/connector.errors.js';
import type { ConnectorRegistry } from '../connectors/connector.registry.js';
import type { AccountsService, AccountView } from './accounts.service.js';

export const ICLOUD_KIND = 'icloud-photos';

/** Apple refused the sign-in in a way the user must fix (password, code): answered as 400. */
export class ICloudSignInRefusedError extends AppError {
  readonly status = 400;
}

/** Apple locked the account or code entry: answered as 423 Locked. */
export class ICloudLockedError extends AppError {
  readonly status = 423;
}

export interface ICloudSignInInput {
  /** Required for a new account; a re-sign-in keeps the old name unless given. */
  name?: string;
  /** Required for a new account; a re-sign-in defaults to the stored one. */
  appleId?: string;
  password: string;
  options?: Record<string, unknown>;
  /** Sign an existing account in again (a stored trust token spares the code). */
  accountId?: string;
  /**
   * Keep the password (sealed in the vault) so scheduled runs can sign in again with the trust
   * token when the web session ends, without asking anyone. Default true.
   */
  rememberPassword?: boolean;
  /** The signed-in user the new account belongs to. */
  ownerId?: string;
}

export interface ICloudSignInAnswer {
  account: AccountView;
  state: 'connected' | 'needs-code';
}

const CODE_MESSAGE =
  'Enter the 6-digit verification code shown on your Apple devices (POST /api/accounts/:id/icloud/code).';

/**
 * Connects iCloud Photos accounts: SRP sign-in with the Apple ID password, then (unless a stored
 * trust token spares it) the 6-digit code from a trusted device. The connector's interactive
 * sign-in (found through the registry) speaks to Apple; the half-finished session waits in the
 * vault, in the account's secrets, with the account in state 'awaiting-code'. Passwords and
 * codes are never logged nor returned.
 */
export class ICloudSignInService {
  constructor(
    private readonly accounts: AccountsService,
    private readonly registry: Pick<ConnectorRegistry, 'get'>,
  ) {}

  private get flow(): InteractiveSignIn {
    const d = this.registry.get(ICLOUD_KIND);
    if (!hasInteractiveSignIn(d)) throw new Error(`connector '${ICLOUD_KIND}' has no sign-in`);
    return d.interactiveSignIn;
  }

  async signIn(input: ICloudSignInInput): Promise<ICloudSignInAnswer> {
    const options = { ...input.options };
    for (const k of ['appleId', 'password']) {
      if (k in options) {
        throw new ValidationAppError([`options.${k}: give ${k} at the top level of the body`]);
      }
    }
    let previous: ConnectorSettings | undefined;
    let name = input.name?.trim();
    let appleId = input.appleId?.trim();
    if (input.accountId) {
      const existing = await this.accounts.settingsFor(input.accountId);
      if (existing.kind !== ICLOUD_KIND) {
        throw new ValidationAppError([
          `accountId: account '${input.accountId}' is a '${existing.kind}' account, not iCloud Photos`,
        ]);
      }
      previous = existing.settings;
      name ||= existing.name;
      appleId ||= String(existing.settings.config.appleId);
    }
    const problems: string[] = [];
    if (!name) problems.push('name must not be empty (the name of the new account)');
    if (!appleId) problems.push('appleId must not be empty');
    if (problems.length > 0) throw new ValidationAppError(problems);
    const remember = input.rememberPassword ?? true;
    const settings = this.accounts.validateOptions(
      ICLOUD_KIND,
      { ...options, appleId, ...(remember ? { password: input.password } : {}) },
      previous,
    );
    if (!remember) delete settings.secrets.password;
    // Endpoint overrides are an admin's: the Apple ID password is sent to them.
    await this.accounts.checkAccess(ICLOUD_KIND, settings, input.ownerId, options);
    // The client id and trust token of the same Apple ID are what spare a new code.
    const sameAppleId = previous && String(previous.config.appleId) === appleId;
    const result = await mapSignInErrors(() =>
      this.flow.signIn({
        config: settings.config,
        identity: appleId!,
        password: input.password,
        previous: sameAppleId ? previous!.secrets : undefined,
      }),
    );
    const connected = result.state === 'authenticated';
    const account = await this.save(
      input.accountId,
      name!,
      settings,
      result.secrets,
      connected ? 'connected' : 'awaiting-code',
      input.ownerId,
    );
    return { account, state: connected ? 'connected' : 'needs-code' };
  }

  async submitCode(id: string, code: string): Promise<ICloudSignInAnswer> {
    const settings = await this.pending(id);
    try {
      const session = await mapSignInErrors(() =>
        this.flow.submitCode({ ...this.sessionOf(settings), code }),
      );
      const account = await this.accounts.replaceSettings(id, {
        settings: withSession(settings, session),
        state: 'connected',
      });
      return { account, state: 'connected' };
    } catch (e) {
      // A locked code entry kills this sign-in: only a new one (with the password) helps.
      if (e instanceof ICloudLockedError) {
        await this.accounts.replaceSettings(id, {
          settings,
          state: 'needs-reauth',
          stateMessage: e.message,
        });
      }
      throw e;
    }
  }

  /** Asks Apple to show a new code on the trusted devices. */
  async requestCode(id: string): Promise<ICloudSignInAnswer> {
    const settings = await this.pending(id);
    const asked = await mapSignInErrors(() => this.flow.requestCode(this.sessionOf(settings)));
    const account = await this.accounts.replaceSettings(id, {
      settings: withSession(settings, asked),
      state: 'awaiting-code',
      stateMessage: CODE_MESSAGE,
    });
    return { account, state: 'needs-code' };
  }

  private sessionOf(s: ConnectorSettings) {
    return { config: s.config, identity: String(s.config.appleId), secrets: s.secrets };
  }

  private async pending(id: string): Promise<ConnectorSettings> {
    const existing = await this.accounts.settingsFor(id);
    if (existing.kind !== ICLOUD_KIND) {
      throw new ValidationAppError([
        `account '${id}' is a '${existing.kind}' account, not iCloud Photos`,
      ]);
    }
    const view = await this.accounts.get(id);
    if (view.state !== 'awaiting-code') {
      throw new ConflictAppError(
        `account '${id}' is not waiting for a verification code (state '${view.state}'): sign in again first`,
      );
    }
    return existing.settings;
  }

  private save(
    accountId: string | undefined,
    name: string,
    settings: ConnectorSettings,
    session: ConnectorSecrets,
    state: 'connected' | 'awaiting-code',
    ownerId?: string,
  ): Promise<AccountView> {
    const input = {
      settings: withSession(settings, session),
      state,
      stateMessage: state === 'awaiting-code' ? CODE_MESSAGE : null,
    };
    return accountId
      ? this.accounts.replaceSettings(accountId, { ...input, name })
      : this.accounts.createConnected({ kind: ICLOUD_KIND, name, ownerId, ...input });
  }
}

/** The account's settings with the session's secrets (the password, if kept, stays). */
function withSession(s: ConnectorSettings, session: ConnectorSecrets): ConnectorSettings {
  return { config: s.config, secrets: { ...s.secrets, ...session } };
}

/** Apple's refusals become 400/423 with the reason in words; network trouble stays a 502. */
async function mapSignInErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof SignInRefusedError)) throw e;
    switch (e.reason) {
      case 'wrong-password':
        throw new ICloudSignInRefusedError(
          'Apple refused the sign-in: the Apple ID or password is incorrect.',
        );
      case 'wrong-code':
        throw new ICloudSignInRefusedError(
          'The verification code is incorrect: check the 6 digits on your Apple device and try again.',
        );
      case 'code-locked':
        throw new ICloudLockedError(
          'Too many wrong verification codes: Apple locked code entry for this sign-in. Sign in again with the password to get a new code.',
        );
      case 'account-locked':
        throw new ICloudLockedError(
          `Apple locked this Apple Account (${e.message}): unlock it at iforgot.apple.com, then sign in again.`,
        );
      case 'security-key-only':
      case 'needs-code':
      case 'session-expired':
        throw new ICloudSignInRefusedError(e.message);
    }
  }
}
