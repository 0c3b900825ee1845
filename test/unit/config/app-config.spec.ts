import { ConfigError, loadConfig } from '../../../src/config/app-config.js';

describe('loadConfig', () => {
  it('should default to SQLite under ./data and port 3000', () => {
    const sut = loadConfig({});
    expect(sut.port).toBe(3000);
    expect(sut.database).toEqual({
      type: 'sqlite',
      file: expect.stringMatching(/data\/backup\.sqlite$/),
    });
    expect(sut.backup.defaultConcurrency).toBe(4);
  });

  it('should use PostgreSQL when DATABASE_URL says so', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h:5432/db' }).database).toMatchObject({
      type: 'postgres',
      url: 'postgres://u@h:5432/db',
    });
  });

  it('should report every bad variable by name at once', () => {
    let err: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        SECRET_KEY: 'short',
        BACKUP_CONCURRENCY: '0',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    for (const name of ['PORT', 'DATABASE_URL', 'SECRET_KEY', 'BACKUP_CONCURRENCY'])
      expect(msg).toContain(name);
  });
});
