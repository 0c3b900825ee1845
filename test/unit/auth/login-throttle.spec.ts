import { LoginThrottle } from '../../../src/auth/login-throttle.js';

describe('LoginThrottle.begin', () => {
  it('should let only maxFailures concurrent attempts of one name and address through', async () => {
    const sut = new LoginThrottle({ maxFailures: 5, lockSeconds: 60, maxFailuresPerAddress: 100 });
    const results = await Promise.all(
      Array.from({ length: 300 }, () => sut.begin('admin', '203.0.113.1')),
    );
    expect(results.filter((r) => r.waitMs === 0)).toHaveLength(5);
    expect(results.filter((r) => r.waitMs > 0)).toHaveLength(295);
    // The admin from another address is not locked out.
    expect((await sut.begin('admin', '198.51.100.2')).waitMs).toBe(0);
  });

  it('should give the attempt back on success', async () => {
    const sut = new LoginThrottle({ maxFailures: 2, lockSeconds: 60, maxFailuresPerAddress: 100 });
    for (let i = 0; i < 5; i++) {
      expect((await sut.begin('bob', '203.0.113.1')).waitMs).toBe(0);
      await sut.succeeded('bob', '203.0.113.1');
    }
  });
});
