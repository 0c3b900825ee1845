import { In, IsNull, LessThan, MoreThan, type EntityManager } from 'typeorm';
import type { HashSet } from '../connectors/hashing/hash-kinds.js';
import type { Database } from '../persistence/database.js';
import { VersionFileEntity } from './entities/version-file.entity.js';
import { ledgerSql, type LedgerSql } from './ledger-sql.js';
import { LedgerRunReads } from './ledger-run-reads.js';
import { VersionEntity, type VersionStatus } from './entities/version.entity.js';

/** What the engine knows of one stored file when it records it. */
export interface StoredFile {
  path: string;
  size: number;
  sha256: string;
  sourceHashes: HashSet;
  sourceId: string | null;
  modifiedAt: Date | null;
  storedPath: string;
}

export interface VersionFilesPage {
  files: VersionFileEntity[];
  /** Pass back as `afterId` for the next page; undefined on the last page. */
  nextAfterId?: number;
}

/** SQLite caps bound parameters per statement; stay well under it. */
const IN_BATCH = 500;

/**
 * The version ledger's tables. A file record is valid for versions firstSeq..lastSeq (lastSeq null:
 * current). Committing a version touches only the rows of what changed.
 */
export class VersionLedgerRepository {
  /** Built on first use (see sql()). */
  private sqlCache: LedgerSql | undefined;

  /** The plain-row reads of every backup run (ledger-run-reads.ts). */
  readonly runReads: LedgerRunReads;

  constructor(private readonly db: Database) {
    this.runReads = new LedgerRunReads(db, () => this.sql(db.dataSource.manager), IN_BATCH);
  }

  private get versions() {
    return this.db.dataSource.getRepository(VersionEntity);
  }

  private get files() {
    return this.db.dataSource.getRepository(VersionFileEntity);
  }

  async nextSeq(taskId: string): Promise<number> {
    const row = await this.versions
      .createQueryBuilder('v')
      .select('MAX(v.seq)', 'max')
      .where('v.task_id = :taskId', { taskId })
      .getRawOne<{ max: number | string | null }>();
    return Number(row?.max ?? 0) + 1;
  }

  async createVersion(
    v: Pick<VersionEntity, 'id' | 'taskId' | 'runId' | 'seq' | 'storageFolder' | 'createdAt'>,
  ): Promise<VersionEntity> {
    const entity = this.versions.create({
      ...v,
      status: 'running',
      manifestPath: null,
      fileCount: 0,
      totalBytes: 0,
      completedAt: null,
    });
    return this.db.write((em) => em.save(VersionEntity, entity));
  }

  findVersion(id: string): Promise<VersionEntity | null> {
    return this.versions.findOneBy({ id });
  }

  findVersionBySeq(taskId: string, seq: number): Promise<VersionEntity | null> {
    return this.versions.findOneBy({ taskId, seq });
  }

  listVersions(taskId: string): Promise<VersionEntity[]> {
    return this.versions.find({ where: { taskId }, order: { seq: 'DESC' } });
  }

  findLatestComplete(taskId: string): Promise<VersionEntity | null> {
    return this.versions.findOne({ where: { taskId, status: 'complete' }, order: { seq: 'DESC' } });
  }

  async setVersionStatus(id: string, status: VersionStatus): Promise<void> {
    await this.db.write((em) => em.update(VersionEntity, { id }, { status }));
  }

  /** Removes a version that holds no file of its own (a run that failed before storing any). */
  async deleteVersion(id: string): Promise<void> {
    await this.db.write((em) =>
      em.delete(VersionEntity, { id, status: In(['running', 'partial']) }),
    );
  }

  /** Versions left 'running' by a process that died: they can only be partial now. */
  async markRunningAsPartial(): Promise<number> {
    const res = await this.db.write((em) =>
      em.update(VersionEntity, { status: 'running' }, { status: 'partial' }),
    );
    return res.affected ?? 0;
  }

  /** The versions an earlier attempt of this run left 'running' (its worker died): partial now. */
  async markRunVersionsPartial(runId: string): Promise<number> {
    const res = await this.db.write((em) =>
      em.update(VersionEntity, { runId, status: 'running' }, { status: 'partial' }),
    );
    return res.affected ?? 0;
  }

