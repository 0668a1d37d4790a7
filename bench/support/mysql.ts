import { createConnection } from 'mysql2/promise';
import { DataSource, DataSourceOptions } from 'typeorm';
import { dataSourceOptions } from 'src/database/data-source-options';

/** Anything with a `query(sql, params)`: a DataSource, an EntityManager, a mysql2 connection. */
export interface Queryable {
  query: (sql: string, params?: unknown[]) => Promise<unknown>;
}

export function databaseName(url: string): string {
  const db = decodeURIComponent(new URL(url).pathname.slice(1));
  if (!db) throw new Error('BENCH_MYSQL_URL must name a database');
  return db;
}

/**
 * Drops and recreates the database named in `url`. Refuses a name without "bench" in it
 * unless BENCH_ALLOW_DROP=1, so a mistyped URL cannot wipe a real database.
 */
export async function recreateDatabase(url: string): Promise<void> {
  const db = databaseName(url);
  if (!/bench/i.test(db) && process.env.BENCH_ALLOW_DROP !== '1') {
    throw new Error(
      `refusing to drop database "${db}": its name lacks "bench" (set BENCH_ALLOW_DROP=1)`,
    );
  }
  const u = new URL(url);
  u.pathname = '/';
  const conn = await createConnection(u.toString());
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await conn.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await conn.end();
  }
}

/**
 * A DataSource on the app's own options (entities, charset, timezone), initialised and, unless
 * told otherwise, migrated with the app's migrations.
 */
export async function openDatabase(
  url: string,
  opts: {
    connectionLimit?: number;
    migrate?: boolean;
    entities?: DataSourceOptions['entities'];
  } = {},
): Promise<DataSource> {
  const base = dataSourceOptions({ type: 'mysql', url }, opts.entities);
  const ds = new DataSource(
    opts.connectionLimit === undefined
      ? base
      : ({
          ...base,
          extra: { ...(base.extra as object), connectionLimit: opts.connectionLimit },
        } as typeof base),
  );
  await ds.initialize();
  try {
    if (opts.migrate !== false) await ds.runMigrations();
  } catch (e) {
    await ds.destroy();
    throw e;
  }
  return ds;
}

export interface ServerInfo {
  version: string;
  innodbFlushLogAtTrxCommit: string | undefined;
}

export async function serverInfo(q: Queryable): Promise<ServerInfo> {
  const [{ version }] = (await q.query('SELECT VERSION() AS version')) as { version: string }[];
  const [flush] = (await q.query("SHOW VARIABLES LIKE 'innodb_flush_log_at_trx_commit'")) as {
    Value: string;
  }[];
  return { version, innodbFlushLogAtTrxCommit: flush?.Value };
}

export type Counters = Record<string, number>;

/** Server-wide counters from SHOW GLOBAL STATUS (everyone's, not only this database's). */
export async function globalStatus(q: Queryable, names: readonly string[]): Promise<Counters> {
  const list = names.map((n) => `'${n.replace(/'/g, '')}'`).join(',');
  const raw = await q.query(`SHOW GLOBAL STATUS WHERE Variable_name IN (${list})`);
  // mysql2/promise answers [rows, fields]; TypeORM answers rows.
  const rows = (Array.isArray(raw) && Array.isArray(raw[0]) ? raw[0] : raw) as {
    Variable_name: string;
    Value: string;
  }[];
  return Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
}

export const diffCounters = (a: Counters, b: Counters): Counters =>
  Object.fromEntries(Object.keys(b).map((k) => [k, (b[k] ?? 0) - (a[k] ?? 0)]));

/** Multi-row INSERTs of `chunk` rows each. */
export async function insertRows(
  m: Queryable,
  table: string,
  columns: readonly string[],
  rows: unknown[][],
  chunk = 500,
): Promise<void> {
  const tuple = `(${columns.map(() => '?').join(',')})`;
  for (let i = 0; i < rows.length; i += chunk) {
    const part = rows.slice(i, i + chunk);
    await m.query(
      `INSERT INTO ${table} (${columns.join(',')}) VALUES ${part.map(() => tuple).join(',')}`,
      part.flat(),
    );
  }
}

/** The columns of a table in the current database, or null when it does not exist. */
export async function tableColumns(q: Queryable, table: string): Promise<string[] | null> {
  const rows = (await q.query(
    `SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    [table],
  )) as { c: string }[];
  return rows.length ? rows.map((r) => r.c) : null;
}
