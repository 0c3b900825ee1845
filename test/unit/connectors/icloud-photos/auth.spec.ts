import { AuthExpiredError, RateLimitedError } from '../../../../src/connectors/connector.errors.js';
import { ICloudAuthService } from '../../../../src/connectors/icloud-photos/icloud-auth.service.js';
import { ICloudSignInError } from '../../../../src/connectors/icloud-photos/icloud-photos.errors.js';
import {
  sessionFromSecrets,
  sessionToSecrets,
} from '../../../../src/connectors/icloud-photos/icloud-photos.session.js';
import { emulatorEndpoints, signInWithTrust } from '../../../support/connectors/icloud-photos.js';
import {
  startICloudPhotosEmulator,
  type ICloudPhotosEmulator,
} from '../../../../emulators/icloud-photos/icloud-photos.emulator.js';

describe('ICloudAuthService', () => {
  let emu: ICloudPhotosEmulator;
  let sut: ICloudAuthService;

  beforeEach(async () => {
    emu = await startICloudPhotosEmulator({
      librarySize: 5,
      iterations: 1000,
      codeAttemptLimit: 3,
    });
    sut = new ICloudAuthService(emulatorEndpoints(emu));
  });
  afterEach(() => emu.stop());

  it('should ask for a code when no trust token is stored, then authenticate with the right code', async () => {
    const first = await sut.signIn(emu.credentials.appleId, emu.credentials.password);
    expect(first.state).toBe('needs-code');
    const asked = await sut.requestCode(first.session);
    const done = await sut.submitCode(asked, emu.control.lastSecurityCode()!);
    expect(done.state).toBe('authenticated');
    expect(done.session.trustToken).toBeTruthy();
    expect(done.session.ckdatabasewsUrl).toBe(emu.baseUrl);
    expect(done.session.dsid).toBe('12345678901');
    expect(done.session.webCookies['X-APPLE-WEBAUTH-TOKEN']).toBeTruthy();
    expect(emu.requestLog.counts()).toMatchObject({
      'idmsa POST /signin/init': 1,
      'idmsa POST /signin/complete': 1,
      'idmsa PUT /verify/trusteddevice/securitycode': 1,
      'idmsa POST /verify/trusteddevice/securitycode': 1,
      'idmsa GET /2sv/trust': 1,
      'setup /accountLogin': 1,
    });
  });

  it('should sign in without a code when the stored trust token is valid', async () => {
    const trusted = await signInWithTrust(emu);
    emu.requestLog.clear();
    const again = await sut.signIn(emu.credentials.appleId, emu.credentials.password, trusted);
    expect(again.state).toBe('authenticated');
    expect(again.session.clientId).toBe(trusted.clientId);
    expect(emu.requestLog.count('idmsa POST /verify')).toBe(0);
  });

  it('should sign in an s2k_fo account (hex-digest password derivation)', async () => {
    const fo = await startICloudPhotosEmulator({
      librarySize: 1,
      protocol: 's2k_fo',
      iterations: 1000,
    });
    try {
      const auth = new ICloudAuthService(emulatorEndpoints(fo));
      const r = await auth.signIn(fo.credentials.appleId, fo.credentials.password);
      expect(r.state).toBe('needs-code');
    } finally {
      await fo.stop();
    }
  });

  it('should throw wrong-password when the password is wrong', async () => {
    const err = await sut.signIn(emu.credentials.appleId, 'not it').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ICloudSignInError);
    expect(err).toMatchObject({ reason: 'wrong-password' });
    expect(
      emu.requestLog.entries.find((e) => e.endpoint === 'idmsa POST /signin/complete')?.status,
    ).toBe(401);
  });

  it('should throw wrong-code when the code is wrong, and code-locked after too many attempts', async () => {
    const first = await sut.signIn(emu.credentials.appleId, emu.credentials.password);
    const asked = await sut.requestCode(first.session);
    const right = emu.control.lastSecurityCode()!;
    const wrong = right === '000000' ? '111111' : '000000';
    await expect(sut.submitCode(asked, wrong)).rejects.toMatchObject({ reason: 'wrong-code' });
    await expect(sut.submitCode(asked, wrong)).rejects.toMatchObject({ reason: 'wrong-code' });
    // The third wrong code (the emulator's limit) locks code entry.
    await expect(sut.submitCode(asked, wrong)).rejects.toMatchObject({ reason: 'code-locked' });
    // Locked now: even the right code is refused.
    await expect(sut.submitCode(asked, right)).rejects.toMatchObject({ reason: 'code-locked' });
  });

  it('should ask for a code again when the trust token expired', async () => {
    const trusted = await signInWithTrust(emu);
    emu.control.expireTrustTokens();
    const again = await sut.signIn(emu.credentials.appleId, emu.credentials.password, trusted);
    expect(again.state).toBe('needs-code');
  });

  it('should throw AuthExpiredError needs-code from resume when the session and the trust token expired', async () => {
    const trusted = await signInWithTrust(emu);
    emu.control.expireSession();
    emu.control.expireTrustTokens();
    const err = await sut.resume(trusted, emu.credentials.password).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthExpiredError);
    expect((err as Error).message).toMatch(/re-authentication needed/);
    expect(err).toMatchObject({ reason: 'needs-code' });
  });

  it('should resume with validate alone while the web session is alive', async () => {
    const trusted = await signInWithTrust(emu);
    emu.requestLog.clear();
    const resumed = await sut.resume(trusted);
    expect(resumed.dsid).toBe(trusted.dsid);
    expect(emu.requestLog.counts()).toEqual({ 'setup /validate': 1 });
  });

  it('should throw account-locked when the account is locked', async () => {
    emu.control.lockAccount();
    await expect(
      sut.signIn(emu.credentials.appleId, emu.credentials.password),
    ).rejects.toMatchObject({
      reason: 'account-locked',
    });
  });

  it('should map 503 throttling at sign-in to RateLimitedError', async () => {
    emu.control.throttle({ scope: 'idmsa', status: 503, retryAfterSec: 7 });
    const err = await sut
      .signIn(emu.credentials.appleId, emu.credentials.password)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(7000);
  });

  it('should round-trip a session through vault secrets', async () => {
    const s = await signInWithTrust(emu);
    const back = sessionFromSecrets(s.appleId, sessionToSecrets(s));
    expect(back).toEqual(s);
    expect(Object.values(sessionToSecrets(s)).every((v) => typeof v === 'string')).toBe(true);
  });
});
