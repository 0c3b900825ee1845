import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Clock } from '../common/clock.js';
import {
  ConflictAppError,
  NotFoundAppError,
  ValidationAppError,
} from '../common/errors/app-errors.js';
import { hasRootPresence } from '../connectors/capabilities.js';
import type { Connector, Entry } from '../connectors/connector.js';
import type {
  ConnectorContext,
  ConnectorDescriptor,
  ConnectorSettings,
} from '../connectors/connector-descriptor.js';
import {
  AuthExpiredError,
  ConnectorError,
  TransientError,
} from '../connectors/connector.errors.js';
import {
  InvalidOptionsError,
  publicOptions,
  validateConnectorOptions,
} from '../connectors/connector-options.js';
import type { ConnectorRegistry } from '../connectors/connector.registry.js';
import type { RetryEvent } from '../connectors/pacer/pacer.js';
import { normalizePath } from '../connectors/path.js';
import { remoteAnswerOf } from '../connectors/request-observer.js';
import type { AccountEntity, AccountState } from './account.entity.js';
import type { AccountsRepository } from './accounts.repository.js';
import type { SecretVault } from './secret-vault.js';

/** An account as the API shows it: secrets masked, never included. */
export interface AccountView {
  id: string;
  kind: string;
  name: string;
  options: Record<string, string | number | boolean>;
  state: AccountEntity['state'];
  stateMessage: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The access policy (src/security): what an account's owner may point it at. */
export interface AccountAccessCheck {
  checkAccount(
    descriptor: ConnectorDescriptor,
    settings: ConnectorSettings,
    ownerId: string | null | undefined,
    input?: Record<string, unknown>,
  ): Promise<void>;
  /** See ConnectorContext.outboundAgent; undefined for an owner whose addresses are not restricted. */
  outboundAgentFor?(ownerId: string | null | undefined): Promise<ConnectorContext['outboundAgent']>;
  outboundConnectFor?(
    ownerId: string | null | undefined,
  ): Promise<ConnectorContext['outboundConnect']>;
}

/** A browse that waits longer than this for a server is answered with an error (502). */
export const BROWSE_TIMEOUT_MS = 10_000;

export interface AccountInUseChecker {
  tasksUsingAccount(accountId: string): Promise<string[]>;
}

export class AccountsService {
  private readonly logger = new Logger('AccountsService');

  constructor(
    private readonly repo: AccountsRepository,
    private readonly registry: ConnectorRegistry,
    private readonly vault: SecretVault,
    private readonly clock: Clock,
    /** Where 'account.reauth.needed' goes (notifications listen); optional for tests and tools. */
    private readonly events?: { emit(event: string, payload: unknown): unknown },
    /** Checked on create, update and every open; none in unit tests and tools. */
    private readonly access?: AccountAccessCheck,
  ) {}

  async create(input: {
    kind: string;
    name: string;
    options: Record<string, unknown>;
    ownerId?: string | null;
  }): Promise<AccountView> {
    if (!this.registry.has(input.kind)) {
      const kinds = this.registry
        .list()
        .map((d) => d.kind)
        .join(', ');
      throw new ValidationAppError([
        `kind '${input.kind}' is not a connector kind (one of: ${kinds})`,
      ]);
    }
    const settings = this.validate(input.kind, input.options);
    await this.checkAccess(input.kind, settings, input.ownerId, input.options);
    await this.assertRootPresent(input.kind, settings);
    const now = this.clock.now();
    const entity: AccountEntity = {
      id: randomUUID(),
      kind: input.kind,
      name: input.name,
      ownerId: input.ownerId ?? null,
      config: settings.config,
      sealedSecrets: this.vault.seal(settings.secrets),
      state: 'connected',
      stateMessage: null,
      createdAt: now,
      updatedAt: now,
    };
    return this.toView(await this.repo.save(entity));
  }

  async update(
    id: string,
    input: { name?: string; options?: Record<string, unknown> },
  ): Promise<AccountView> {
    const entity = await this.getEntity(id);
    if (input.name !== undefined) entity.name = input.name;
    if (input.options !== undefined) {
      const previous = this.settingsOf(entity);
      const settings = this.validate(entity.kind, input.options, previous);
      await this.checkAccess(entity.kind, settings, entity.ownerId, input.options);
      // A new root is another volume: its marker is learnt again on first use.
      if (settings.config.root !== previous.config.root) delete settings.secrets.volumeId;
      await this.assertRootPresent(entity.kind, settings);
      entity.config = settings.config;
      entity.sealedSecrets = this.vault.seal(settings.secrets);
    }
    entity.updatedAt = this.clock.now();
    return this.toView(await this.repo.save(entity));
  }

