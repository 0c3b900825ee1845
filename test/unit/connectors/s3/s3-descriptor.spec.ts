import { hasUploadSessionDiscarder } from '../../../../src/connectors/capabilities.js';
import { CONNECTOR_DESCRIPTORS } from '../../../../src/connectors/connector.registry.js';
import { systemClock } from '../../../../src/common/clock.js';

describe('S3 connector as the engine opens it (the descriptor)', () => {
  it('should still discard an unfinished multipart upload through the lazy wrapper', () => {
    const d = CONNECTOR_DESCRIPTORS.find((x) => x.kind === 's3')!;
    const c = d.create(
      {
        config: { endpoint: 'http://127.0.0.1:1', bucket: 'b', forcePathStyle: true },
        secrets: { accessKeyId: 'k', secretAccessKey: 's' },
      },
      { clock: systemClock, saveSecrets: async () => undefined },
    );

    // The upload-session book aborts a session no attempt will continue only through this.
    expect(hasUploadSessionDiscarder(c)).toBe(true);
  });
});
