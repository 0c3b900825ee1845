import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AuthorizeUrlView, ICloudSignInView } from './dto/views.dto.js';
import type { Request, Response } from 'express';
import { CurrentUser, readCookie } from '../auth/auth.guard.js';
import type { Principal } from '../auth/auth.service.js';
import { Ownership } from '../auth/ownership.js';
import { ICloudSignInService } from '../accounts/icloud-sign-in.service.js';
import {
  OAUTH_COOKIE,
  OAUTH_STATE_TTL_MS,
  OAuthConnectService,
} from '../accounts/oauth-connect.service.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../tokens.js';
import {
  AuthorizeQuery,
  ICloudCodeDto,
  ICloudSignInDto,
  StartConnectDto,
} from './dto/connect.dto.js';

/** The cookie is only needed on the callback, under /api/accounts. */
const COOKIE_PATH = '/api/accounts';

/** Connecting cloud accounts: the OAuth consent flow, and the iCloud sign-in with its code. */
@ApiTags('accounts')
@Controller('api/accounts')
export class ConnectController {
  constructor(
    private readonly oauth: OAuthConnectService,
    private readonly icloud: ICloudSignInService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly owners: Ownership,
  ) {}

  /** Starts an OAuth connection: answers the consent URL and sets the `cbe_oauth` cookie. */
  @Post('connect')
  @HttpCode(200)
  @ApiOkResponse({ type: AuthorizeUrlView })
  async connect(
    @CurrentUser() p: Principal,
    @Body() dto: StartConnectDto,
    @Res({ passthrough: true }) res: Response,
  ) {
    if (dto.accountId) await this.owners.account(p, dto.accountId);
    const started = await this.oauth.start({ ...dto, ownerId: p.user.id });
    this.setCookie(res, started.nonce);
    return { authorizeUrl: started.authorizeUrl };
  }

  /** Same as `connect`, for a plain link: 302 to the provider's consent page. */
  @Get(':kind/authorize')
  async authorize(
    @CurrentUser() p: Principal,
    @Param('kind') kind: string,
    @Query() q: AuthorizeQuery,
    @Res() res: Response,
  ): Promise<void> {
    if (q.accountId) await this.owners.account(p, q.accountId);
    const started = await this.oauth.start({
      kind,
      name: q.name,
      accountId: q.accountId,
      ownerId: p.user.id,
    });
    this.setCookie(res, started.nonce);
    res.redirect(302, started.authorizeUrl);
  }

  /** The redirect URI every provider sends the browser back to. */
  @Get('oauth/callback')
  async callback(
    @CurrentUser() p: Principal,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    // Read raw: providers append parameters of their own (scope, iss, session_state...).
    const q = req.query as Record<string, unknown>;
    const one = (k: string) => (typeof q[k] === 'string' ? q[k] : undefined);
    const { account } = await this.oauth.complete({
      code: one('code'),
      state: one('state'),
      error: one('error'),
      errorDescription: one('error_description'),
      nonce: readCookie(req.headers.cookie, OAUTH_COOKIE),
      userId: p.user.id,
    });
    res.clearCookie(OAUTH_COOKIE, { path: COOKIE_PATH });
    if (req.accepts(['html', 'json']) === 'json') {
      res.status(200).json({ account });
      return;
    }
    res.redirect(302, `/#/accounts?connected=${encodeURIComponent(account.id)}`);
  }

  /** iCloud: signs in with the Apple ID password; 'needs-code' when Apple asks for the 6 digits. */
  @Post('icloud/sign-in')
  @HttpCode(200)
  @ApiOkResponse({ type: ICloudSignInView })
  async signIn(@CurrentUser() p: Principal, @Body() dto: ICloudSignInDto) {
    if (dto.accountId) await this.owners.account(p, dto.accountId);
    return this.icloud.signIn({ ...dto, ownerId: p.user.id });
  }

  @Post(':id/icloud/code')
  @HttpCode(200)
  @ApiOkResponse({ type: ICloudSignInView })
  async submitCode(
    @CurrentUser() p: Principal,
    @Param('id') id: string,
    @Body() dto: ICloudCodeDto,
  ) {
    await this.owners.account(p, id);
    return this.icloud.submitCode(id, dto.code);
  }

  @Post(':id/icloud/request-code')
  @HttpCode(200)
  @ApiOkResponse({ type: ICloudSignInView })
  async requestCode(@CurrentUser() p: Principal, @Param('id') id: string) {
    await this.owners.account(p, id);
    return this.icloud.requestCode(id);
  }

  private setCookie(res: Response, nonce: string): void {
    res.cookie(OAUTH_COOKIE, nonce, {
      httpOnly: true,
      // Lax: the cookie rides along on the provider's top-level redirect back to us, not on
      // cross-site subrequests.
      sameSite: 'lax',
      secure: this.config.publicUrl.startsWith('https:'),
      path: COOKIE_PATH,
      maxAge: OAUTH_STATE_TTL_MS,
    });
  }
}
