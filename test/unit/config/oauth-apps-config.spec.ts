import { ConfigError, loadConfig } from '../../../src/config/app-config.js';

describe('loadConfig oauth section', () => {
  it('should map each variable to the option of its connector when set', () => {
    const sut = loadConfig({
      DATA_DIR: '/tmp/x',
      DROPBOX_APP_KEY: 'key1',
      DROPBOX_APP_SECRET: 'sec1',
      ONEDRIVE_CLIENT_ID: '00000000-0000-0000-0000-000000000001',
      ONEDRIVE_TENANT: 'consumers',
    });
    expect(sut.oauth.dropbox!.defaults).toEqual({ clientId: 'key1', clientSecret: 'sec1' });
    expect(sut.oauth.onedrive!.defaults).toEqual({
      clientId: '00000000-0000-0000-0000-000000000001',
      tenant: 'consumers',
    });
    expect(sut.oauth['google-drive']!.defaults).toEqual({});
    expect(sut.oauth['google-drive']!.envByOption.clientId).toBe('GOOGLE_DRIVE_CLIENT_ID');
  });

  it('should name every bad variable when values are malformed', () => {
    const load = () =>
      loadConfig({
        DATA_DIR: '/tmp/x',
        GOOGLE_DRIVE_CLIENT_SECRET: 'alone',
        ONEDRIVE_CLIENT_ID: 'abc',
        ONEDRIVE_TENANT: 'bad_tenant!',
        DROPBOX_APP_KEY: 'two words',
      });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/GOOGLE_DRIVE_CLIENT_SECRET is set but GOOGLE_DRIVE_CLIENT_ID is not/);
    expect(load).toThrow(/ONEDRIVE_TENANT must be common, organizations, consumers/);
    expect(load).toThrow(/DROPBOX_APP_KEY must not contain spaces/);
  });
});
