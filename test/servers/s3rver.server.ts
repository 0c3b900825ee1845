import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { listObjectsV2Middleware } from './s3rver-list-v2.js';
import { multipartMiddleware } from './s3rver-multipart.js';

/** s3rver's fixed key pair: it checks SigV4 signatures against it. */
export const S3RVER_ACCESS_KEY = 'S3RVER';
export const S3RVER_SECRET_KEY = 'S3RVER';

export interface S3Server {
  endpoint: string;
  bucket: string;
  /** Folder s3rver keeps its objects in (one file per object). */
  directory: string;
  /** `options` for an s3 account pointed at this server. */
  accountOptions: Record<string, string | number | boolean>;
  stop(): Promise<void>;
}

/** Starts s3rver (a real S3 REST implementation in Node) on a loopback port with one bucket. */
/** One request s3rver answered, for tests that count requests (e.g. UploadPart). */
export interface S3Request {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  status: number;
}

export async function startS3Server(
  opts: { bucket?: string; onRequest?: (r: S3Request) => void } = {},
): Promise<S3Server> {
  const bucket = opts.bucket ?? 'cbe-test';
  const directory = await mkdtemp(join(tmpdir(), 'cbe-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
    vhostBuckets: false,
  });
  // Koa composes its middleware list when the server starts: this one answers ListObjectsV2
  // before s3rver's broken handler sees it (see s3rver-list-v2.ts).
  server.middleware.unshift(
    async (rawCtx: unknown, next: () => Promise<void>) => {
      const ctx = rawCtx as Omit<S3Request, 'status'> & { status: number };
      try {
        await next();
      } finally {
        opts.onRequest?.({
          method: ctx.method,
          path: ctx.path,
          query: ctx.query,
          status: ctx.status,
        });
      }
    },
    listObjectsV2Middleware(directory, (b, k) => server.store.getMetadata(b, k)),
    // ListParts, AbortMultipartUpload and NoSuchUpload, which s3rver lacks (s3rver-multipart.ts).
    multipartMiddleware(directory),
  );
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    bucket,
    directory,
    accountOptions: {
      endpoint,
      bucket,
      region: 'us-east-1',
      accessKeyId: S3RVER_ACCESS_KEY,
      secretAccessKey: S3RVER_SECRET_KEY,
      forcePathStyle: true,
    },
    stop: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