  /** The current (live) records of the given paths: what the next version would reuse. */
  async findLiveByPaths(taskId: string, paths: string[]): Promise<Map<string, VersionFileEntity>> {
    const out = new Map<string, VersionFileEntity>();
    for (let i = 0; i < paths.length; i += IN_BATCH) {
      const rows = await this.files.findBy({
        taskId,
        lastSeq: IsNull(),
        path: In(paths.slice(i, i + IN_BATCH)),
      });
      for (const r of rows) out.set(r.path, r);
    }
    return out;
  }

  /**
   * Records files stored by version `seq` (their bytes verified on the target): the previous
   * current record of each path is closed at seq-1, the new one opens at seq.
   */
  async recordStoredFiles(taskId: string, seq: number, stored: StoredFile[]): Promise<void> {
    if (stored.length === 0) return;
    await this.db.transaction(async (em) => {
      for (let i = 0; i < stored.length; i += IN_BATCH) {
        const batch = stored.slice(i, i + IN_BATCH);
        await this.closeLive(
          em,
          taskId,
          seq,
          batch.map((s) => s.path),
        );
        await this.insertStored(em, taskId, seq, batch);
      }
    });
  }

  /**
   * Closes the current records whose paths the run did not see (deleted or filtered out at the
   * source). `isSeen` answers from the run's own set of paths.
   */
  async closeUnseen(
    taskId: string,
    seq: number,
    isSeen: (path: string) => boolean,
  ): Promise<number> {
    let closed = 0;
    let afterId = 0;
    for (;;) {
      const rows = await this.files.find({
        select: { id: true, path: true, firstSeq: true },
        where: { taskId, lastSeq: IsNull(), id: MoreThan(afterId), firstSeq: LessThan(seq) },
        order: { id: 'ASC' },
        take: 1000,
      });
      if (rows.length === 0) break;
      afterId = rows[rows.length - 1]!.id;
      const gone = rows.filter((r) => !isSeen(r.path)).map((r) => r.id);
      for (let i = 0; i < gone.length; i += IN_BATCH) {
        const ids = gone.slice(i, i + IN_BATCH);
        await this.db.write((em) =>
          em.update(VersionFileEntity, { id: In(ids) }, { lastSeq: seq - 1 }),
        );
      }
      closed += gone.length;
    }
    return closed;
  }

  /**
   * Closes the current records of the given paths and of everything under them (a deleted
   * folder), as reported by a change feed. Records this version itself opened are removed.
   */
  async closePaths(taskId: string, seq: number, paths: string[]): Promise<number> {
    let closed = 0;
    for (const path of paths) {
      const where =
        "task_id = :taskId AND last_seq IS NULL AND (path = :path OR path LIKE :prefix ESCAPE '\\')";
      const params = { taskId, path, prefix: `${escapeLike(path)}/%`, seq };
      await this.db.transaction(async (em) => {
        await em
          .createQueryBuilder()
          .delete()
          .from(VersionFileEntity)
          .where(where, params)
          .andWhere('first_seq = :seq', params)
          .execute();
        const res = await em
          .createQueryBuilder()
          .update(VersionFileEntity)
          .set({ lastSeq: seq - 1 })
          .where(where, params)
          .execute();
        closed += res.affected ?? 0;
      });
    }
    return closed;
  }

  /** Count and bytes of the files version `seq` holds. */
  async summarize(taskId: string, seq: number): Promise<{ fileCount: number; totalBytes: number }> {
    const row = await this.coveringQuery(taskId, seq)
      .select('COUNT(*)', 'count')
      .addSelect('COALESCE(SUM(f.size), 0)', 'bytes')
      .getRawOne<{ count: string | number; bytes: string | number }>();
    return { fileCount: Number(row?.count ?? 0), totalBytes: Number(row?.bytes ?? 0) };
  }

  /** Marks a version complete (or held) with its totals and manifest, in one transaction. */
  async completeVersion(
    id: string,
    totals: {
      fileCount: number;
      totalBytes: number;
      manifestPath: string;
      completedAt: Date;
      status?: 'complete' | 'held';
      statusReason?: string | null;
      skippedCount?: number;
    },
    alsoInTransaction?: (em: EntityManager) => Promise<void>,
  ): Promise<void> {
    await this.db.transaction(async (em) => {
      await em.update(VersionEntity, { id }, { status: 'complete', ...totals });
      await alsoInTransaction?.(em);
    });
  }

