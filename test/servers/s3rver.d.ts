declare module 's3rver' {
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    vhostBuckets?: boolean;
    configureBuckets?: Array<{ name: string; configs: unknown[] }>;
  }

  /** A Koa application: `middleware` is Koa's list, composed when the server starts. */
  export default class S3rver {
    constructor(options: S3rverOptions);
    middleware: Array<(ctx: unknown, next: () => Promise<void>) => Promise<void>>;
    store: {
      getMetadata(bucket: string, key: string): Promise<Record<string, string>>;
    };
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
}
