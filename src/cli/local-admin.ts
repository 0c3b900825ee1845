import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AccountsRepository } from '../accounts/accounts.repository.js';
import { AuthService, type UserView } from '../auth/auth.service.js';
import { LoginThrottle } from '../auth/login-throttle.js';
import { hashPassword } from '../auth/passwords.js';
import { SessionEntity, UserEntity } from '../auth/user.entity.js';
import { TasksRepository } from '../tasks/tasks.repository.js';
import { systemClock } from '../common/clock.js';
import { ValidationAppError } from '../common/errors/app-errors.js';
import type { AppConfig } from '../config/app-config.js';
import { dataSourceOptions } from '../persistence/data-source-options.js';
import { Database } from '../persistence/database.js';
import { CliError, EXIT } from './exit-codes.js';

/**
 * Admin recovery on the engine's own database (the one DATABASE_URL / DATA_DIR point at), for
 * when nobody can sign in: no engine needs to run. Safe beside a running engine too: each
 * change is one transaction, and a new password signs the user's sessions out.
 */
export class LocalAdmin {
  private constructor(
    private readonly ds: DataSource,
    private readonly auth: AuthService,
  ) {}

  static async open(config: AppConfig): Promise<LocalAdmin> {
    const ds = new DataSource(dataSourceOptions(config.database));
    try {
      await ds.initialize(); // runs pending migrations, as the engine would
    } catch (e) {
      throw new CliError(
        `cannot open the database (${config.database.type === 'sqlite' ? config.database.file : 'DATABASE_URL'}): ${(e as Error).message}`,
        EXIT.unreachable,
      );
    }
    const db = new Database(ds);
    const throttle = new LoginThrottle({
      maxFailures: config.auth.maxLoginFailures,
      lockSeconds: config.auth.loginLockSeconds,
      maxFailuresPerAddress: config.auth.maxLoginFailuresPerAddress,
    });
    const auth = new AuthService(
      db,
      new AccountsRepository(db),
      new TasksRepository(db),
      throttle,
      systemClock,
    );
    return new LocalAdmin(ds, auth);
  }

  async addUser(username: string, password: string, role: 'admin' | 'user'): Promise<UserView> {
    return this.auth.createUser({ username, password, role });
  }

  /** Sets a new password and ends the user's sessions (API tokens stay valid). */
  async resetPassword(username: string, password: string): Promise<void> {
    if (password.length < 8 || password.length > 1024)
      throw new ValidationAppError(['password: must be 8-1024 characters']);
    const key = username.normalize('NFC').toLowerCase();
    const user = await this.ds.getRepository(UserEntity).findOneBy({ usernameKey: key });
    if (!user) throw new CliError(`no user '${username}' in this database`, EXIT.notFound);
    const hash = await hashPassword(password);
    await this.ds.transaction(async (em) => {
      await em.update(UserEntity, { id: user.id }, { passwordHash: hash });
      await em.delete(SessionEntity, { userId: user.id });
    });
  }

  async close(): Promise<void> {
    await this.ds.destroy();
  }
}

/** A password for a reset or a new user when none is given: 24 characters, URL-safe. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
