import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A ListObjectsV2 handler for s3rver 3.7.1, put in front of its own, which cannot serve this
 * connector on Node 20:
 * - its continuation tokens are DES-encrypted, and OpenSSL 3 (Node >= 17) has no DES without the
 *   legacy provider: every second page answers 500;
 * - with a delimiter it never descends below the first level under the prefix, so a folder whose
 *   only keys are two or more levels down ('a/b/c/x' listed under 'a/') is not reported as a
 *   common prefix, unlike S3;
 * - it walks folders in readdir order, not key order, so pages can skip keys.
 * This one follows the S3 documentation: keys and common prefixes are sorted by UTF-8 bytes,
 * both count towards max-keys, the token is opaque (here: the last entry, base64url).
 */

interface KoaLikeContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  type: string;
  status: number;
  body: unknown;
}

const OBJECT_SUFFIX = '._S3rver_object';

function q(ctx: KoaLikeContext, name: string): string | undefined {
  const v = ctx.query[name];
  return Array.isArray(v) ? v[0] : v;
}

function xml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Keys stored under `dir` (s3rver keeps one '<name>._S3rver_object' file per key). */
async function* walkKeys(root: string, rel: string): AsyncGenerator<string> {
  let names: string[];
  try {
    names = await readdir(join(root, rel));
  } catch {
    return;
  }
  for (const name of names) {
    const childRel = rel === '' ? name : `${rel}/${name}`;
    if (name.endsWith(OBJECT_SUFFIX)) {
      yield childRel.slice(0, -OBJECT_SUFFIX.length);
      continue;
    }
    if (name.includes('._S3rver_')) continue; // metadata and md5 side files
    yield* walkKeys(root, childRel);
  }
}

export function listObjectsV2Middleware(
  directory: string,
  getMetadata: (bucket: string, key: string) => Promise<Record<string, string>>,
) {
  return async (rawCtx: unknown, next: () => Promise<void>): Promise<void> => {
    const ctx = rawCtx as KoaLikeContext;
    const parts = ctx.path.split('/').filter((p) => p !== '');
    if (ctx.method !== 'GET' || q(ctx, 'list-type') !== '2' || parts.length !== 1) return next();
    const bucket = decodeURIComponent(parts[0]!);
    const prefix = q(ctx, 'prefix') ?? '';
    const delimiter = q(ctx, 'delimiter') ?? '';
    const maxKeys = Math.min(1000, Number(q(ctx, 'max-keys') ?? 1000));
    const token = q(ctx, 'continuation-token');
    const after = token
      ? Buffer.from(token, 'base64url').toString('utf8')
      : (q(ctx, 'start-after') ?? '');
    // Walk only the folder the prefix names, not the whole bucket.
    const dirOfPrefix = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const entries = new Map<string, 'key' | 'prefix'>();
    for await (const key of walkKeys(join(directory, bucket), dirOfPrefix)) {
      if (!key.startsWith(prefix)) continue;
      const idx = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      if (idx >= 0) entries.set(key.slice(0, idx + delimiter.length), 'prefix');
      else entries.set(key, 'key');
    }
    const sorted = [...entries.keys()].filter((k) => byteCompare(k, after) > 0).sort(byteCompare);
    const page = sorted.slice(0, maxKeys);
    const truncated = sorted.length > page.length;
    const contents: string[] = [];
    const prefixes: string[] = [];
    for (const k of page) {
      if (entries.get(k) === 'prefix') {
        prefixes.push(`<CommonPrefixes><Prefix>${xml(k)}</Prefix></CommonPrefixes>`);
        continue;
      }
      const m = await getMetadata(bucket, k);
      contents.push(
        `<Contents><Key>${xml(k)}</Key><LastModified>${new Date(m['last-modified'] ?? Date.now()).toISOString()}</LastModified>` +
          `<ETag>${xml(m.etag ?? '')}</ETag><Size>${Number(m['content-length'] ?? 0)}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
      );
    }
    ctx.status = 200;
    ctx.type = 'application/xml';
    ctx.body =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xml(bucket)}</Name>` +
      `<Prefix>${xml(prefix)}</Prefix>${delimiter ? `<Delimiter>${xml(delimiter)}</Delimiter>` : ''}` +
      `<MaxKeys>${maxKeys}</MaxKeys><KeyCount>${page.length}</KeyCount><IsTruncated>${truncated}</IsTruncated>` +
      (token ? `<ContinuationToken>${xml(token)}</ContinuationToken>` : '') +
      (truncated
        ? `<NextContinuationToken>${Buffer.from(page[page.length - 1]!, 'utf8').toString('base64url')}</NextContinuationToken>`
        : '') +
      contents.join('') +
      prefixes.join('') +
      '</ListBucketResult>';
  };
}
