import {
  Injectable,
  SetMetadata,
  createParamDecorator,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import {
  AuthService,
  ForbiddenAppError,
  UnauthorizedAppError,
  type Principal,
} from './auth.service.js';

export const SESSION_COOKIE = 'cbe_session';
export const CSRF_HEADER = 'x-csrf-token';
const IS_PUBLIC = 'cbe:public';
const ADMIN_ONLY = 'cbe:admin-only';

/** A route anyone may call: health, the session probe, setup and login. */
export const Public = () => SetMetadata(IS_PUBLIC, true);
/** A route only admins may call (users, SMTP settings). */
export const AdminOnly = () => SetMetadata(ADMIN_ONLY, true);

export type AuthedRequest = Request & { principal?: Principal };

/** The signed-in user of the request (set by `AuthGuard`). */
export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext) => {
  const p = ctx.switchToHttp().getRequest<AuthedRequest>().principal;
  if (!p) throw new UnauthorizedAppError('sign in required');
  return p;
});

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Every route requires a session cookie or an API token unless marked `@Public()`. With the
 * cookie, state-changing methods also need the `X-CSRF-Token` header: a page on another site can
 * make the browser send the cookie, but it cannot read the token. A bearer token is never sent
 * by a browser on its own, so it needs no CSRF token.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const targets = [ctx.getHandler(), ctx.getClass()];
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const principal = await authenticate(this.auth, req);
    if (principal) req.principal = principal;
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    if (!principal) throw new UnauthorizedAppError('sign in required');
    if (
      principal.via === 'session' &&
      !SAFE_METHODS.has(req.method) &&
      !this.auth.checkCsrf(principal.sessionToken!, req.header(CSRF_HEADER))
    ) {
      throw new ForbiddenAppError(
        `CSRF token missing or wrong: send the csrfToken from /api/auth/session in the ${CSRF_HEADER} header`,
      );
    }
    if (
      this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, targets) &&
      principal.user.role !== 'admin'
    ) {
      throw new ForbiddenAppError('only an admin may do this');
    }
    return true;
  }
}

/** The principal behind a request's bearer token or session cookie, if any. */
export async function authenticate(
  auth: AuthService,
  req: Request,
): Promise<Principal | undefined> {
  const header = req.header('authorization');
  if (header) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const user = m ? await auth.authenticateToken(m[1]!) : undefined;
    // A wrong token is an error even if a cookie came along: scripts should hear about it.
    if (!user) throw new UnauthorizedAppError('the API token is unknown or revoked');
    return { user, via: 'token' };
  }
  const token = readCookie(req.headers.cookie, SESSION_COOKIE);
  if (!token) return undefined;
  const user = await auth.authenticateSession(token);
  return user ? { user, via: 'session', sessionToken: token } : undefined;
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      const v = part.slice(i + 1).trim();
      try {
        return decodeURIComponent(v) || undefined;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
