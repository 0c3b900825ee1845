import type { ValueTransformer } from 'typeorm';

/**
 * 64-bit integers (sizes, epoch milliseconds): PostgreSQL's driver returns bigint as a string,
 * SQLite as a number. Values stay below 2^53, so a JS number holds them exactly.
 */
export const bigintNumber: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | number | null) => (v === null || v === undefined ? v : Number(v)),
};

/** Times stored as epoch milliseconds: portable across SQLite and PostgreSQL, indexable, exact. */
export const epochMillis: ValueTransformer = {
  // Duck-typed, not `instanceof Date`: dates from another realm (vm contexts, Jest) must convert too.
  to: (v: Date | null | undefined) =>
    v !== null && v !== undefined && typeof v.getTime === 'function' ? v.getTime() : v,
  from: (v: string | number | null) => (v === null || v === undefined ? v : new Date(Number(v))),
};

/** JSON kept in a text column (SQLite has no json type; one representation for both). */
export const jsonText: ValueTransformer = {
  to: (v: unknown) => (v === undefined ? undefined : JSON.stringify(v)),
  from: (v: string | null) => (v === null || v === undefined ? v : (JSON.parse(v) as unknown)),
};