  /**
   * What version b did to version a (a < b): paths of a that b no longer holds, and paths both
   * hold with different content. One indexed join over the records a lost, not over all files.
   */
  async countChanges(
    taskId: string,
    a: number,
    b: number,
  ): Promise<{ deleted: number; changed: number }> {
    const row = await this.files
      .createQueryBuilder('f')
      .leftJoin(
        VersionFileEntity,
        'n',
        'n.task_id = f.task_id AND n.path = f.path AND n.first_seq <= :b AND (n.last_seq IS NULL OR n.last_seq >= :b)',
        { b },
      )
      .select('SUM(CASE WHEN n.id IS NULL THEN 1 ELSE 0 END)', 'deleted')
      .addSelect(
        'SUM(CASE WHEN n.id IS NOT NULL AND n.sha256 <> f.sha256 THEN 1 ELSE 0 END)',
        'changed',
      )
      .where('f.task_id = :taskId', { taskId })
      .andWhere('f.first_seq <= :a AND f.last_seq >= :a AND f.last_seq < :b', { a, b })
      .getRawOne<{ deleted: string | number | null; changed: string | number | null }>();
    return { deleted: Number(row?.deleted ?? 0), changed: Number(row?.changed ?? 0) };
  }

  /**
   * Undoes what a held version (the newest of its task) did to the ledger: records it opened are
   * closed at its own seq (bytes the next prune frees, no version covers them), records it closed
   * are current again, and the version is marked discarded. One transaction.
   */
  async discardNewestVersion(taskId: string, seq: number, versionId: string): Promise<void> {
    await this.db.transaction(async (em) => {
      await em.update(
        VersionFileEntity,
        { taskId, firstSeq: seq, lastSeq: IsNull() },
        { lastSeq: seq },
      );
      await em.update(VersionFileEntity, { taskId, lastSeq: seq - 1 }, { lastSeq: null });
      // The row stays (as 'discarded') until a prune removes it with those records: deleting it
      // now would hand its seq to the next version, which would then cover the records above.
      await em.update(VersionEntity, { id: versionId }, { status: 'discarded' });
    });
  }

  /** One page of the files of version `seq`, in id order, optionally under a folder. */
  async listVersionFiles(
    taskId: string,
    seq: number,
    opts: { afterId?: number; limit: number; prefix?: string },
  ): Promise<VersionFilesPage> {
    const qb = this.coveringQuery(taskId, seq)
      .andWhere('f.id > :afterId', { afterId: opts.afterId ?? 0 })
      .orderBy('f.id', 'ASC')
      .take(opts.limit + 1);
    if (opts.prefix)
      qb.andWhere("f.path LIKE :prefix ESCAPE '\\'", { prefix: `${escapeLike(opts.prefix)}/%` });
    const rows = await qb.getMany();
    const more = rows.length > opts.limit;
    const files = more ? rows.slice(0, opts.limit) : rows;
    return { files, nextAfterId: more ? files[files.length - 1]!.id : undefined };
  }

  /** The record of one path in version `seq`, if the version holds it. */
  findVersionFile(taskId: string, seq: number, path: string): Promise<VersionFileEntity | null> {
    return this.coveringQuery(taskId, seq).andWhere('f.path = :path', { path }).getOne();
  }

  /**
   * The first path of version `seq` strictly after `after` and below `prefix` (a folder, '' for
   * the root), in path order: one indexed query per step of a folder-by-folder listing.
   */
  async nextPathAfter(
    taskId: string,
    seq: number,
    prefix: string,
    bound: { gt: string } | { gte: string },
  ): Promise<VersionFileEntity | null> {
    // Byte order on both databases: PostgreSQL's default collation would sort by locale rules.
    const path = this.db.isPostgres ? 'f.path COLLATE "C"' : 'f.path';
    const qb = this.coveringQuery(taskId, seq)
      .andWhere('gt' in bound ? `${path} > :b` : `${path} >= :b`, {
        b: 'gt' in bound ? bound.gt : bound.gte,
      })
      .orderBy(path, 'ASC')
      .take(1);
    if (prefix !== '') {
      // '/' + 1 is '0': [prefix/, prefix0) is exactly "under prefix".
      qb.andWhere(`${path} >= :lo AND ${path} < :hi`, { lo: `${prefix}/`, hi: `${prefix}0` });
    }
    return qb.getOne();
  }

