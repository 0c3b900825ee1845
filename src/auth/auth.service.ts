import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { AccountsRepository } from '../accounts/accounts.repository.js';
import type { TasksRepository } from '../tasks/tasks.repository.js';
import type { Clock } from '../common/clock.js';
import {
  AppError,
  ConflictAppError,
  NotFoundAppError,
  ValidationAppError,
} from '../common/errors/app-errors.js';
import type { Database } from '../persistence/database.js';
import type { LoginThrottle } from './login-throttle.js';
import { Semaphore } from '../common/semaphore.js';
import { decoyHash, hashPassword, verifyPassword } from './passwords.js';
import { ApiTokenEntity, SessionEntity, UserEntity, type UserRole } from './user.entity.js';

/** Sessions last 14 days from the last visit that renewed them. */
export const SESSION_TTL_MS = 14 * 24 * 3600_000;
const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;
const TOKEN_PREFIX = 'cbe_';

export interface UserView {
  id: string;
  username: string;
  role: UserRole;
  createdAt: Date;
}

/** Who a request acts for, and how it proved it. */
export interface Principal {
  user: UserView;
  via: 'session' | 'token';
  /** The cookie's token, for CSRF and sign-out; only with `via: 'session'`. */
  sessionToken?: string;
}

export class UnauthorizedAppError extends AppError {
  readonly status = 401;
}

export class ForbiddenAppError extends AppError {
  readonly status = 403;
}

