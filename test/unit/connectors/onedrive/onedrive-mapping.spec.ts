import { GraphError } from '@microsoft/microsoft-graph-client';
import {
  AlreadyExistsError,
  AuthExpiredError,
  CursorExpiredError,
  FatalError,
  InvalidRangeError,
  NotFoundError,
  QuotaExceededError,
  RateLimitedError,
  TransientError,
} from '../../../../src/connectors/connector.errors.js';
import { mapFailure, mapGraphError } from '../../../../src/connectors/onedrive/onedrive.errors.js';
import { toEntry } from '../../../../src/connectors/onedrive/onedrive.mapper.js';
import {
  decodeName,
  encodeName,
  encodeSegment,
  itemPathAddress,
} from '../../../../src/connectors/onedrive/onedrive.names.js';
import { ODD_NAMES } from '../../../conformance/connector-conformance.js';
import { invalidNameReason } from '../../../../emulators/onedrive/drive-model.js';

describe('OneDrive error mapping', () => {
  const f = (status: number, code: string, retryAfter?: string) =>
    mapFailure({ status, code, message: 'm', retryAfter }, 'a/b.txt', 0);

  it.each([
    [404, 'itemNotFound', NotFoundError],
    [409, 'nameAlreadyExists', AlreadyExistsError],
    [410, 'resyncRequired', CursorExpiredError],
    [416, 'invalidRange', InvalidRangeError],
    [401, 'InvalidAuthenticationToken', AuthExpiredError],
    [403, 'accessDenied', FatalError],
    [500, 'generalException', TransientError],
    [503, 'serviceNotAvailable', TransientError],
    [507, 'quotaLimitReached', QuotaExceededError],
  ])('should map %i %s to the typed error', (status, code, type) => {
    expect(f(status, code)).toBeInstanceOf(type);
  });

  it('should carry Retry-After seconds when a 429 activityLimitReached arrives', () => {
    const e = f(429, 'activityLimitReached', '120');
    expect(e).toBeInstanceOf(RateLimitedError);
    expect((e as RateLimitedError).retryAfterMs).toBe(120_000);
  });

  it('should treat a 503 with Retry-After as a rate limit', () => {
    expect((f(503, 'serviceNotAvailable', '5') as RateLimitedError).retryAfterMs).toBe(5000);
  });

  it('should map an SDK network failure (statusCode -1) to TransientError', () => {
    expect(mapGraphError(new GraphError(-1, 'fetch failed'), 'x')).toBeInstanceOf(TransientError);
  });

  it('should map quotaLimitReached to QuotaExceededError whatever the status', () => {
    expect(f(403, 'quotaLimitReached')).toBeInstanceOf(QuotaExceededError);
  });
});

describe('OneDrive names and paths', () => {
  it.each(ODD_NAMES)(
    'should round-trip %s through the stored form, which the service accepts',
    (name) => {
      const stored = encodeName(name);
      expect(invalidNameReason(stored)).toBeUndefined();
      expect(decodeName(stored)).toBe(name);
    },
  );

  it.each([' lead', 'trail ', 'dot.', 'a:b*c?', '\uFF02already', 'q\u201Bq', 'x|y<z>\\'])(
    'should round-trip the awkward name %j',
    (name) => {
      expect(invalidNameReason(encodeName(name))).toBeUndefined();
      expect(decodeName(encodeName(name))).toBe(name);
    },
  );

  it('should percent-encode #, %, quotes and unicode in path addressing', () => {
    expect(encodeSegment("a#b%c'd é")).toBe('a%23b%25c%27d%20%C3%A9');
    expect(itemPathAddress(undefined, 'x/y z')).toBe('/me/drive/root:/x/y%20z:');
    expect(itemPathAddress('b!abc', '')).toBe('/drives/b!abc/root');
  });
});

describe('OneDrive mapper', () => {
  it('should map a file with its quickXorHash and client modified time', () => {
    const e = toEntry(
      {
        id: 'ID1',
        name: 'f.txt',
        size: 5,
        file: { hashes: { quickXorHash: 'aCgDG9jwBhDc4Q1yawMZAAAAAAA=', sha256Hash: 'ABCD' } },
        fileSystemInfo: { lastModifiedDateTime: '2024-01-02T03:04:05Z' },
        lastModifiedDateTime: '2025-01-01T00:00:00Z',
        eTag: '"e"',
      },
      'dir/f.txt',
    );
    expect(e).toMatchObject({
      kind: 'file',
      name: 'f.txt',
      size: 5,
      id: 'ID1',
      hashes: { quickXor: 'aCgDG9jwBhDc4Q1yawMZAAAAAAA=', sha256: 'abcd' },
    });
    expect(e.modifiedAt?.toISOString()).toBe('2024-01-02T03:04:05.000Z');
  });

  it('should map a folder without size or hashes', () => {
    expect(toEntry({ id: 'F', name: 'd', folder: { childCount: 2 }, size: 99 }, 'd')).toMatchObject(
      { kind: 'folder', size: undefined, hashes: {} },
    );
  });
});
