import type { EntityManager } from 'typeorm';
import { DateUtils } from 'typeorm/util/DateUtils';

/**
 * Plain SQL for the hot paths, where the query builder shows in the profile.
 * Both drivers take `?` placeholders; only datetimes and write results differ.
 */

/** A datetime as the driver binds it: mysql2 formats a Date itself (UTC); SQLite stores text. */
export function toDbTime(m: EntityManager, d: Date): Date | string {
  return m.connection.options.type === 'mysql' ? d : DateUtils.mixedDateToUtcDatetimeString(d);
}

/** A datetime read back by a raw query: a Date from mysql2, UTC text from SQLite. */
export function fromDbTime(v: Date | string | null | undefined): Date | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v;
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v.replace(' ', 'T')}Z`);
}

/** Runs a write inside the caller's transaction and answers how many rows it changed. */
export async function execute(m: EntityManager, sql: string, params: unknown[]): Promise<number> {
  const runner = m.queryRunner;
  if (!runner) throw new Error('execute() must run inside a transaction');
  const res = (await runner.query(sql, params, true)) as { affected?: number };
  return res.affected ?? 0;
}
