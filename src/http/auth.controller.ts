import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { LoginView, SessionView, SignedInView } from './dto/views.dto.js';
import type { Request, Response } from 'express';
import { CurrentUser, Public, SESSION_COOKIE, type AuthedRequest } from '../auth/auth.guard.js';
import {
  AuthService,
  SESSION_TTL_MS,
  type Principal,
  type UserView,
} from '../auth/auth.service.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../tokens.js';
import { SetupGate } from '../auth/setup-token.js';
import { ChangePasswordDto, LoginDto, SetupDto } from './dto/auth.dto.js';

/** A path on this site, or '/': never another origin (`//evil`, `/\evil`, `https://...`). */
export function localRedirect(next: string | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || hasBackslashOrControl(next)) {
    return '/';
  }
  try {
    const base = 'http://local.invalid';
    const url = new URL(next, base);
    const local = url.pathname + url.search + url.hash;
    // '/..//evil' resolves to the path '//evil', which a browser reads as another host.
    return url.origin === base && !local.startsWith('//') ? local : '/';
  } catch {
    return '/';
  }
}

function hasBackslashOrControl(s: string): boolean {
  for (const ch of s) if (ch === '\\' || ch.charCodeAt(0) < 0x20) return true;
  return false;
}

@ApiTags('auth')
@Controller('api/auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly setupGate: SetupGate,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (await this.auth.setupRequired()) this.setupGate.announce();
  }

  /** Whether setup is needed, who is signed in, and the CSRF token for their requests. */
  @Public()
  @Get('session')
  @ApiOkResponse({ type: SessionView })
  async session(@Req() req: AuthedRequest) {
    const p = req.principal;
    const setupRequired = await this.auth.setupRequired();
    return {
      setupRequired,
      ...(setupRequired ? { setupTokenRequired: this.setupGate.isRequired(req) } : {}),
      user: p ? view(p.user) : null,
      csrfToken: p?.sessionToken ? this.auth.csrfTokenFor(p.sessionToken) : null,
    };
  }

  /** Creates the first user (an admin) and signs them in; 409 once any user exists. */
  @Public()
  @Post('setup')
  @ApiCreatedResponse({ type: SignedInView })
  async setup(
    @Body() dto: SetupDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    // Once an admin exists the service answers 409 (sign in instead) whatever the token.
    if (await this.auth.setupRequired()) this.setupGate.check(req, dto.setupToken);
    const user = await this.auth.setup({ username: dto.username, password: dto.password });
    const token = await this.auth.createSession(user.id);
    this.setCookie(req, res, token);
    return { user: view(user), csrfToken: this.auth.csrfTokenFor(token) };
  }

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ type: LoginView })
  async login(
    @Body() dto: LoginDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { user, sessionToken } = await this.auth.login(dto, req.ip ?? 'unknown');
    this.setCookie(req, res, sessionToken);
    return {
      user: view(user),
      csrfToken: this.auth.csrfTokenFor(sessionToken),
      redirect: localRedirect(dto.next),
    };
  }

  @Post('logout')
  @HttpCode(204)
  async logout(
    @CurrentUser() p: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    if (p.sessionToken) await this.auth.logout(p.sessionToken);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
  }

  /** Changes your password; your other sessions are signed out. */
  @Post('password')
  @HttpCode(204)
  async password(@CurrentUser() p: Principal, @Body() dto: ChangePasswordDto): Promise<void> {
    await this.auth.changePassword(p, dto);
  }

  private setCookie(req: Request, res: Response, token: string): void {
    res.cookie(SESSION_COOKIE, token, {
      httpOnly: true,
      // Lax: sent on top-level navigations back from an OAuth consent page, not on cross-site
      // subrequests; the CSRF header covers what Lax lets through.
      sameSite: 'lax',
      secure: req.secure || this.config.publicUrl.startsWith('https:'),
      path: '/',
      maxAge: SESSION_TTL_MS,
    });
  }
}

function view(u: UserView) {
  return { id: u.id, username: u.username, role: u.role };
}
