import { Readable } from 'node:stream';
import { noteBytesStreamed } from '../common/memory.js';
import { HASH_KINDS } from '../connectors/hashing/hash-kinds.js';
import { normalizePath } from '../connectors/path.js';
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

/** What a manifest line is made of: a record of the ledger (an entity or a plain row). */
export type ManifestFile = Pick<
  VersionFileEntity,
  | 'path'
  | 'size'
  | 'sha256'
  | 'sourceHashes'
  | 'sourceId'
  | 'modifiedAt'
  | 'storedPath'
  | 'firstSeq'
>;

/**
 * A page of manifest lines: records, the lines' bytes already made, or plain rows whose bytes
 * are made when needed (`manifestPageOfRows`, `manifestPageLength`). Plain rows spare a
 * no-change run of 10,000 files an object, a JSON.parse and a JSON.stringify per line and one
 * large string to encode per page (issue #21), and let the size pass of a large manifest count
 * its bytes without making them (see manifestBody).
 */
export type ManifestPage = ManifestFile[] | Buffer | ManifestRowPage;

/** Plain rows of the ledger, one page (see ManifestPage). */
export interface ManifestRowPage {
  rows: readonly ManifestRow[];
}

/** A record as the ledger's plain-row read gives it: times as epoch ms, source hashes as JSON text. */
export interface ManifestRow {
  path: string;
  size: number;
  sha256: string;
  /** The column's text as written (JSON.stringify of the hash set). */
  sourceHashesJson: string;
  sourceId: string | null;
  modifiedAtMs: number | null;
  storedPath: string;
  firstSeq: number;
}

/**
 * What `JSON.stringify` writes other than as itself in a string: the quote, the backslash,
 * control characters, and surrogates (lone ones become escapes; a string with a valid pair goes
 * through `JSON.stringify` too, which is only slower).
 */
// eslint-disable-next-line no-control-regex -- the control characters are what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `JSON.stringify(s)`, without its call for the usual path or hash that needs no escape. */
function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : '"' + s + '"';
}

/** `JSON.stringify(n)`: the same text for a finite number ('null' otherwise). */
function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/**
 * One manifest line (with its newline) made from a plain row: the same text, byte for byte, as
 * `JSON.stringify` of its `ManifestLine` (same keys, same order); the source hashes go in as the
 * JSON text the ledger stores instead of being parsed and written again, and strings that need
 * no escape are quoted as they are (10,000 lines: 14 -> 10 ms; issue #21).
 */
export function manifestLineOfRow(r: ManifestRow): string {
  return (
    '{"path":' +
    jsonString(r.path) +
    ',"size":' +
    jsonNumber(r.size) +
    ',"sha256":' +
    jsonString(r.sha256) +
    ',"sourceHashes":' +
    r.sourceHashesJson +
    ',"sourceId":' +
    (r.sourceId === null ? 'null' : jsonString(r.sourceId)) +
    ',"modifiedAt":' +
    // An ISO date has nothing to escape.
    (r.modifiedAtMs === null ? 'null' : '"' + new Date(r.modifiedAtMs).toISOString() + '"') +
    ',"storedPath":' +
    jsonString(r.storedPath) +
    ',"firstSeq":' +
    jsonNumber(r.firstSeq) +
    '}\n'
  );
}

/** Lines joined before each write into a page's buffer (one native call per 64 lines, not per line). */
const LINES_PER_WRITE = 64;

/**
 * Where pages are serialized before their bytes are copied out at their exact size: one buffer
 * for the process, grown when a page needs more. A page of 2,000 rows was a fresh 768 KiB buffer
 * (384 bytes a row, the most a row may take) kept as a ~440 KiB view of it: 1.75 times its bytes
 * held for as long as the page was, and each freed only at a collection of the external memory
 * behind it. A manifest of 100,000 files had ~22 MiB of these at its commit, and that run's peak
 * was 215 MiB (issue #21, docs/benchmarks.md, stop 24). Used only synchronously: no page can
 * interleave with another.
 */
let pageScratch = Buffer.allocUnsafeSlow(0);
/**
 * A scratch buffer grown past this (a page of very long paths) is let go after its page instead
 * of being kept for the process's life; a page of 2,000 ordinary rows needs 768 KiB.
 */
const PAGE_SCRATCH_KEEP_MAX = 1024 * 1024;

/**
 * The lines of a page of plain rows, as UTF-8 bytes written into one buffer as they are made,
 * 64 lines a write: about half the CPU of concatenating the whole page's text and encoding it at
 * the end (a 500 KiB string flattened, then encoded). A buffer of exactly its bytes.
 */