  /**
   * Records that differ between versions a < b: opened after a and still in b (added or
   * changed), and in a but closed before b (changed or deleted).
   */
  async diffRecords(
    taskId: string,
    a: number,
    b: number,
  ): Promise<{ inB: VersionFileEntity[]; goneFromA: VersionFileEntity[] }> {
    const inB = await this.files
      .createQueryBuilder('f')
      .where('f.task_id = :taskId', { taskId })
      .andWhere('f.first_seq > :a AND f.first_seq <= :b', { a, b })
      .andWhere('(f.last_seq IS NULL OR f.last_seq >= :b)', { b })
      .getMany();
    const goneFromA = await this.files
      .createQueryBuilder('f')
      .where('f.task_id = :taskId', { taskId })
      .andWhere('f.first_seq <= :a AND f.last_seq >= :a AND f.last_seq < :b', { a, b })
      .getMany();
    return { inB, goneFromA };
  }

  /** Every record of a task (or of one version), paged by id: what a verify run checks. */
  listRecordsForVerify(
    taskId: string,
    seq: number | undefined,
    afterId: number,
    limit: number,
  ): Promise<VersionFileEntity[]> {
    const qb =
      seq === undefined
        ? this.files.createQueryBuilder('f').where('f.task_id = :taskId', { taskId })
        : this.coveringQuery(taskId, seq);
    return qb.andWhere('f.id > :afterId', { afterId }).orderBy('f.id', 'ASC').take(limit).getMany();
  }

  /**
   * Stored copies found missing or different: versions holding them are marked damaged, and a
   * current record is closed at the newest version so the next backup stores the file again.
   */
  async markRecordsDamaged(
    taskId: string,
    records: Array<Pick<VersionFileEntity, 'id' | 'firstSeq' | 'lastSeq'>>,
    reason: string,
  ): Promise<number[]> {
    if (records.length === 0) return [];
    const newest = (await this.nextSeq(taskId)) - 1;
    const versions = await this.listVersions(taskId);
    const hit = versions.filter((v) =>
      records.some((r) => r.firstSeq <= v.seq && (r.lastSeq === null || r.lastSeq >= v.seq)),
    );
    await this.db.transaction(async (em) => {
      const live = records.filter((r) => r.lastSeq === null).map((r) => r.id);
      for (let i = 0; i < live.length; i += IN_BATCH) {
        await em.update(
          VersionFileEntity,
          { id: In(live.slice(i, i + IN_BATCH)) },
          { lastSeq: newest },
        );
      }
      for (const v of hit) {
        if (v.status === 'discarded' || v.status === 'running') continue;
        await em.update(VersionEntity, { id: v.id }, { status: 'damaged', statusReason: reason });
      }
    });
    return hit.map((v) => v.seq);
  }

  async markVerified(ids: string[], at: Date): Promise<void> {
    for (let i = 0; i < ids.length; i += IN_BATCH) {
      const batch = ids.slice(i, i + IN_BATCH);
      await this.db.write((em) => em.update(VersionEntity, { id: In(batch) }, { verifiedAt: at }));
    }
  }

  /** Records no longer current (a closed range), paged by id: what retention may free. */
  listClosedRecords(taskId: string, afterId: number, limit: number): Promise<VersionFileEntity[]> {
    return this.files
      .createQueryBuilder('f')
      .where('f.task_id = :taskId', { taskId })
      .andWhere('f.last_seq IS NOT NULL')
      .andWhere('f.id > :afterId', { afterId })
      .orderBy('f.id', 'ASC')
      .take(limit)
      .getMany();
  }

  async deleteRecords(ids: number[]): Promise<void> {
    for (let i = 0; i < ids.length; i += IN_BATCH) {
      const batch = ids.slice(i, i + IN_BATCH);
      await this.db.write((em) => em.delete(VersionFileEntity, { id: In(batch) }));
    }
  }