  async get(id: string): Promise<AccountView> {
    return this.toView(await this.getEntity(id));
  }

  /** Every account, or only those of one user (the API always asks for one user's). */
  async list(ownerId?: string): Promise<AccountView[]> {
    const all =
      ownerId === undefined ? await this.repo.listAll() : await this.repo.listOwned(ownerId);
    return all.map((a) => this.toView(a));
  }

  /** Who owns the account; undefined when there is no such account. */
  async ownerOf(id: string): Promise<string | null | undefined> {
    const a = await this.repo.findById(id);
    return a ? a.ownerId : undefined;
  }

  async remove(id: string, inUse: AccountInUseChecker): Promise<void> {
    await this.getEntity(id);
    const tasks = await inUse.tasksUsingAccount(id);
    if (tasks.length > 0) {
      throw new ConflictAppError(
        `account '${id}' is used by task(s) ${tasks.join(', ')}; delete or change them first`,
      );
    }
    await this.repo.delete(id);
  }

  async exists(id: string): Promise<boolean> {
    return (await this.repo.findById(id)) !== null;
  }

  /** The folders (and files) of an account, for the folder pickers. */
  async browse(id: string, path: string, limit = 500): Promise<Entry[]> {
    let dir: string;
    try {
      dir = normalizePath(path);
    } catch (e) {
      throw new ValidationAppError([`path: ${(e as Error).message}`]);
    }
    const connector = await this.open(id);
    // An unreachable server must not hold the request (and the UI) for a minute or more.
    const signal = AbortSignal.timeout(BROWSE_TIMEOUT_MS);
    try {
      const out: Entry[] = [];
      const listing = (async () => {
        for await (const e of connector.list(dir, { signal })) {
          out.push(e);
          if (out.length >= limit) break;
        }
      })();
      listing.catch(() => undefined); // when the timeout wins, a later failure is not unhandled
      await Promise.race([listing, abortedBy(signal, connector)]);
      return out.sort((a, b) =>
        a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'folder' ? -1 : 1,
      );
    } finally {
      await connector.close?.();
    }
  }

  /** A live connector for the account; rotated credentials are sealed back into the vault. */
  async open(id: string, opts: { onRetry?: (e: RetryEvent) => void } = {}): Promise<Connector> {
    const entity = await this.getEntity(id);
    const descriptor = this.registry.get(entity.kind);
    const settings = this.settingsOf(entity);
    await this.access?.checkAccount(descriptor, settings, entity.ownerId);
    const outboundAgent = await this.access?.outboundAgentFor?.(entity.ownerId);
    const outboundConnect = await this.access?.outboundConnectFor?.(entity.ownerId);
    return descriptor.create(settings, {
      outboundAgent,
      outboundConnect,
      clock: this.clock,
      onRetry: opts.onRetry,
      saveSecrets: async (secrets) => {
        const merged = {
          ...this.settingsOf((await this.repo.findById(id)) ?? entity).secrets,
          ...secrets,
        };
        await this.repo.updateSecrets(id, this.vault.seal(merged), this.clock.now());
      },
    });
  }

  /** Checks options against the kind's schema (as `create` does) and returns the settings. */
  validateOptions(
    kind: string,
    options: Record<string, unknown>,
    previous?: ConnectorSettings,
  ): ConnectorSettings {
    return this.validate(kind, options, previous);
  }

  /**
   * Whether the owner may point an account of this kind where these settings do (their local
   * folder, the servers they name, endpoint overrides in `input`); a 400 naming the option if not.
   */
  async checkAccess(
    kind: string,
    settings: ConnectorSettings,
    ownerId: string | null | undefined,
    input?: Record<string, unknown>,
  ): Promise<void> {
    await this.access?.checkAccount(this.registry.get(kind), settings, ownerId, input);
  }

  /** The kind and decrypted settings of an account, for the connect flows (never for the API). */
  async settingsFor(
    id: string,
  ): Promise<{ kind: string; name: string; settings: ConnectorSettings }> {
    const entity = await this.getEntity(id);
    return { kind: entity.kind, name: entity.name, settings: this.settingsOf(entity) };
  }

  /** Stores an account whose credentials a connect flow obtained (OAuth tokens, iCloud session). */
  async createConnected(input: {
    kind: string;
    name: string;
    settings: ConnectorSettings;
    state: AccountState;
    stateMessage?: string | null;
    ownerId?: string | null;
  }): Promise<AccountView> {
    const now = this.clock.now();
    const entity: AccountEntity = {
      id: randomUUID(),
      kind: input.kind,
      name: input.name,
      ownerId: input.ownerId ?? null,
      config: input.settings.config,
      sealedSecrets: this.vault.seal(input.settings.secrets),
      state: input.state,
      stateMessage: input.stateMessage ?? null,
      createdAt: now,
      updatedAt: now,
    };
    return this.toView(await this.repo.save(entity));
  }

