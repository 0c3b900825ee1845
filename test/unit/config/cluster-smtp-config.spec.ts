import { ConfigError, loadConfig } from '../../../src/config/app-config.js';

describe('loadConfig: SMTP, role and cluster', () => {
  it('should read the SMTP section and default the port to 465 when TLS is tls', () => {
    const sut = loadConfig({ SMTP_HOST: 'mail.x.org', SMTP_TLS: 'tls', SMTP_FROM: 'b@x.org' });
    expect(sut.smtp).toEqual({ host: 'mail.x.org', port: 465, tls: 'tls', from: 'b@x.org' });
    expect(sut.role).toBe('all');
    expect(sut.cluster).toBeUndefined();
  });

  it('should enter cluster mode when REDIS_URL and a PostgreSQL DATABASE_URL are set', () => {
    const sut = loadConfig({
      REDIS_URL: 'redis://127.0.0.1:6379',
      DATABASE_URL: 'postgres://u@h/db',
      ROLE: 'worker',
    });
    expect(sut.role).toBe('worker');
    expect(sut.cluster).toEqual({
      redisUrl: 'redis://127.0.0.1:6379',
      queuePrefix: 'cbe',
      lockDurationMs: 30_000,
    });
  });

  it('should name every bad variable when the values are invalid', () => {
    expect(() =>
      loadConfig({ REDIS_URL: 'redis://h', ROLE: 'boss', SMTP_TLS: 'ssl', SMTP_PORT: '0' }),
    ).toThrow(ConfigError);
    try {
      loadConfig({ REDIS_URL: 'redis://h', ROLE: 'boss', SMTP_TLS: 'ssl', SMTP_PORT: '0' });
    } catch (e) {
      const m = (e as Error).message;
      expect(m).toContain("SMTP_TLS must be none, starttls or tls (got 'ssl')");
      expect(m).toContain("SMTP_PORT must be a whole number from 1 to 65535 (got '0')");
      expect(m).toContain("ROLE must be api, worker or all (got 'boss')");
      expect(m).toContain('REDIS_URL (cluster mode) needs DATABASE_URL=postgres://');
    }
  });
});