  /** Whether any record still points at bytes stored under `folder` on the target. */
  async hasStoredUnder(taskId: string, folder: string): Promise<boolean> {
    const row = await this.files
      .createQueryBuilder('f')
      .select('f.id')
      .where('f.task_id = :taskId', { taskId })
      .andWhere("f.stored_path LIKE :prefix ESCAPE '\\'", { prefix: `${escapeLike(folder)}/%` })
      .take(1)
      .getOne();
    return row !== null;
  }

  /** Inside `transaction`, pass its `em`; alone, each batch is its own write. */
  async insertRecords(
    records: Array<Omit<VersionFileEntity, 'id'>>,
    em?: EntityManager,
  ): Promise<void> {
    for (let i = 0; i < records.length; i += IN_BATCH) {
      const batch = records.slice(i, i + IN_BATCH);
      if (em) await em.insert(VersionFileEntity, batch);
      else await this.db.write((w) => w.insert(VersionFileEntity, batch));
    }
  }

  async insertCompleteVersion(v: VersionEntity, em?: EntityManager): Promise<void> {
    if (em) await em.insert(VersionEntity, v);
    else await this.db.write((w) => w.insert(VersionEntity, v));
  }

  /** Runs `fn` in one transaction: everything it writes through `em` lands, or none of it. */
  transaction<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  async deleteVersionRow(id: string): Promise<void> {
    await this.db.write((em) => em.delete(VersionEntity, { id }));
  }

  private coveringQuery(taskId: string, seq: number) {
    return this.files
      .createQueryBuilder('f')
      .where('f.task_id = :taskId', { taskId })
      .andWhere('f.first_seq <= :seq', { seq })
      .andWhere('(f.last_seq IS NULL OR f.last_seq >= :seq)', { seq });
  }

  /**
   * Closes the current records of `paths` at seq-1; a record this same version opened (a file
   * stored twice in one run) is replaced outright. Plain SQL, as insertStored.
   */
  private async closeLive(
    em: EntityManager,
    taskId: string,
    seq: number,
    paths: string[],
  ): Promise<void> {
    const sql = this.sql(em);
    const inList = sql.list(3, paths.length);
    await em.query(
      `DELETE FROM ${sql.table} WHERE "task_id" = ${sql.p(1)} AND "first_seq" = ${sql.p(2)} AND "last_seq" IS NULL AND "path" IN (${inList})`,
      [taskId, seq, ...paths],
    );
    await em.query(
      `UPDATE ${sql.table} SET "last_seq" = ${sql.p(1)} WHERE "task_id" = ${sql.p(2)} AND "last_seq" IS NULL AND "path" IN (${inList})`,
      [seq - 1, taskId, ...paths],
    );
  }

  /**
   * One multi-row INSERT of stored-file records (issue #21): TypeORM's `em.insert` of 500
   * records built a named parameter per value and rewrote the statement for each (5,500 of
   * them), then merged the generated ids back into the objects: 0.14 ms of CPU per file, the
   * largest cost of the engine around a small file's transfer (docs/benchmarks.md). Columns and
   * values still come from the entity's metadata (names, transformers, the driver's own value
   * preparation), so a column added to VersionFileEntity is written here too.
   */
  private async insertStored(
    em: EntityManager,
    taskId: string,
    seq: number,
    batch: StoredFile[],
  ): Promise<void> {
    const sql = this.sql(em);
    const { columns, names } = sql.insert;
    const driver = em.connection.driver;
    const params: unknown[] = [];
    for (const s of batch) {
      const row: Omit<VersionFileEntity, 'id'> = { ...s, taskId, firstSeq: seq, lastSeq: null };
      for (const c of columns) {
        const v = driver.preparePersistentValue(
          (row as Record<string, unknown>)[c.propertyName],
          c,
        ) as unknown;
        params.push(v === undefined ? null : v);
      }
    }
    await em.query(
      `INSERT INTO ${sql.table} (${names}) VALUES ${sql.tuples(batch.length, columns.length)}`,
      params,
    );
  }

  private sql(em: EntityManager): LedgerSql {
    this.sqlCache ??= ledgerSql(em, this.db.isPostgres, IN_BATCH);
    return this.sqlCache;
  }
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
