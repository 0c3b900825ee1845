import { hashPassword, verifyPassword } from '../../../src/auth/passwords.js';

describe('password hashing (scrypt)', () => {
  it('should verify the right password and refuse a wrong one', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(hash).toMatch(/^scrypt\$15\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(hash).not.toContain('correct horse');
    await expect(verifyPassword('correct horse battery', hash)).resolves.toBe(true);
    await expect(verifyPassword('correct horse batterY', hash)).resolves.toBe(false);
    await expect(verifyPassword('', hash)).resolves.toBe(false);
  });

  it('should salt every hash, so equal passwords do not give equal hashes', async () => {
    const [a, b] = await Promise.all([
      hashPassword('same-password'),
      hashPassword('same-password'),
    ]);
    expect(a).not.toBe(b);
    await expect(verifyPassword('same-password', b)).resolves.toBe(true);
  });

  it('should treat the composed and decomposed forms of an accented password alike', async () => {
    const hash = await hashPassword('caf\u00e9-password');
    await expect(verifyPassword('cafe\u0301-password', hash)).resolves.toBe(true);
  });

  it('should refuse a stored value that is not a hash of ours', async () => {
    await expect(verifyPassword('x', 'plain-text')).resolves.toBe(false);
    await expect(verifyPassword('x', 'bcrypt$2b$10$abc')).resolves.toBe(false);
  });
});