export function manifestPageOfRows(rows: readonly ManifestRow[]): Buffer {
  const n = serializeRows(rows);
  const page = Buffer.allocUnsafeSlow(n);
  pageScratch.copy(page, 0, 0, n);
  releaseLargeScratch();
  return page;
}

/** The byte length `manifestPageOfRows` would give `rows`, without allocating the page. */
export function manifestPageLength(rows: readonly ManifestRow[]): number {
  const n = serializeRows(rows);
  releaseLargeScratch();
  return n;
}

function releaseLargeScratch(): void {
  if (pageScratch.length > PAGE_SCRATCH_KEEP_MAX) pageScratch = Buffer.allocUnsafeSlow(0);
}

/** Writes the lines of `rows` into pageScratch (grown as needed); their byte length. */
function serializeRows(rows: readonly ManifestRow[]): number {
  let at = 0;
  let text = '';
  const flush = () => {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (at + text.length * 3 > pageScratch.length) {
      const bigger = Buffer.allocUnsafeSlow(
        Math.max(1024, pageScratch.length * 2, at + text.length * 3, rows.length * 384),
      );
      pageScratch.copy(bigger, 0, 0, at);
      pageScratch = bigger;
    }
    at += pageScratch.write(text, at, 'utf8');
    text = '';
  };
  for (let i = 0; i < rows.length; i++) {
    text += manifestLineOfRow(rows[i]!);
    if ((i + 1) % LINES_PER_WRITE === 0) flush();
  }
  if (text !== '') flush();
  return at;
}

/**
 * The manifest as JSON Lines, produced page by page from the ledger so a version of 100,000
 * files never sits in memory.
 */
export function manifestStream(
  header: ManifestHeader,
  pages: AsyncIterable<ManifestPage>,
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
  pages: AsyncIterable<ManifestPage>,
): Promise<number> {
  let size = 0;
  for await (const chunk of manifestChunks(header, pages)) size += chunk.length;
  return size;
}

/** Up to this many bytes a manifest is kept from its size pass and sent as is (about 25,000 files). */
export const MANIFEST_BUFFER_MAX = 8 * 1024 * 1024;

/**
 * The manifest's byte length and its body. Up to `maxBuffered` bytes the size pass keeps what it
 * made and the body is that: one read of the ledger and one JSON pass instead of two (a no-change
 * run of 10,000 files spent ~0.2 s on the second, issue #21); `lines` is then the body after its
 * header, as the buffers it is sent in (see ManifestLinesCache). Larger, the size pass keeps
 * nothing and the body is made again from `pages()` as it streams, so memory stays bounded.
 */
export async function manifestBody(
  header: ManifestHeader,
  pages: () => AsyncIterable<ManifestPage>,
  maxBuffered = MANIFEST_BUFFER_MAX,
): Promise<{ size: number; body: Readable; lines?: readonly Buffer[] }> {
  const head = headerLine(header);
  let size = head.length;
  let kept: Buffer[] | undefined = [];
  for await (const page of pages()) {
    // Past the limit, pages of rows are only counted: their bytes are made again as the body
    // streams, so none is allocated here (100,000 files: ~22 MiB of pages, issue #21).
    if (!kept && isRowPage(page)) {
      size += manifestPageLength(page.rows);
      continue;
    }
    const chunk = pageBytes(page);
    if (!chunk) continue;
    size += chunk.length;
    if (kept && size > maxBuffered) kept = undefined;
    kept?.push(chunk);
  }
  if (!kept) return { size, body: manifestStream(header, pages()) };
  return { size, body: Readable.from([head, ...kept]), lines: kept };
}

/** The manifest of `header` whose lines are `lines` as `manifestBody` gave them for the same records. */
export function manifestBodyOfLines(
  header: ManifestHeader,
  lines: Buffer,
): { size: number; body: Readable } {
  const head = headerLine(header);
  return { size: head.length + lines.length, body: Readable.from([head, lines]) };
}

function headerLine(header: ManifestHeader): Buffer {
  return Buffer.from(JSON.stringify(header) + '\n');
}

async function* manifestChunks(
  header: ManifestHeader,
  pages: AsyncIterable<ManifestPage>,
): AsyncGenerator<Buffer> {
  yield headerLine(header);
  yield* lineChunks(pages);
}

async function* lineChunks(pages: AsyncIterable<ManifestPage>): AsyncGenerator<Buffer> {
  for await (const page of pages) {
    const chunk = pageBytes(page);
    if (chunk) yield chunk;
  }
}

function isRowPage(page: ManifestPage): page is ManifestRowPage {
  return !Buffer.isBuffer(page) && !Array.isArray(page);
}

