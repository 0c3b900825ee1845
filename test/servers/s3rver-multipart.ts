import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What s3rver 3.7.1 lacks of S3's multipart API, put in front of its own handlers:
 * - ListParts (GET ?uploadId=) and AbortMultipartUpload (DELETE ?uploadId=) answer 405;
 * - UploadPart to an upload it never started creates it (S3 answers 404 NoSuchUpload), and
 *   CompleteMultipartUpload of one answers 500.
 * s3rver keeps an upload in '<bucket>/._S3rver_uploads/<uploadId>/' (files 'key', 'metadata',
 * and '<n>' + '<n>.md5' per part); these handlers read that folder, following the S3
 * documentation (ListParts pages by part-number-marker / max-parts, ETags quoted).
 */

interface KoaLikeContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  type: string;
  status: number;
  body: unknown;
}

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

function noSuchUpload(ctx: KoaLikeContext, uploadId: string): void {
  ctx.status = 404;
  ctx.type = 'application/xml';
  ctx.body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message><UploadId>${xml(uploadId)}</UploadId></Error>`;
}

export function multipartMiddleware(directory: string) {
  return async (rawCtx: unknown, next: () => Promise<void>): Promise<void> => {
    const ctx = rawCtx as KoaLikeContext;
    const uploadId = q(ctx, 'uploadId');
    const parts = ctx.path.split('/').filter((p) => p !== '');
    if (uploadId === undefined || parts.length < 2) return next();
    const bucket = decodeURIComponent(parts[0]!);
    const key = parts.slice(1).map(decodeURIComponent).join('/');
    // Upload IDs are hex: nothing else can name a folder.
    const dir = /^[0-9a-zA-Z_-]+$/.test(uploadId)
      ? join(directory, bucket, '._S3rver_uploads', uploadId)
      : undefined;
    const storedKey = dir
      ? await readFile(join(dir, 'key'), 'utf8').catch(() => undefined)
      : undefined;
    if (storedKey !== key) return noSuchUpload(ctx, uploadId);
    if (ctx.method === 'DELETE') {
      await rm(dir!, { recursive: true, force: true });
      ctx.status = 204;
      ctx.body = '';
      return;
    }
    if (ctx.method !== 'GET') return next(); // UploadPart, CompleteMultipartUpload
    const marker = Number(q(ctx, 'part-number-marker') ?? 0);
    const maxParts = Math.min(1000, Number(q(ctx, 'max-parts') ?? 1000));
    const names = await readdir(dir!);
    // A part is held once its '.md5' is written: a request cut half-way leaves only a partial
    // part file, which S3 would not list.
    const numbers = names
      .filter((n) => /^\d+$/.test(n) && names.includes(`${n}.md5`))
      .map(Number)
      .filter((n) => n > marker)
      .sort((a, b) => a - b);
    const page = numbers.slice(0, maxParts);
    const truncated = numbers.length > page.length;
    const items: string[] = [];
    for (const n of page) {
      const [info, md5] = await Promise.all([
        stat(join(dir!, String(n))),
        readFile(join(dir!, `${n}.md5`), 'utf8'),
      ]);
      items.push(
        `<Part><PartNumber>${n}</PartNumber><LastModified>${info.mtime.toISOString()}</LastModified>` +
          `<ETag>"${xml(md5)}"</ETag><Size>${info.size}</Size></Part>`,
      );
    }
    ctx.status = 200;
    ctx.type = 'application/xml';
    ctx.body =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${xml(bucket)}</Bucket>` +
      `<Key>${xml(key)}</Key><UploadId>${xml(uploadId)}</UploadId>` +
      `<PartNumberMarker>${marker}</PartNumberMarker>` +
      (truncated ? `<NextPartNumberMarker>${page[page.length - 1]}</NextPartNumberMarker>` : '') +
      `<MaxParts>${maxParts}</MaxParts><IsTruncated>${truncated}</IsTruncated>${items.join('')}</ListPartsResult>`;
  };
}
