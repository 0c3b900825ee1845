import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  FatalError,
  isTransientNetworkError,
  QuotaExceededError,
  TransientError,
  UnsupportedError,
} from '../connector.errors.js';
import { USER_AGENT } from './icloud-auth.service.js';
import type { CloudKitClient } from './icloud-photos.client.js';
import { mapHttpError } from './icloud-photos.errors.js';

/**
 * The current iCloud Photos upload flow (brief §4.2, captured from icloud.com by pyicloud PR
 * #331; EXPERIMENTAL, it replaced the old `uploadimagews` endpoint without notice in August 2026):
 *   1. `photosupload/createUploadUrl` announces the byte size and gets a one-time content URL,
 *   2. the raw bytes are POSTed to that URL in one streamed request (`Content-Length` = the size
 *      announced: the flow needs the size up front, so an unknown size is refused),
 *   3. `photosupload/putAsset` turns the returned `singleFile` receipt into CPLMaster + CPLAsset.
 * No checksum is needed up front (the content host computes it), so the bytes are read once.
 * Steps 1 and 3 go through the pacer; step 2 cannot be replayed (the stream is consumed), so a
 * failure there surfaces as a typed error and the engine retries the whole file.
 */

export interface SingleFile {
  fileChecksum: string;
  referenceChecksum?: string;
  size: number;
  wrappingKey?: string;
  receipt: string;
}

export interface PutAssetResult {
  uploadJobId?: string;
  cplMaster?: string;
  cplAsset?: string;
  response?: { status?: number; errorMessage?: string };
}

export interface UploadRequest {
  fileName: string;
  size: number;
  /** Capture date to record (lastModDate), ms. */
  captureDate: number;
  body: Readable;
  signal?: AbortSignal;
}

export interface UploadOutcome {
  assetId: string;
  masterId: string;
  uploadJobId?: string;
  /** putAsset answered 409: the library already holds these bytes (as `assetId`). */
  duplicate: boolean;
  size: number;
}

export interface UploadDeps {
  client: CloudKitClient;
  fetchImpl: typeof fetch;
  webOrigin: string;
  now: () => number;
}

export async function uploadPhoto(deps: UploadDeps, req: UploadRequest): Promise<UploadOutcome> {
  const clientId = randomUUID().toUpperCase();
  const created = await deps.client.uploadCall<{ uploadUrls?: Record<string, string> }>(
    'createUploadUrl',
    { zoneName: 'PrimarySync', assets: { [clientId]: req.size } },
    req.signal,
  );
  const url = created.uploadUrls?.[clientId];
  if (!url) throw new TransientError('createUploadUrl answered without an upload URL');

  const singleFile = await postContent(deps, url, req);
  if (singleFile.size !== req.size)
    throw new TransientError(
      `the iCloud upload host stored ${singleFile.size} bytes of ${req.size}; the file is retried`,
    );

  const answer = await deps.client.uploadCall<PutAssetResult[]>(
    'putAsset',
    {
      zoneName: 'PrimarySync',
      importGroup: randomUUID().toUpperCase(),
      // The capture date is sent as UTC so the month folder is the UTC month of the date given.
      localTimeZoneId: 'UTC',
      files: [
        {
          fileName: req.fileName,
          lastModDate: req.captureDate,
          timeZoneOffset: 0,
          singleFileUploadRequest: singleFile,
        },
      ],
    },
    req.signal,
  );
  const r = Array.isArray(answer) ? answer[0] : undefined;
  const status = r?.response?.status;
  const why = r?.response?.errorMessage ? ` (${r.response.errorMessage})` : '';
  if ((status === 200 || status === 409) && r?.cplAsset && r.cplMaster) {
    return {
      assetId: r.cplAsset,
      masterId: r.cplMaster,
      uploadJobId: r.uploadJobId,
      duplicate: status === 409,
      size: singleFile.size,
    };
  }
  if (status === 415)
    throw new UnsupportedError(
      `iCloud Photos does not accept '${req.fileName}'${why}: only photos and videos can be ` +
        'uploaded; restore this file to another location.',
    );
  if (status === 413) throw new QuotaExceededError(`iCloud storage is full${why}`);
  throw new FatalError(
    `iCloud putAsset refused '${req.fileName}': status ${String(status ?? 'missing')}${why}`,
    { providerCode: String(status ?? '') },
  );
}

/** Step 2: the bytes, streamed once, counted, never buffered beyond the current chunk. */
async function postContent(deps: UploadDeps, url: string, req: UploadRequest): Promise<SingleFile> {
  let sent = 0;
  const source = req.body;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      const b = chunk as Buffer;
      sent += b.length;
      if (sent > req.size)
        throw new FatalError(`the stream holds more than the ${req.size} bytes announced`);
      yield b;
    }
    if (sent !== req.size)
      throw new TransientError(`the stream ended after ${sent} of ${req.size} bytes`);
  }
  let res: Response;
  let text: string;
  try {
    res = await deps.fetchImpl(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(req.size),
        Origin: deps.webOrigin,
        Referer: `${deps.webOrigin}/`,
        'User-Agent': USER_AGENT,
      },
      body: counted() as unknown as RequestInit['body'],
      duplex: 'half',
      signal: req.signal,
    } as RequestInit & { duplex: 'half' });
    text = await res.text();
  } catch (e) {
    // Our own typed errors (size mismatch) come back wrapped by fetch as the cause.
    const cause = (e as { cause?: unknown }).cause;
    if (cause instanceof FatalError || cause instanceof TransientError) throw cause;
    if (e instanceof FatalError || e instanceof TransientError) throw e;
    if (isTransientNetworkError(e) || (e instanceof TypeError && !req.signal?.aborted))
      throw new TransientError(`iCloud upload content: network error after ${sent} bytes`, {
        cause: e,
      });
    throw e;
  }
  if (res.status !== 200) {
    throw mapHttpError(
      {
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        body: text,
        where: 'iCloud upload content',
      },
      deps.now(),
    );
  }
  let parsed: { singleFile?: SingleFile };
  try {
    parsed = JSON.parse(text) as { singleFile?: SingleFile };
  } catch {
    throw new TransientError('the iCloud upload host answered with a body that is not JSON');
  }
  if (!parsed.singleFile?.receipt)
    throw new TransientError('the iCloud upload host answered without a singleFile receipt');
  return parsed.singleFile;
}
