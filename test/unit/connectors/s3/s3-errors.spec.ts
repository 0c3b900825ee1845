import { S3ServiceException } from '@aws-sdk/client-s3';
import {
  AuthExpiredError,
  FatalError,
  InvalidRangeError,
  NotFoundError,
  RateLimitedError,
  TransientError,
} from '../../../../src/connectors/connector.errors.js';
import { mapS3Error } from '../../../../src/connectors/s3/s3.errors.js';
import { fileEntry, md5FromEtag, S3Keys } from '../../../../src/connectors/s3/s3.mapper.js';

function s3Error(name: string, status: number, headers: Record<string, string> = {}) {
  const e = new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message: name,
  });
  // The SDK attaches the raw response after construction.
  return Object.assign(e, { $response: { statusCode: status, headers, body: undefined } });
}

describe('mapS3Error', () => {
  it.each([
    ['NoSuchKey', 404, NotFoundError],
    ['NotFound', 404, NotFoundError],
    ['NoSuchBucket', 404, FatalError],
    ['InvalidRange', 416, InvalidRangeError],
    ['InvalidAccessKeyId', 403, AuthExpiredError],
    ['SignatureDoesNotMatch', 403, AuthExpiredError],
    ['AccessDenied', 403, FatalError],
    ['InternalError', 500, TransientError],
    ['ServiceUnavailable', 503, TransientError],
  ])('should map %s (%d) to %p', (name, status, type) => {
    expect(mapS3Error(s3Error(name, status), 'k')).toBeInstanceOf(type);
  });

  it('should keep Retry-After when S3 asks to slow down', () => {
    const e = mapS3Error(s3Error('SlowDown', 503, { 'retry-after': '3' }), 'k');
    expect(e).toBeInstanceOf(RateLimitedError);
    expect((e as RateLimitedError).retryAfterMs).toBe(3000);
  });

  it('should call a reset socket transient', () => {
    const e = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(mapS3Error(e, 'k')).toBeInstanceOf(TransientError);
  });
});

describe('s3 mapper', () => {
  it('should map paths to keys under the prefix and back', () => {
    const sut = new S3Keys('backups/laptop');
    expect(sut.file('a/b.txt')).toBe('backups/laptop/a/b.txt');
    expect(sut.folder('')).toBe('backups/laptop/');
    expect(sut.pathOf('backups/laptop/a/')).toBe('a');
    expect(new S3Keys('').folder('')).toBe('');
  });

  it('should report an MD5 only for a plain ETag and a SHA-256 only from the metadata', () => {
    expect(md5FromEtag('"d41d8cd98f00b204e9800998ecf8427e"')).toBe(
      'd41d8cd98f00b204e9800998ecf8427e',
    );
    expect(md5FromEtag('"d41d8cd98f00b204e9800998ecf8427e-3"')).toBeUndefined();
    const kms = fileEntry('x', {
      key: 'x',
      size: 1,
      etag: '"d41d8cd98f00b204e9800998ecf8427e"',
      etagIsMd5: false,
    });
    expect(kms.hashes).toEqual({});
    const sha = 'a'.repeat(64);
    expect(fileEntry('x', { key: 'x', size: 1, metadata: { 'cbe-sha256': sha } }).hashes).toEqual({
      sha256: sha,
    });
  });
});
