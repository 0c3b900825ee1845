import { Readable } from 'node:stream';
import type { VersionFileEntity } from './entities/version-file.entity.js';

export const MANIFEST_FORMAT = 'cbe-manifest/1';

export interface ManifestHeader {
  format: typeof MANIFEST_FORMAT;
  taskId: string;
  taskName: string;
  seq: number;
  versionId: string;
  createdAt: string;
  sourceAccountKind: string;
  sourcePath: string;
  storageFolder: string;
}

/** One line per file: enough to restore it and to rebuild the ledger from the target alone. */
export interface ManifestLine {
  path: string;
  size: number;
  sha256: string;
  sourceHashes: Record<string, string>;
  sourceId: string | null;
  modifiedAt: string | null;
  storedPath: string;
  firstSeq: number;
}

/**
 * The manifest as JSON Lines, produced page by page from the ledger so a version of 100,000
 * files never sits in memory.
 */
export function manifestStream(
  header: ManifestHeader,
  pages: AsyncIterable<VersionFileEntity[]>,
): Readable {
  return Readable.from(manifestChunks(header, pages));
}

/**
 * Byte length of the manifest, computed by a first pass over the same pages: providers such as
 * OneDrive need the total size before an upload session starts, and the manifest must not be
 * staged in memory or on disk to learn it.
 */
export async function manifestSize(
  header: ManifestHeader,
  pages: AsyncIterable<VersionFileEntity[]>,
): Promise<number> {
  let size = 0;
  for await (const chunk of manifestChunks(header, pages)) size += chunk.length;
  return size;
}

async function* manifestChunks(
  header: ManifestHeader,
  pages: AsyncIterable<VersionFileEntity[]>,
): AsyncGenerator<Buffer> {
  yield Buffer.from(JSON.stringify(header) + '\n');
  for await (const page of pages) {
    const text = page
      .map((f) =>
        JSON.stringify({
          path: f.path,
          size: f.size,
          sha256: f.sha256,
          sourceHashes: f.sourceHashes,
          sourceId: f.sourceId,
          modifiedAt: f.modifiedAt ? f.modifiedAt.toISOString() : null,
          storedPath: f.storedPath,
          firstSeq: f.firstSeq,
        } satisfies ManifestLine),
      )
      .join('\n');
    if (text) yield Buffer.from(text + '\n');
  }
}