export class TooManyAttemptsAppError extends AppError {
  readonly status = 429;
  constructor(readonly retryAfterSeconds: number) {
    super(
      `too many failed sign-ins: try again in ${retryAfterSeconds} s (or from another address)`,
    );
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const usernameKey = (u: string) => u.normalize('NFC').toLowerCase();

export function toUserView(u: UserEntity): UserView {
  return { id: u.id, username: u.username, role: u.role, createdAt: u.createdAt };
}

/**
 * Users, sessions and API tokens. A session or API token is a random 256-bit secret given to
 * the client once; the database keeps only its SHA-256, so reading the database signs no one in.
 * The CSRF token is an HMAC of the session's secret: bound to the session, nothing to store.
 */
export class AuthService {
  private readonly logger = new Logger('Auth');
  /**
   * scrypt runs on libuv's 4 threads; two hashes at a time leave the others to file and DNS work,
   * so a burst of sign-ins queues here instead of stalling every request (measured: 300
   * concurrent wrong passwords left /api/health under 200 ms).
   */
  private readonly hasher = new Semaphore(2);

  constructor(
    private readonly db: Database,
    private readonly accounts: AccountsRepository,
    private readonly tasks: TasksRepository,
    private readonly throttle: LoginThrottle,
    private readonly clock: Clock,
  ) {}

  private get users() {
    return this.db.dataSource.getRepository(UserEntity);
  }
  private get sessions() {
    return this.db.dataSource.getRepository(SessionEntity);
  }
  private get tokens() {
    return this.db.dataSource.getRepository(ApiTokenEntity);
  }

  async setupRequired(): Promise<boolean> {
    return (await this.users.count()) === 0;
  }

  /**
   * The first user, an admin: from the first-start screen, or from ADMIN_USERNAME and
   * ADMIN_PASSWORD. Accounts and tasks from before sign-in existed become theirs.
   */
  async setup(input: { username: string; password: string }): Promise<UserView> {
    this.checkNewUser(input.username, input.password);
    const hash = await this.hasher.run(() => hashPassword(input.password));
    const user = await this.db.transaction(async (em) => {
      // Two engines starting together on one PostgreSQL, both with ADMIN_USERNAME, would each
      // count no user and insert one.
      await this.db.lockForTransaction(em, 'cbe:first-admin');
      if ((await em.count(UserEntity)) > 0) {
        throw new ConflictAppError('the admin user already exists: sign in instead');
      }
      return em.save(UserEntity, this.newUser(input.username, hash, 'admin'));
    });
    const adopted =
      (await this.accounts.adoptUnowned(user.id)) + (await this.tasks.adoptUnowned(user.id));
    this.logger.log(
      `admin user '${user.username}' created${adopted ? `; ${adopted} earlier accounts and tasks are theirs` : ''}`,
    );
    return toUserView(user);
  }

  /** Creates the admin from configuration on a first start; later starts leave users alone. */
  async ensureAdmin(username: string | undefined, password: string | undefined): Promise<void> {
    if (!username || !password) return;
    if (!(await this.setupRequired())) return;
    try {
      await this.setup({ username, password });
    } catch (e) {
      if (e instanceof ConflictAppError) return; // another node was faster
      if (e instanceof ValidationAppError) {
        throw new Error(`ADMIN_USERNAME / ADMIN_PASSWORD: ${e.message}`, { cause: e });
      }
      throw e;
    }
  }

  async login(
    input: { username: string; password: string },
    address: string,
  ): Promise<{ user: UserView; sessionToken: string }> {
    const key = usernameKey(input.username);
    // The throttle decides before any hash is computed, counting attempts still in flight.
    const attempt = await this.throttle.begin(key, address);
    if (attempt.waitMs > 0) throw new TooManyAttemptsAppError(Math.ceil(attempt.waitMs / 1000));
    const user = await this.users.findOneBy({ usernameKey: key });
    // Unknown names cost the same time as wrong passwords: no telling which names exist.
    const stored = user?.passwordHash ?? (await this.hasher.run(() => decoyHash()));
    const ok = await this.hasher.run(() => verifyPassword(input.password, stored));
    if (!user || !ok) {
      this.logger.warn(`failed sign-in for '${input.username.slice(0, 64)}' from ${address}`);
      if (attempt.last) throw new TooManyAttemptsAppError(Math.ceil(attempt.lockMs / 1000));
      throw new UnauthorizedAppError('wrong username or password');
    }
    await this.throttle.succeeded(key, address);
    return { user: toUserView(user), sessionToken: await this.createSession(user.id) };
  }

  async createSession(userId: string): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    await this.db.write((em) =>
      em.insert(SessionEntity, {
        id: sha256(token),
        userId,
        createdAt: now,
        expiresAt: new Date(now.getTime() + SESSION_TTL_MS),
      }),
    );
    return token;
  }

  /** The session's user, renewing a session past half its life; undefined when unknown or expired. */
  async authenticateSession(token: string): Promise<UserView | undefined> {
    const id = sha256(token);
    const session = await this.sessions.findOneBy({ id });
    if (!session) return undefined;
    const now = this.clock.now().getTime();
    if (session.expiresAt.getTime() <= now) {
      await this.db.write((em) => em.delete(SessionEntity, { id }));
      return undefined;
    }
    const user = await this.users.findOneBy({ id: session.userId });
    if (!user) return undefined;
    if (session.expiresAt.getTime() - now < SESSION_TTL_MS / 2) {
      await this.db.write((em) =>
        em.update(SessionEntity, { id }, { expiresAt: new Date(now + SESSION_TTL_MS) }),
      );
    }
    return toUserView(user);
  }

  async logout(token: string): Promise<void> {
    await this.db.write((em) => em.delete(SessionEntity, { id: sha256(token) }));
  }

  csrfTokenFor(sessionToken: string): string {
    return createHmac('sha256', sessionToken).update('csrf').digest('base64url');
  }

  checkCsrf(sessionToken: string, given: string | undefined): boolean {
    if (!given) return false;
    const expected = Buffer.from(this.csrfTokenFor(sessionToken));
    const actual = Buffer.from(given);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }

  // --- users ---

  async listUsers(): Promise<UserView[]> {
    return (await this.users.find({ order: { createdAt: 'ASC' } })).map(toUserView);
  }

  async createUser(input: {
    username: string;
    password: string;
    role: UserRole;
  }): Promise<UserView> {
    this.checkNewUser(input.username, input.password);
    const hash = await this.hasher.run(() => hashPassword(input.password));
    return this.db.write(async (em) => {
      if (await em.findOneBy(UserEntity, { usernameKey: usernameKey(input.username) })) {
        throw new ConflictAppError(`username '${input.username}' is taken`, [
          `username: '${input.username}' is taken`,
        ]);
      }
      return toUserView(await em.save(UserEntity, this.newUser(input.username, hash, input.role)));
    });
  }

  /**
   * Removes a user, their sessions and tokens. Refused while they own accounts or tasks: their
   * backups are not deleted behind their back.
   */
  async deleteUser(actor: UserView, id: string): Promise<void> {
    if (actor.id === id) throw new ConflictAppError('you cannot delete yourself');
    const user = await this.users.findOneBy({ id });
    if (!user) throw NotFoundAppError.of('user', id);
    const [accounts, tasks] = await Promise.all([
      this.accounts.countOwned(id),
      this.tasks.countOwned(id),
    ]);
    if (accounts + tasks > 0) {
      throw new ConflictAppError(
        `user '${user.username}' still owns ${accounts} account(s) and ${tasks} task(s); they must remove them first`,
      );
    }
    await this.db.transaction(async (em) => {
      await em.delete(SessionEntity, { userId: id });
      await em.delete(ApiTokenEntity, { userId: id });
      await em.delete(UserEntity, { id });
    });
  }

  /** Changes the password and signs out every other session of the user. */
  async changePassword(
    principal: Principal,
    input: { currentPassword: string; newPassword: string },
  ): Promise<void> {
    const user = await this.users.findOneBy({ id: principal.user.id });
    if (!user) throw new UnauthorizedAppError('sign in required');
    if (!(await this.hasher.run(() => verifyPassword(input.currentPassword, user.passwordHash)))) {
      throw new ValidationAppError(['currentPassword: is not your current password']);
    }
    this.checkPassword(input.newPassword, 'newPassword');
    const hash = await this.hasher.run(() => hashPassword(input.newPassword));
    const keep = principal.sessionToken ? sha256(principal.sessionToken) : '';
    await this.db.transaction(async (em) => {
      await em.update(UserEntity, { id: user.id }, { passwordHash: hash });
      await em
        .createQueryBuilder()
        .delete()
        .from(SessionEntity)
        .where('user_id = :u AND id <> :keep', { u: user.id, keep })
        .execute();
    });
  }

  // --- API tokens ---

  async createToken(
    userId: string,
    name: string,
  ): Promise<{ id: string; name: string; token: string; createdAt: Date }> {
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const row: ApiTokenEntity = {
      id: randomUUID(),
      userId,
      name,
      tokenHash: sha256(token),
      createdAt: this.clock.now(),
      lastUsedAt: null,
    };
    await this.db.write((em) => em.insert(ApiTokenEntity, row));
    return { id: row.id, name, token, createdAt: row.createdAt };
  }

  async listTokens(
    userId: string,
  ): Promise<Array<{ id: string; name: string; createdAt: Date; lastUsedAt: Date | null }>> {
    const rows = await this.tokens.find({ where: { userId }, order: { createdAt: 'ASC' } });
    return rows.map((t) => ({
      id: t.id,
      name: t.name,
      createdAt: t.createdAt,
      lastUsedAt: t.lastUsedAt,
    }));
  }

  async deleteToken(userId: string, id: string): Promise<void> {
    const r = await this.db.write((em) => em.delete(ApiTokenEntity, { id, userId }));
    if (!r.affected) throw NotFoundAppError.of('API token', id);
  }

  async authenticateToken(token: string): Promise<UserView | undefined> {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    const row = await this.tokens.findOneBy({ tokenHash: sha256(token) });
    if (!row) return undefined;
    const user = await this.users.findOneBy({ id: row.userId });
    if (!user) return undefined;
    const now = this.clock.now();
    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > 60_000) {
      await this.db.write((em) => em.update(ApiTokenEntity, { id: row.id }, { lastUsedAt: now }));
    }
    return toUserView(user);
  }

  private newUser(username: string, passwordHash: string, role: UserRole): UserEntity {
    return {
      id: randomUUID(),
      username,
      usernameKey: usernameKey(username),
      passwordHash,
      role,
      createdAt: this.clock.now(),
    };
  }

  private checkNewUser(username: string, password: string): void {
    const problems: string[] = [];
    if (!USERNAME.test(username)) {
      problems.push('username: must be 1-64 letters, digits, or . _ @ -');
    }
    try {
      this.checkPassword(password, 'password');
    } catch (e) {
      if (e instanceof ValidationAppError) problems.push(...e.problems);
    }
    if (problems.length > 0) throw new ValidationAppError(problems);
  }

  private checkPassword(password: string, field: string): void {
    if (password.length < 8) {
      throw new ValidationAppError([`${field}: must be at least 8 characters`]);
    }
    if (password.length > 1024) {
      throw new ValidationAppError([`${field}: must be at most 1024 characters`]);
    }
  }
}
