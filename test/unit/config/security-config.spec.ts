import { ConfigError, loadConfig } from '../../../src/config/app-config.js';

describe('loadConfig: security', () => {
  it('should read LOCAL_ROOTS with {user} and per-user entries, and OUTBOUND_ALLOW', () => {
    const sut = loadConfig({
      DATA_DIR: '/var/lib/cbe',
      LOCAL_ROOTS: '/srv/backups/{user}, alice=/home/alice/backup',
      OUTBOUND_ALLOW: '192.168.1.20, 10.8.0.0/16, fd00::/8',
    }).security;
    expect(sut.localRoots).toEqual([
      { path: '/srv/backups/{user}' },
      { path: '/home/alice/backup', user: 'alice' },
    ]);
    expect(sut.outboundAllow).toEqual(['192.168.1.20', '10.8.0.0/16', 'fd00::/8']);
    expect(sut.forbiddenPaths).toEqual(
      expect.arrayContaining([
        '/var/lib/cbe',
        '/var/lib/cbe/secret.key',
        '/var/lib/cbe/backup.sqlite',
      ]),
    );
  });

  it('should name the variable of a relative root or a bad address', () => {
    expect(() =>
      loadConfig({ LOCAL_ROOTS: 'relative/path', OUTBOUND_ALLOW: 'nas.lan,10.0.0.0/99' }),
    ).toThrow(ConfigError);
    try {
      loadConfig({ LOCAL_ROOTS: 'relative/path', OUTBOUND_ALLOW: 'nas.lan,10.0.0.0/99' });
    } catch (e) {
      expect((e as Error).message).toMatch(/LOCAL_ROOTS: 'relative\/path'/);
      expect((e as Error).message).toMatch(/OUTBOUND_ALLOW: 'nas\.lan'/);
      expect((e as Error).message).toMatch(/OUTBOUND_ALLOW: '10\.0\.0\.0\/99'/);
    }
  });
});
