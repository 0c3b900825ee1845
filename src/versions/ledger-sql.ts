import type { EntityManager } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import { VersionFileEntity } from './entities/version-file.entity.js';

/**
 * Plain-SQL pieces for the ledger's hot writes (issue #21: TypeORM's `em.insert` of a batch of
 * records cost more than the copy of a small file), per database dialect: placeholders differ
 * (`?` on SQLite, `$n` on PostgreSQL). Table and column names come from VersionFileEntity's
 * metadata, escaped by the driver, so a column added to the entity is written too.
 */
export interface LedgerSql {
  /** The records' table, with its schema where the connection names one. */
  table: string;
  /** The columns an INSERT writes (all but the generated id), and their escaped names. */
  insert: { columns: ColumnMetadata[]; names: string };
  /** The n-th placeholder (1-based). */
  p(n: number): string;
  /** `n` placeholders from the `from`-th, comma-separated. */
  list(from: number, n: number): string;
  /** VALUES tuples for `rows` rows of `width` columns. */
  tuples(rows: number, width: number): string;
}

/** Built once per repository; `fullRows` is the batch size whose VALUES text is kept. */
export function ledgerSql(em: EntityManager, postgres: boolean, fullRows: number): LedgerSql {
  const meta = em.connection.getMetadata(VersionFileEntity);
  const driver = em.connection.driver;
  const columns = meta.columns.filter((c) => !c.isGenerated);
  const p = (n: number) => (postgres ? `$${n}` : '?');
  const list = (from: number, n: number) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(p(from + i));
    return out.join(', ');
  };
  let full: string | undefined;
  const tuples = (rows: number, width: number): string => {
    // A full batch's VALUES text is the same every time: built once (and SQLite's statement
    // cache, keyed by the text, prepares it once).
    if (rows === fullRows && full !== undefined) return full;
    const out: string[] = [];
    for (let r = 0; r < rows; r++) out.push(`(${list(r * width + 1, width)})`);
    const text = out.join(', ');
    if (rows === fullRows) full = text;
    return text;
  };
  return {
    // As TypeORM's query builder writes it.
    table: meta.tablePath
      .split('.')
      .map((part) => driver.escape(part))
      .join('.'),
    insert: { columns, names: columns.map((c) => driver.escape(c.databaseName)).join(', ') },
    p,
    list,
    tuples,
  };
}
