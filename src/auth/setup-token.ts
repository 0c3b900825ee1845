import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import type { Request } from 'express';
import type { AppConfig } from '../config/app-config.js';
import { ForbiddenAppError } from './auth.service.js';

/**
 * Proof of being the operator on a first start. An engine that listens beyond loopback could be
 * set up by whoever reaches it first; so creating the first admin there takes a token printed in
 * the engine's log (or SETUP_TOKEN, or ADMIN_USERNAME/ADMIN_PASSWORD, which skip the screen).
 * On loopback only someone on this machine can connect, and no token is asked.
 */
export class SetupGate {
  private readonly logger = new Logger('Setup');
  private readonly token: string;

  constructor(private readonly config: AppConfig) {
    this.token = config.security.setupToken ?? randomBytes(18).toString('base64url');
  }

  /** Logged once at start while there is no user yet (the operator reads it there). */
  announce(): void {
    if (this.config.auth.adminPassword || isLoopback(this.config.host)) return;
    this.logger.log(
      `first start: no admin yet. Open ${this.config.publicUrl} and enter this setup token: ${this.token} ` +
        '(or set ADMIN_USERNAME and ADMIN_PASSWORD)',
    );
  }

  /** Whether the request's server listens beyond loopback, so the token is needed. */
  isRequired(req: Request): boolean {
    const server = (req.socket as { server?: { address(): AddressInfo | string | null } }).server;
    const addr = server?.address();
    const host = typeof addr === 'object' && addr ? addr.address : this.config.host;
    return !isLoopback(host);
  }

  check(req: Request, given: string | undefined): void {
    if (!this.isRequired(req)) return;
    const a = Buffer.from(given ?? '');
    const b = Buffer.from(this.token);
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      throw new ForbiddenAppError(
        given
          ? 'setupToken: wrong setup token; it is printed in the engine log at start'
          : 'setupToken: required on a first start reachable from the network; it is printed in the engine log at start',
        [
          given
            ? 'setupToken: wrong setup token'
            : 'setupToken: required (it is printed in the engine log)',
        ],
      );
    }
  }
}

function isLoopback(host: string): boolean {
  return (
    host === 'localhost' || host === '::1' || /^127\./.test(host) || host === '::ffff:127.0.0.1'
  );
}
