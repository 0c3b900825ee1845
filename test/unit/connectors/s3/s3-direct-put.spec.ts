import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { encodeKeyPath } from '../../../../src/connectors/s3/s3.direct-put.js';

/** The path the SDK itself would send a PutObject of `key` to (its request, captured unsent). */
async function sdkPath(key: string): Promise<string> {
  let path = '';
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    forcePathStyle: true,
    credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    requestHandler: {
      handle: async (req: { path: string }) => {
        path = req.path;
        throw new Error('captured');
      },
    },
  });
  await client
    .send(new PutObjectCommand({ Bucket: 'b', Key: key, Body: 'x' }))
    .catch(() => undefined);
  client.destroy();
  return path;
}

describe('s3 direct PutObject: the key in the path (issue #21)', () => {
  it.each([
    'plain/a.bin',
    "a b+c&d=e'(f)*!.bin",
    'ünïcødé/日本語 ファイル.txt',
    'x%20y;z,@$:~.bin',
    'deep/er/~/path with spaces/#hash?q.bin',
  ])('should encode %s as the SDK does', async (key) => {
    expect(`/b/${encodeKeyPath(key)}`).toBe(await sdkPath(key));
  });
});
