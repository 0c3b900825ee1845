import type { SecretVault } from '../accounts/secret-vault.js';
import type { Clock } from '../common/clock.js';
import { AppError, ValidationAppError } from '../common/errors/app-errors.js';
import type { SmtpConfig, SmtpTlsMode } from '../config/app-config.js';
import type { Mailer, SmtpServer } from './mailer.js';
import type { SettingsRepository } from './settings.repository.js';

const KEY = 'smtp';
const ADDRESS = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;
const HOST = /^[A-Za-z0-9.-]{1,253}$|^\[[0-9a-fA-F:.]+\]$/;

interface StoredSmtp {
  host: string;
  port: number;
  tls: SmtpTlsMode;
  user: string | null;
  /** Sealed by the vault; never returned by the API. */
  sealedPassword: string | null;
  from: string;
}

export interface SmtpSettingsInput {
  host: string;
  port?: number;
  tls?: SmtpTlsMode;
  user?: string | null;
  /** Omitted: keep the stored one; null or '': remove it. */
  password?: string | null;
  from: string;
}

export interface SmtpSettingsView {
  /** Where the effective settings come from: the settings API, the environment, or nowhere. */
  source: 'settings' | 'environment' | 'none';
  host: string | null;
  port: number | null;
  tls: SmtpTlsMode | null;
  user: string | null;
  from: string | null;
  hasPassword: boolean;
}

/** The mail server refused or could not be reached: 502 with its answer. */
export class SmtpUnreachableError extends AppError {
  readonly status = 502;
}

/** The SMTP server notifications use: from the settings API when set there, else SMTP_* variables. */
export class SmtpSettingsService {
  constructor(
    private readonly settings: SettingsRepository,
    private readonly vault: SecretVault,
    private readonly env: SmtpConfig,
    private readonly clock: Clock,
    private readonly mailer: Mailer,
  ) {}

  /** Sends a test message through the effective settings; 502 with the server's answer on failure. */
  async sendTest(to: string[]): Promise<{ sent: true; to: string[] }> {
    const server = await this.effective();
    if (!server) {
      throw new ValidationAppError([
        'smtp: no SMTP server is configured (PUT /api/settings/smtp, or SMTP_HOST and SMTP_FROM)',
      ]);
    }
    try {
      await this.mailer.send(server, {
        to,
        subject: 'Test message from the cloud backup engine',
        text: `This is a test. Notifications will be sent through ${server.host}:${server.port}.\n`,
        html: `<p>This is a test. Notifications will be sent through ${server.host}:${server.port}.</p>`,
      });
    } catch (e) {
      throw new SmtpUnreachableError(
        `the SMTP server ${server.host}:${server.port} did not accept the test message: ${(e as Error).message}`,
      );
    }
    return { sent: true, to };
  }

  /** The server to send through, password opened; undefined when none is configured. */
  async effective(): Promise<SmtpServer | undefined> {
    const stored = await this.settings.get<StoredSmtp>(KEY);
    if (stored) {
      return {
        host: stored.host,
        port: stored.port,
        tls: stored.tls,
        user: stored.user ?? undefined,
        password: stored.sealedPassword
          ? this.vault.open(stored.sealedPassword).password
          : undefined,
        from: stored.from,
      };
    }
    if (this.env.host && this.env.from) {
      return {
        host: this.env.host,
        port: this.env.port,
        tls: this.env.tls,
        user: this.env.user,
        password: this.env.password,
        from: this.env.from,
      };
    }
    return undefined;
  }

  async view(): Promise<SmtpSettingsView> {
    const stored = await this.settings.get<StoredSmtp>(KEY);
    if (stored) {
      return {
        source: 'settings',
        host: stored.host,
        port: stored.port,
        tls: stored.tls,
        user: stored.user,
        from: stored.from,
        hasPassword: stored.sealedPassword !== null,
      };
    }
    if (this.env.host) {
      return {
        source: 'environment',
        host: this.env.host,
        port: this.env.port,
        tls: this.env.tls,
        user: this.env.user ?? null,
        from: this.env.from ?? null,
        hasPassword: !!this.env.password,
      };
    }
    return {
      source: 'none',
      host: null,
      port: null,
      tls: null,
      user: null,
      from: null,
      hasPassword: false,
    };
  }

  async update(input: SmtpSettingsInput): Promise<SmtpSettingsView> {
    const problems: string[] = [];
    const host = input.host.trim();
    if (!HOST.test(host)) problems.push(`host: '${host}' is not a host name or address`);
    const tls = input.tls ?? 'starttls';
    const port = input.port ?? (tls === 'tls' ? 465 : 587);
    const from = input.from.trim();
    const address = /<([^>]+)>\s*$/.exec(from)?.[1] ?? from;
    if (!ADDRESS.test(address)) {
      problems.push(`from: '${from}' is not an e-mail address (or "Name <address>")`);
    }
    const user = input.user?.trim() || null;
    const previous = await this.settings.get<StoredSmtp>(KEY);
    let sealedPassword: string | null;
    // Without a user there is no login: a stored password goes with it.
    if (input.password === undefined)
      sealedPassword = user ? (previous?.sealedPassword ?? null) : null;
    else if (input.password === null || input.password === '') sealedPassword = null;
    else sealedPassword = this.vault.seal({ password: input.password });
    if (sealedPassword && !user) problems.push('user: required when a password is set');
    if (problems.length > 0) throw new ValidationAppError(problems);
    await this.settings.put(
      KEY,
      { host, port, tls, user, sealedPassword, from } satisfies StoredSmtp,
      this.clock.now(),
    );
    return this.view();
  }
}