  /** Replaces an account's settings after it was connected again, and sets its state. */
  async replaceSettings(
    id: string,
    input: {
      settings: ConnectorSettings;
      state: AccountState;
      stateMessage?: string | null;
      name?: string;
    },
  ): Promise<AccountView> {
    const entity = await this.getEntity(id);
    if (input.name !== undefined) entity.name = input.name;
    entity.config = input.settings.config;
    entity.sealedSecrets = this.vault.seal(input.settings.secrets);
    entity.state = input.state;
    entity.stateMessage = input.stateMessage ?? null;
    entity.updatedAt = this.clock.now();
    return this.toView(await this.repo.save(entity));
  }

  /** Records that an account's credentials stopped working (shown in the UI, mailed later). */
  async noteConnectorFailure(id: string, error: unknown): Promise<void> {
    if (error instanceof AuthExpiredError) {
      // Mid sign-in (an iCloud code is awaited): a run failing meanwhile is expected; keep waiting.
      const entity = await this.repo.findById(id);
      if (entity?.state === 'awaiting-code') return;
      this.logger.warn(`account ${id} needs re-authentication: ${error.message}`);
      await this.repo.updateState(id, 'needs-reauth', error.message, this.clock.now());
      if (entity && entity.state !== 'needs-reauth') {
        this.events?.emit('account.reauth.needed', {
          accountId: id,
          accountName: entity.name,
          kind: entity.kind,
          message: error.message,
        });
      }
    }
  }

  async noteConnectorSuccess(id: string): Promise<void> {
    const entity = await this.repo.findById(id);
    if (entity && entity.state !== 'connected')
      await this.repo.updateState(id, 'connected', null, this.clock.now());
  }

  private validate(
    kind: string,
    options: Record<string, unknown>,
    previous?: ConnectorSettings,
  ): ConnectorSettings {
    const descriptor = this.registry.get(kind);
    let settings: ConnectorSettings;
    try {
      settings = validateConnectorOptions(descriptor, options, previous);
    } catch (e) {
      if (e instanceof InvalidOptionsError) throw new ValidationAppError(e.problems);
      throw e;
    }
    try {
      // Creating a connector checks option values (an absolute root, a parsable URL) without I/O.
      const probe = descriptor.create(settings, {
        clock: this.clock,
        saveSecrets: async () => undefined,
      });
      void probe.close?.();
    } catch (e) {
      if (e instanceof ConnectorError) throw new ValidationAppError([`options: ${e.message}`]);
      throw e;
    }
    return settings;
  }

  /** A root that is not there (a local folder on an absent drive) is refused, never created later. */
  private async assertRootPresent(kind: string, settings: ConnectorSettings): Promise<void> {
    const connector = this.registry.get(kind).create(settings, {
      clock: this.clock,
      saveSecrets: async () => undefined,
    });
    try {
      if (!hasRootPresence(connector)) return;
      const check = await connector.checkRoot();
      if (check.state !== 'present')
        throw new ValidationAppError([`options.root: ${check.detail}`]);
    } finally {
      await connector.close?.().catch(() => undefined);
    }
  }

  private settingsOf(entity: AccountEntity): ConnectorSettings {
    return {
      config: entity.config,
      secrets: entity.sealedSecrets ? this.vault.open(entity.sealedSecrets) : {},
    };
  }

  private async getEntity(id: string): Promise<AccountEntity> {
    const entity = await this.repo.findById(id);
    if (!entity) throw NotFoundAppError.of('account', id);
    return entity;
  }

  private toView(a: AccountEntity): AccountView {
    const descriptor = this.registry.get(a.kind);
    return {
      id: a.id,
      kind: a.kind,
      name: a.name,
      options: publicOptions(descriptor, this.settingsOf(a)),
      state: a.state,
      stateMessage: a.stateMessage,
      createdAt: a.createdAt,
      updatedAt: a.updatedAt,
    };
  }
}

/** Rejects when the signal fires: a listing stuck in a connect or a read gives up in time. */
function abortedBy(signal: AbortSignal, connector: Connector): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => {
      // A server that kept answering errors is named with its last status, never its text.
      const answer = remoteAnswerOf(connector);
      reject(
        new TransientError(
          answer && answer.status >= 400
            ? `the server at ${answer.host} answered ${answer.status} for ${BROWSE_TIMEOUT_MS / 1000} s`
            : `the server did not answer within ${BROWSE_TIMEOUT_MS / 1000} s; check its address and that it is running`,
        ),
      );
    };
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}
