import { In, IsNull } from 'typeorm';
import type { HashSet } from '../connectors/hashing/hash-kinds.js';
import type { Database } from '../persistence/database.js';
import { VersionFileEntity } from './entities/version-file.entity.js';
import { VersionEntity, type VersionStatus } from './entities/version.entity.js';
import type { LedgerSql } from './ledger-sql.js';
import type { ManifestFile, ManifestRow } from './manifest.js';
import type { LiveSetMark } from './manifest-lines-cache.js';

/** What `findLiveChangeKeys` hands out for a record without source hashes (read only). */
const NO_HASHES: HashSet = Object.freeze({});

/** What change detection compares of a current record (see `isUnchanged`). */
export type LiveChangeKey = Pick<VersionFileEntity, 'size' | 'sourceHashes' | 'modifiedAt'>;

/**
 * The ledger's reads of every backup run (change detection, closing what a full listing did not
 * see, the manifest, the versions checked at start), as plain rows, not entities: a no-change run
 * of 10,000 files read ~30,000 rows through TypeORM's entity hydration, ~6 us a row of one CPU
 * plus the garbage it left, and the query builder rebuilt each statement for about as long as
 * SQLite took to answer it (issue #21). Sizes and times come back as strings from PostgreSQL.
 * Reached as `VersionLedgerRepository.runReads`.
 */
export class LedgerRunReads {
  constructor(
    private readonly db: Database,
    private readonly sql: () => LedgerSql,
    /** Parameters per statement (SQLite caps bound parameters). */
    private readonly inBatch: number,
  ) {}

  private get versions() {
    return this.db.dataSource.getRepository(VersionEntity);
  }

  private get files() {
    return this.db.dataSource.getRepository(VersionFileEntity);
  }

  /**
   * What change detection needs of the current records of `paths`: size, source hashes and
   * modification time, by path. One indexed query per this.inBatch paths.
   */
  async findLiveChangeKeys(taskId: string, paths: string[]): Promise<Map<string, LiveChangeKey>> {
    const out = new Map<string, LiveChangeKey>();
    const sql = this.sql();
    for (let i = 0; i < paths.length; i += this.inBatch) {
      const batch = paths.slice(i, i + this.inBatch);
      const rows = await this.db.rowArrays(
        `SELECT "path", "size", "source_hashes", "modified_at" FROM ${sql.table} WHERE "task_id" = ${sql.p(1)} AND "last_seq" IS NULL AND "path" IN (${sql.list(2, batch.length)})`,
        [taskId, ...batch],
        ['path', 'size', 'source_hashes', 'modified_at'],
      );
      for (const [path, size, hashes, modified] of rows) {
        out.set(path as string, {
          // Sizes and times come back as strings from PostgreSQL.
          size: Number(size),
          // Most sources report no hash at all: one shared empty set, not a parse per file.
          sourceHashes: hashes === '{}' ? NO_HASHES : (JSON.parse(hashes as string) as HashSet),
          modifiedAt: modified === null ? null : new Date(Number(modified)),
        });
      }
    }
    return out;
  }

  /**
   * `closeUnseen` reading only ids and paths as plain rows, PAGE rows a query, in id order
   * through the (task_id, last_seq) index; closes only records still current.
   */
  async closeUnseenPaths(
    taskId: string,
    seq: number,
    isSeen: (path: string) => boolean,
  ): Promise<number> {
    const PAGE = 5000;
    let closed = 0;
    let afterId = 0;
    for (;;) {
      const rows = await this.files
        .createQueryBuilder('f')
        .select('f.id', 'id')
        .addSelect('f.path', 'path')
        .where('f.task_id = :taskId', { taskId })
        .andWhere('f.last_seq IS NULL')
        .andWhere('f.first_seq < :seq', { seq })
        .andWhere('f.id > :afterId', { afterId })
        .orderBy('f.id', 'ASC')
        .limit(PAGE)
        .getRawMany<{ id: string | number; path: string }>();
      if (rows.length === 0) break;
      afterId = Number(rows[rows.length - 1]!.id);
      const gone = rows.filter((r) => !isSeen(r.path)).map((r) => Number(r.id));
      for (let i = 0; i < gone.length; i += this.inBatch) {
        const ids = gone.slice(i, i + this.inBatch);
        await this.db.write((em) =>
          em.update(VersionFileEntity, { id: In(ids), lastSeq: IsNull() }, { lastSeq: seq - 1 }),
        );
      }
      closed += gone.length;
      if (rows.length < PAGE) break;
    }
    return closed;
  }

  /**
   * One page of what a manifest lists of version `seq`, as plain rows in path order after
   * `afterPath`: keyset paging through the (task_id, path, ...) index, so each page costs its own
   * rows (paging by id re-sorted every covering row per page: quadratic in the version's size).
   * Relies on a version holding one record per path, which holds for a version being committed.
   */
  async listManifestFiles(
    taskId: string,
    seq: number,
    afterPath: string | undefined,
    limit: number,
  ): Promise<ManifestFile[]> {
    const rows = await this.files
      .createQueryBuilder('f')
      .where('f.task_id = :taskId', { taskId })
      .andWhere('f.first_seq <= :seq', { seq })
      .andWhere('(f.last_seq IS NULL OR f.last_seq >= :seq)', { seq })
      .select('f.path', 'path')
      .addSelect('f.size', 'size')
      .addSelect('f.sha256', 'sha256')
      .addSelect('f.source_hashes', 'hashes')
      .addSelect('f.source_id', 'sourceId')
      .addSelect('f.modified_at', 'modified')
      .addSelect('f.stored_path', 'storedPath')
      .addSelect('f.first_seq', 'firstSeq')
      // Every path is longer than '': the bound from the first page on keeps SQLite on the
      // path index (without it, it chose the first_seq index and sorted every covering row).
      .andWhere('f.path > :afterPath', { afterPath: afterPath ?? '' })
      .orderBy('f.path', 'ASC')
      .limit(limit)
      .getRawMany<{
        path: string;
        size: string | number;
        sha256: string;
        hashes: string;
        sourceId: string | null;
        modified: string | number | null;
        storedPath: string;
        firstSeq: string | number;
      }>();
    return rows.map((r) => ({
      path: r.path,
      size: Number(r.size),
      sha256: r.sha256,
      sourceHashes: JSON.parse(r.hashes) as HashSet,
      sourceId: r.sourceId,
      modifiedAt: r.modified === null ? null : new Date(Number(r.modified)),
      storedPath: r.storedPath,
      firstSeq: Number(r.firstSeq),
    }));
  }

