import Database from 'better-sqlite3';
import type { Database as Connection, Statement } from 'better-sqlite3';
import { DataSource, QueryFailedError } from 'typeorm';
import type { BetterSqlite3Driver } from 'typeorm/driver/better-sqlite3/BetterSqlite3Driver';
import { BetterSqlite3QueryRunner } from 'typeorm/driver/better-sqlite3/BetterSqlite3QueryRunner';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';
import { SQLITE_BUSY_TIMEOUT_MS } from 'src/database/data-source-options';

/**
 * Keeps the embedded SQLite from showing one request's uncommitted rows to another.
 *
 * TypeORM's better-sqlite3 driver has one connection and hands the same query runner
 * to everybody, so a plain read issued while another request's transaction waits
 * between two awaits runs inside that transaction. Here every caller gets its own
 * runner on the same connection, and:
 * - a read-only statement outside a transaction goes to a second, read-only connection
 *   to the same file, which in WAL mode sees committed data only;
 * - a transaction takes the main connection's turn from BEGIN to COMMIT/ROLLBACK, and a
 *   write outside a transaction waits for that turn instead of joining someone else's
 *   transaction (and vanishing with its rollback);
 * - an in-memory database cannot be opened twice: reads outside a transaction wait
 *   for the turn as writes do.
 * A wait longer than the busy timeout fails as SQLITE_BUSY, as it would between two
 * processes; that also surfaces code that writes outside the transaction it runs in.
 */
export function installSqliteReadConnection(dataSource: DataSource): void {
  const driver = dataSource.driver as BetterSqlite3Driver;
  const conns = new SqliteConnections(driver);
  const afterConnect = driver.afterConnect.bind(driver);
  const disconnect = driver.disconnect.bind(driver);
  driver.afterConnect = async () => {
    await afterConnect();
    await conns.openReader();
  };
  driver.disconnect = async () => {
    conns.closeReader();
    await disconnect();
  };
  driver.createQueryRunner = () => new SqliteQueryRunner(driver, conns);
}

/** The main connection's turn (FIFO), the read-only connection and both statement caches. */
class SqliteConnections {
  private reader: Connection | null = null;
  private owner: object | null = null;
  private readonly queue: { who: object; granted: () => void }[] = [];
  private readonly caches = new Map<Connection, Map<string, Statement>>();
  private readonly cacheSize: number;

  constructor(private readonly driver: BetterSqlite3Driver) {
    const size = driver.options.statementCacheSize;
    this.cacheSize = typeof size === 'number' ? size : 100;
  }

  get main(): Connection {
    return this.driver.databaseConnection as Connection;
  }

  readConnection(): Connection | null {
    return this.reader;
  }

  async openReader(): Promise<void> {
    const file = this.driver.options.database;
    if (file === ':memory:' || file === '' || this.reader) return;
    const reader = new Database(file, {
      readonly: true,
      fileMustExist: true,
      timeout: SQLITE_BUSY_TIMEOUT_MS,
    });
    try {
      if (this.driver.options.key)
        reader.pragma(`key = ${JSON.stringify(this.driver.options.key)}`);
      await this.driver.options.prepareDatabase?.(reader);
    } catch (e) {
      reader.close();
      throw e;
    }
    this.reader = reader;
  }

  closeReader(): void {
    const reader = this.reader;
    this.reader = null;
    if (reader) {
      this.caches.delete(reader);
      reader.close();
    }
  }

  statement(db: Connection, sql: string): Statement {
    let cache = this.caches.get(db);
    if (!cache) this.caches.set(db, (cache = new Map()));
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      if (this.cacheSize <= 0) return stmt;
      cache.set(sql, stmt);
      // Map keeps insertion order: drop the oldest.
      while (cache.size > this.cacheSize) cache.delete(cache.keys().next().value!);
    }
    return stmt;
  }

  holds(who: object): boolean {
    return this.owner === who;
  }

  acquire(who: object, sql: string, parameters: unknown[]): Promise<void> {
    if (this.owner === null) {
      this.owner = who;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const entry = {
        who,
        granted: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.queue.splice(this.queue.indexOf(entry), 1);
        const err = Object.assign(
          new Error(`database is locked: a transaction kept it over ${SQLITE_BUSY_TIMEOUT_MS} ms`),
          { code: 'SQLITE_BUSY' },
        );
        reject(new QueryFailedError(sql, parameters, err));
      }, SQLITE_BUSY_TIMEOUT_MS);
      this.queue.push(entry);
    });
  }

  release(who: object): void {
    if (this.owner !== who) return;
    // Handed straight to the next in line, so nobody can slip in between.
    const next = this.queue.shift();
    this.owner = next ? next.who : null;
    next?.granted();
  }
}

const isRead = (s: Statement) => s.reader && s.readonly;

class SqliteQueryRunner extends BetterSqlite3QueryRunner {
  constructor(
    driver: BetterSqlite3Driver,
    private readonly conns: SqliteConnections,
  ) {
    super(driver);
    // The base query() prepares through this private method; one cache for all runners.
    Object.assign(this, { getStmt: (sql: string) => Promise.resolve(this.statementFor(sql)) });
  }

  private statementFor(sql: string): Statement {
    const stmt = this.conns.statement(this.conns.main, sql);
    const reader = this.conns.readConnection();
    if (this.isTransactionActive || !reader || !isRead(stmt)) return stmt;
    return this.conns.statement(reader, sql);
  }

  override async query(sql: string, parameters: unknown[] = [], structured = false) {
    if (this.isTransactionActive || this.isReleased)
      return super.query(sql, parameters, structured);
    let stmt: Statement;
    try {
      stmt = this.conns.statement(this.conns.main, sql);
    } catch {
      return super.query(sql, parameters, structured); // reports the error as TypeORM does
    }
    if (isRead(stmt) && this.conns.readConnection())
      return super.query(sql, parameters, structured);
    await this.conns.acquire(this, sql, parameters);
    try {
      return await super.query(sql, parameters, structured);
    } finally {
      this.conns.release(this);
    }
  }

  override async startTransaction(isolationLevel?: IsolationLevel): Promise<void> {
    const outermost = this.transactionDepth === 0;
    if (outermost) await this.conns.acquire(this, 'BEGIN TRANSACTION', []);
    try {
      await super.startTransaction(isolationLevel);
    } catch (e) {
      if (outermost) {
        this.isTransactionActive = false;
        this.conns.release(this);
      }
      throw e;
    }
  }

  override async commitTransaction(): Promise<void> {
    await super.commitTransaction();
    if (!this.isTransactionActive) this.conns.release(this);
  }

  override async rollbackTransaction(): Promise<void> {
    await super.rollbackTransaction();
    if (!this.isTransactionActive) this.conns.release(this);
  }

  override async release(): Promise<void> {
    if (this.conns.holds(this)) {
      // COMMIT and ROLLBACK both failed: leave the connection usable for the next in line.
      try {
        if (this.conns.main.inTransaction) this.conns.main.exec('ROLLBACK');
      } finally {
        this.isTransactionActive = false;
        this.transactionDepth = 0;
        this.conns.release(this);
      }
    }
    return super.release();
  }
}
