import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from 'src/config/app-config';
// eslint-disable-next-line no-restricted-imports -- migrations/ lies outside src/, so no src/... path reaches it
import { MIGRATIONS } from '../../migrations';

/** SQLite waits this long for a lock (another process, or this one's open transaction). */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

/**
 * One description of the database, shared by the app, the migration CLI, the tests and benches.
 * Entities come from each module's `TypeOrmModule.forFeature` (autoLoadEntities); a standalone
 * data source (migrations, benches) passes the few it reads, if any.
 */
export function dataSourceOptions(
  db: DatabaseConfig,
  entities: DataSourceOptions['entities'] = [],
): DataSourceOptions {
  const common = {
    entities,
    migrations: MIGRATIONS,
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
    logging: false as const,
  };
  if (db.type === 'sqlite') {
    return {
      ...common,
      type: 'better-sqlite3',
      database: db.path,
      enableWAL: true,
      // Busy waits instead of SQLITE_BUSY when a second process (a CLI) touches the file.
      // Also applied to the read-only connection (sqlite-read-connection.ts).
      prepareDatabase: (conn: { pragma: (s: string) => unknown }) => {
        conn.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
        conn.pragma('foreign_keys = ON');
        conn.pragma('synchronous = NORMAL');
      },
    };
  }
  return {
    ...common,
    type: 'mysql',
    url: db.url,
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: false,
    // Several statements in one round trip: the audit append (AuditService) sends its
    // three as one. Every statement of the project binds its values as parameters.
    extra: { connectionLimit: 20, multipleStatements: true },
  };
}