  // Plain SQL for the reads of every backup run (issue #21): TypeORM's query builder rebuilt
  // each statement (its `:...paths` expansion rewrites the text once per parameter) for about
  // as long as SQLite took to answer it.

  /**
   * The current records opened before version `seq`: how many there are. After a full listing,
   * when every one of them is a path the run saw unchanged, nothing is left to close (see
   * VersionsService.commitVersion). One count through the (task_id, last_seq) index.
   */
  async countCurrentBefore(taskId: string, seq: number): Promise<number> {
    const sql = this.sql();
    const rows = (await this.db.dataSource.query(
      `SELECT COUNT(*) AS "n" FROM ${sql.table} WHERE "task_id" = ${sql.p(1)} AND "last_seq" IS NULL AND "first_seq" < ${sql.p(2)}`,
      [taskId, seq],
    )) as Array<{ n: string | number }>;
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * How many current records the task has and their highest id (see LiveSetMark), when they
   * are exactly the files of version `seq` (no record opened after it, none closed at or after
   * it); undefined otherwise. Four index-only reads, ~0.3 ms for 10,000 records on SQLite.
   */
  async liveSetMark(taskId: string, seq: number): Promise<LiveSetMark | undefined> {
    const { table, p } = this.sql();
    const live = (n: number) => `FROM ${table} WHERE "task_id" = ${p(n)} AND "last_seq" IS NULL`;
    // Placeholders numbered in order: SQLite's `?` takes the parameters as they come.
    const [row] = await this.db.rowArrays(
      `SELECT (SELECT COUNT(*) ${live(1)}) AS "n", (SELECT MAX("id") ${live(2)}) AS "max_id",` +
        ` (SELECT COUNT(*) FROM ${table} WHERE "task_id" = ${p(3)} AND "last_seq" >= ${p(4)}) AS "closed_later",` +
        ` (SELECT COUNT(*) FROM ${table} WHERE "task_id" = ${p(5)} AND "first_seq" > ${p(6)}) AS "opened_later"`,
      [taskId, taskId, taskId, seq, taskId, seq],
      ['n', 'max_id', 'closed_later', 'opened_later'],
    );
    if (!row || Number(row[2]) !== 0 || Number(row[3]) !== 0) return undefined;
    return { count: Number(row[0]), maxId: Number(row[1] ?? 0) };
  }

  /**
   * Seq, status and storage folder of every version of a task, newest first, as plain rows: what
   * each backup run checks before it starts (earlier versions on the target, interrupted ones to
   * clean up), without an entity per version of a task that has kept years of them.
   */
  async listVersionStates(
    taskId: string,
  ): Promise<Array<Pick<VersionEntity, 'seq' | 'status' | 'storageFolder'>>> {
    const rows = await this.versions
      .createQueryBuilder('v')
      .select('v.seq', 'seq')
      .addSelect('v.status', 'status')
      .addSelect('v.storage_folder', 'storageFolder')
      .where('v.task_id = :taskId', { taskId })
      .orderBy('v.seq', 'DESC')
      .getRawMany<{ seq: string | number; status: VersionStatus; storageFolder: string }>();
    return rows.map((r) => ({
      seq: Number(r.seq),
      status: r.status,
      storageFolder: r.storageFolder,
    }));
  }

  /**
   * A page of what version `seq`'s manifest lists, as `listManifestFiles` pages (path order after
   * `afterPath`), in plain SQL and kept as the columns hold them (hashes as JSON text, times as
   * epoch ms) for `manifestPageOfRows`.
   */
  async listManifestRows(
    taskId: string,
    seq: number,
    afterPath: string | undefined,
    limit: number,
  ): Promise<ManifestRow[]> {
    const sql = this.sql();
    const columns = [
      'path',
      'size',
      'sha256',
      'source_hashes',
      'source_id',
      'modified_at',
      'stored_path',
      'first_seq',
    ];
    const rows = await this.db.rowArrays(
      `SELECT ${columns.map((c) => `"${c}"`).join(', ')} FROM ${sql.table}` +
        ` WHERE "task_id" = ${sql.p(1)} AND "first_seq" <= ${sql.p(2)} AND ("last_seq" IS NULL OR "last_seq" >= ${sql.p(3)})` +
        // Every path is longer than '': the bound from the first page on keeps SQLite on the
        // path index (see listManifestFiles).
        ` AND "path" > ${sql.p(4)} ORDER BY "path" ASC LIMIT ${Math.floor(limit)}`,
      [taskId, seq, seq, afterPath ?? ''],
      columns,
    );
    return rows.map((r) => ({
      path: r[0] as string,
      size: Number(r[1]),
      sha256: r[2] as string,
      sourceHashesJson: r[3] as string,
      sourceId: r[4] as string | null,
      modifiedAtMs: r[5] === null ? null : Number(r[5]),
      storedPath: r[6] as string,
      firstSeq: Number(r[7]),
    }));
  }
}
