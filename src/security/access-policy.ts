import type { Agent } from 'node:http';
import type { Socket } from 'node:net';
import { ValidationAppError } from '../common/errors/app-errors.js';
import type { LocalRootGrant, SecurityConfig } from '../config/app-config.js';
import type { ConnectorDescriptor, ConnectorSettings } from '../connectors/connector-descriptor.js';
import { OutboundRefusedError, type OutboundPolicy } from './outbound-policy.js';
import { isWithin, realPathOf } from './real-path.js';

/** Who an account belongs to, as the policy needs it. */
export interface Actor {
  username: string;
  isAdmin: boolean;
}

/** Looks a user up by id (the users table); undefined when there is no such user. */
export type UserLookup = (id: string) => Promise<{ username: string; role: string } | undefined>;

/** Where the admin-set LOCAL_ROOTS live (a setting); undefined: the configuration's. */
export interface LocalRootsStore {
  get(): Promise<LocalRootGrant[] | undefined>;
}

/** Idle socket timeout of a restricted owner's connections: an unanswering server fails fast. */
const CONNECT_TIMEOUT_MS = 30_000;

/** Accounts from before sign-in existed were the operator's: they count as an admin's. */
const OPERATOR: Actor = { username: '', isAdmin: true };

/**
 * What a user may point an account at. Local folders: admins anywhere but the engine's own files;
 * other users only under the roots the admin grants (LOCAL_ROOTS or the setting), after symbolic
 * links are resolved. Servers a user names (WebDAV, S3, SFTP): public addresses, or what the admin
 * allow-lists (OUTBOUND_ALLOW). Provider endpoints (API and token URLs): admins only, since the
 * operator's OAuth app secret is sent there.
 */
export class AccessPolicy {
  private forbidden?: Promise<string[]>;

  constructor(
    private readonly config: SecurityConfig,
    private readonly users: UserLookup,
    private readonly roots: LocalRootsStore,
    readonly outbound: OutboundPolicy,
  ) {}

  async actor(ownerId: string | null | undefined): Promise<Actor> {
    if (!ownerId) return OPERATOR;
    const u = await this.users(ownerId);
    // A deleted owner's account is nobody's: the narrowest rights.
    return u
      ? { username: u.username, isAdmin: u.role === 'admin' }
      : { username: '', isAdmin: false };
  }

  /**
   * Checks an account's options for its owner. `input` is what the request sent (checked for
   * endpoint overrides); `settings` the validated result (its folder and servers are checked).
   * Throws a 400 naming the option.
   */
  async checkAccount(
    descriptor: ConnectorDescriptor,
    settings: ConnectorSettings,
    ownerId: string | null | undefined,
    input?: Record<string, unknown>,
  ): Promise<void> {
    const actor = await this.actor(ownerId);
    const problems: string[] = [];
    for (const spec of descriptor.options) {
      if (!spec.target) continue;
      const field = `options.${spec.key}`;
      const value = settings.config[spec.key];
      try {
        switch (spec.target) {
          case 'admin-endpoint': {
            const given = input?.[spec.key];
            if (!actor.isAdmin && given !== undefined && given !== '' && given !== spec.default) {
              problems.push(
                `${field}: only an admin may change a provider's endpoint (it receives the server's app credentials)`,
              );
            }
            break;
          }
          case 'local-folder':
            if (typeof value === 'string') await this.checkLocalFolder(value, actor, field);
            break;
          case 'server-url':
            if (typeof value === 'string' && value !== '' && !actor.isAdmin)
              await this.outbound.checkUrl(value, field);
            break;
          case 'server-host':
            if (typeof value === 'string' && value !== '' && !actor.isAdmin)
              await this.outbound.checkHost(value, field);
            break;
        }
      } catch (e) {
        if (e instanceof OutboundRefusedError) problems.push(e.message);
        else if (e instanceof ValidationAppError) problems.push(...e.problems);
        else throw e;
      }
    }
    if (problems.length > 0) throw new ValidationAppError(problems);
  }

  /** A webhook URL of a task owned by `ownerId`. */
  async checkWebhook(
    url: string,
    ownerId: string | null | undefined,
    field: string,
  ): Promise<void> {
    if ((await this.actor(ownerId)).isAdmin) return;
    try {
      await this.outbound.checkUrl(url, field);
    } catch (e) {
      if (e instanceof OutboundRefusedError) throw new ValidationAppError([e.message]);
      throw e;
    }
  }

  /** An agent per URL that re-checks each connection, for an owner who is no admin. */
  async outboundAgentFor(
    ownerId: string | null | undefined,
  ): Promise<((url: string) => Agent) | undefined> {
    if ((await this.actor(ownerId)).isAdmin) return undefined;
    return (url) => this.outbound.agentFor(url, { timeoutMs: CONNECT_TIMEOUT_MS });
  }

  /** For SSH: a connection checked on every connect (DNS rebinding); admins: undefined. */
  async outboundConnectFor(
    ownerId: string | null | undefined,
  ): Promise<((host: string, port: number) => Promise<Socket>) | undefined> {
    if ((await this.actor(ownerId)).isAdmin) return undefined;
    return (host, port) => this.outbound.connect(host, port, 'options.host', CONNECT_TIMEOUT_MS);
  }

  /** Whether connections for this owner must go through the filtering agent. */
  async restrictsOutbound(ownerId: string | null | undefined): Promise<boolean> {
    return !(await this.actor(ownerId)).isAdmin;
  }

  /** The roots a non-admin may use, `{user}` filled in; admins: undefined (anywhere allowed). */
  async grantsFor(actor: Actor): Promise<string[] | undefined> {
    if (actor.isAdmin) return undefined;
    const grants = (await this.roots.get()) ?? this.config.localRoots;
    const name = actor.username.toLowerCase();
    return grants
      .filter((g) => g.user === undefined || g.user === name)
      .map((g) => g.path.replaceAll('{user}', actor.username));
  }

  private async checkLocalFolder(root: string, actor: Actor, field: string): Promise<void> {
    if (root.includes('\0')) throw new ValidationAppError([`${field}: contains a NUL character`]);
    if (!root.startsWith('/')) return; // the connector reports "must be an absolute path"
    const real = await realPathOf(root);
    for (const f of await this.forbiddenPaths()) {
      if (isWithin(real, f) || isWithin(f, real)) {
        throw new ValidationAppError([
          `${field}: '${root}' is or holds the engine's own files (its data folder, key, database or installation); choose another folder`,
        ]);
      }
    }
    const grants = await this.grantsFor(actor);
    if (grants === undefined) return;
    for (const g of grants) if (isWithin(await realPathOf(g), real)) return;
    throw new ValidationAppError([
      grants.length === 0
        ? `${field}: local folders are granted by an admin, and none is granted to you (LOCAL_ROOTS)`
        : `${field}: '${root}' is outside the folders an admin granted you: ${grants.join(', ')}`,
    ]);
  }

  private forbiddenPaths(): Promise<string[]> {
    this.forbidden ??= Promise.all(this.config.forbiddenPaths.map((p) => realPathOf(p)));
    return this.forbidden;
  }
}
