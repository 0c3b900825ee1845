import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretVault, VaultError } from '../../../src/accounts/secret-vault.js';

describe('SecretVault', () => {
  const secrets = { refreshToken: '1//0gSecretRefreshToken', password: 'hunter2' };

  it('should give back what it sealed, and never show it in the sealed text', () => {
    const sut = SecretVault.fromKey(randomBytes(32));
    const sealed = sut.seal(secrets);
    expect(sealed).not.toContain('hunter2');
    expect(sealed).not.toContain('SecretRefreshToken');
    expect(sut.open(sealed)).toEqual(secrets);
  });

  it('should use a fresh IV each time', () => {
    const sut = SecretVault.fromKey(randomBytes(32));
    expect(sut.seal(secrets)).not.toBe(sut.seal(secrets));
  });

  it('should refuse tampered data and a wrong key', () => {
    const sut = SecretVault.fromKey(randomBytes(32));
    const sealed = sut.seal(secrets);
    const parts = sealed.split(':');
    const body = Buffer.from(parts[3]!, 'base64');
    body[0] = body[0]! ^ 1;
    parts[3] = body.toString('base64');
    expect(() => sut.open(parts.join(':'))).toThrow(VaultError);
    expect(() => SecretVault.fromKey(randomBytes(32)).open(sealed)).toThrow('wrong SECRET_KEY');
  });

  it('should create a key file with mode 0600 on first start and reuse it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cbe-vault-'));
    try {
      const keyFile = join(dir, 'data', 'secret.key');
      const first = SecretVault.open({ keyFile });
      expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
      const sealed = first.seal(secrets);
      expect(SecretVault.open({ keyFile }).open(sealed)).toEqual(secrets);
      expect((await readFile(keyFile, 'utf8')).trim()).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