/**
 * A page's bytes; undefined when it has none. Each page made from rows is told to the memory
 * watch (noteBytesStreamed): a streamed manifest's pages are dead once written, and a scavenge
 * every few MiB frees them instead of the ~64 MiB V8 waits for (see noteBytesStreamed).
 */
function pageBytes(page: ManifestPage): Buffer | undefined {
  if (Buffer.isBuffer(page)) return page.length > 0 ? page : undefined;
  if (isRowPage(page)) {
    if (page.rows.length === 0) return undefined;
    const bytes = manifestPageOfRows(page.rows);
    noteBytesStreamed(bytes.length);
    return bytes;
  }
  const text = linesOf(page);
  return text ? Buffer.from(text) : undefined;
}

function linesOf(page: ManifestFile[]): string {
  let text = '';
  for (const f of page) {
    text +=
      JSON.stringify({
        path: f.path,
        size: f.size,
        sha256: f.sha256,
        sourceHashes: f.sourceHashes,
        sourceId: f.sourceId,
        modifiedAt: f.modifiedAt ? f.modifiedAt.toISOString() : null,
        storedPath: f.storedPath,
        firstSeq: f.firstSeq,
      } satisfies ManifestLine) + '\n';
  }
  return text;
}

/** A manifest line or header that cannot be trusted: `problem` names the field. */
export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

const SHA256_HEX = /^[0-9a-f]{64}$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isConnectorPath(v: unknown): v is string {
  if (typeof v !== 'string' || v === '') return false;
  try {
    return normalizePath(v) === v;
  } catch {
    return false;
  }
}

function isDateText(v: unknown): v is string {
  return typeof v === 'string' && !Number.isNaN(Date.parse(v));
}

/**
 * Checks a parsed manifest header: the import trusts nothing it has not checked, since a manifest
 * is a file on the target anyone with access to the target may have edited.
 */
export function checkManifestHeader(raw: unknown): Checked<ManifestHeader> {
  if (!isRecord(raw)) return { ok: false, problem: 'is not a JSON object' };
  if (raw.format !== MANIFEST_FORMAT)
    return { ok: false, problem: `is not a ${MANIFEST_FORMAT} manifest` };
  if (!Number.isSafeInteger(raw.seq) || (raw.seq as number) < 1)
    return { ok: false, problem: 'seq must be a positive integer' };
  if (typeof raw.taskName !== 'string') return { ok: false, problem: 'taskName must be a string' };
  if (typeof raw.versionId !== 'string')
    return { ok: false, problem: 'versionId must be a string' };
  if (!isDateText(raw.createdAt)) return { ok: false, problem: 'createdAt must be a date' };
  if (
    typeof raw.storageFolder !== 'string' ||
    (raw.storageFolder !== '' && !isConnectorPath(raw.storageFolder))
  )
    return { ok: false, problem: 'storageFolder must be a folder path' };
  return { ok: true, value: raw as unknown as ManifestHeader };
}

/** Checks one parsed line of the manifest of version `seq`, field by field. */
export function checkManifestLine(raw: unknown, seq: number): Checked<ManifestLine> {
  const bad = (problem: string): Checked<ManifestLine> => ({ ok: false, problem });
  if (!isRecord(raw)) return bad('is not a JSON object');
  if (!isConnectorPath(raw.path))
    return bad('path must be a relative path without ., .. or control characters');
  if (!Number.isSafeInteger(raw.size) || (raw.size as number) < 0)
    return bad('size must be a whole number of bytes, 0 or more');
  if (typeof raw.sha256 !== 'string' || !SHA256_HEX.test(raw.sha256))
    return bad('sha256 must be 64 lowercase hex digits');
  if (!isRecord(raw.sourceHashes)) return bad('sourceHashes is missing or not an object');
  for (const [k, v] of Object.entries(raw.sourceHashes)) {
    if (!(HASH_KINDS as readonly string[]).includes(k) || typeof v !== 'string')
      return bad(`sourceHashes.${k} is not a known hash kind with a text value`);
  }
  if (raw.sourceId !== null && typeof raw.sourceId !== 'string')
    return bad('sourceId must be a string or null');
  if (raw.modifiedAt !== null && !isDateText(raw.modifiedAt))
    return bad('modifiedAt must be a date or null');
  if (!isConnectorPath(raw.storedPath))
    return bad('storedPath must be a relative path on the target');
  if (
    !Number.isSafeInteger(raw.firstSeq) ||
    (raw.firstSeq as number) < 1 ||
    (raw.firstSeq as number) > seq
  )
    return bad(`firstSeq must be a version number between 1 and ${seq}`);
  return { ok: true, value: raw as unknown as ManifestLine };
}
