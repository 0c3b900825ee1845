import { jest } from '@jest/globals';
import type { ConnectorSecrets } from '../../../../src/connectors/connector-descriptor.js';
import { UnsupportedError } from '../../../../src/connectors/connector.errors.js';
import {
  icloudPhotosConnectorDescriptor,
  sessionToSecrets,
} from '../../../../src/connectors/icloud-photos/index.js';
import { fastClock, signInWithTrust } from '../../../support/connectors/icloud-photos.js';
import {
  startICloudPhotosEmulator,
  type ICloudPhotosEmulator,
} from '../../../../emulators/icloud-photos/icloud-photos.emulator.js';

describe('icloudPhotosConnectorDescriptor', () => {
  let emu: ICloudPhotosEmulator;
  beforeAll(async () => {
    emu = await startICloudPhotosEmulator({ librarySize: 10, iterations: 1000 });
  });
  afterAll(() => emu.stop());

  it('should build a read-only connector from vault secrets and save a renewed session through ctx.saveSecrets', async () => {
    const session = await signInWithTrust(emu);
    const saveSecrets = jest.fn<(s: ConnectorSecrets) => Promise<void>>().mockResolvedValue();
    const sut = icloudPhotosConnectorDescriptor.create(
      {
        config: {
          appleId: emu.credentials.appleId,
          authBaseUrl: emu.authBaseUrl,
          setupBaseUrl: emu.setupBaseUrl,
        },
        secrets: { ...sessionToSecrets(session), password: emu.credentials.password },
      },
      { clock: fastClock, saveSecrets },
    );
    expect(sut.capabilities).toMatchObject({
      writable: false,
      hashes: [],
      changeFeed: true,
      rangedReads: true,
    });
    await expect(sut.write('x', undefined as never)).rejects.toBeInstanceOf(UnsupportedError);
    emu.control.expireSession(401);
    const names: string[] = [];
    for await (const e of sut.list('')) names.push(e.name);
    expect(names).toContain('All Photos');
    expect(saveSecrets).toHaveBeenCalledTimes(1);
    const saved = saveSecrets.mock.calls[0]![0];
    expect(saved.trustToken).toBe(session.trustToken);
    expect(saved.password).toBe(emu.credentials.password);
    expect(saved.sessionToken).not.toBe(session.sessionToken);
  });
});
