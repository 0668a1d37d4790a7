import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { isRetryableConflict } from 'src/common/db-errors';
import { AppConfig } from 'src/config/app-config';

const MAX_ATTEMPTS = 5;
/**
 * No retry starts after this long: a lock-wait timeout (DB_LOCK_WAIT_TIMEOUT_SECONDS) already
 * used it up, so the client gets its 503 then instead of minutes later.
 */
export const RETRY_BUDGET_MS = 2000;

/** The parts of mysql2's pool /health reads and the session set-up hooks into. */
export interface MysqlPool {
  on(event: 'connection', listener: (conn: MysqlPoolConnection) => void): void;
  _allConnections?: { length: number; toArray?: () => MysqlPoolConnection[] };
  _freeConnections?: { length: number };
  _connectionQueue?: { length: number };
  config?: { connectionLimit?: number };
}
interface MysqlPoolConnection {
  query(sql: string, cb: (err: Error | null) => void): void;
}

export function mysqlPool(dataSource: DataSource): MysqlPool | undefined {
  if (dataSource.options.type !== 'mysql') return undefined;
  return (dataSource.driver as unknown as { pool?: MysqlPool }).pool;
}

/**
 * Runs a unit of work in one database transaction.
 *
 * SQLite has one writing connection per process: transactions are queued here so
 * two requests never interleave inside one (and reads outside a transaction go to a
 * read-only connection, see sqlite-read-connection.ts). MySQL transactions that lose a deadlock
 * are retried whole; the work must therefore be free of outside side effects.
 */
@Injectable()
export class Transactions {
  private readonly logger = new Logger(Transactions.name);
  private readonly serial: boolean;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly lockWaitSeconds: number;
  private preparedPool?: MysqlPool;
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    config: AppConfig,
  ) {
    this.serial = dataSource.options.type === 'better-sqlite3';
    this.lockWaitSeconds = config.dbLockWaitTimeoutSeconds;
    this.preparePool();
  }

  /** A data source destroyed and initialized again has a new pool: hook that one too. */
  private preparePool(): void {
    const pool = mysqlPool(this.dataSource);
    if (!pool || pool === this.preparedPool) return;
    this.preparedPool = pool;
    this.prepareSessions(pool, this.lockWaitSeconds);
  }

  /**
   * Every pooled MySQL session, once, when the pool opens it (so statements outside
   * `run` are covered too): READ COMMITTED, and a short lock wait, so that no request
   * waits on a lock longer than its client would. Two statements, not one: MySQL 8
   * names the isolation variable transaction_isolation, MariaDB 10.11 tx_isolation,
   * and `SET SESSION TRANSACTION ...` cannot share a SET with a variable. mysql2 runs
   * a connection's commands in order, so both precede whatever acquired it.
   */
  private prepareSessions(pool: MysqlPool, lockWaitSeconds: number): void {
    const prepare = (conn: MysqlPoolConnection) => {
      const done = (err: Error | null) => {
        if (err) this.logger.warn(`session set-up failed: ${err.message}`);
      };
      conn.query(`SET SESSION innodb_lock_wait_timeout = ${Math.trunc(lockWaitSeconds)}`, done);
      conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', done);
    };
    pool.on('connection', prepare);
    // Opened while the data source started (its probe, the migrations): idle in the pool now.
    for (const conn of pool._allConnections?.toArray?.() ?? []) prepare(conn);
  }

  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.serial) return this.withRetry(work);
    const result = this.tail.then(() => this.dataSource.transaction(work));
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async withRetry<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(work);
      } catch (e) {
        if (
          attempt >= MAX_ATTEMPTS ||
          !isRetryableConflict(e) ||
          Date.now() - started > RETRY_BUDGET_MS
        )
          throw e;
        this.logger.warn(`transaction conflict, retry ${attempt}`);
        await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
      }
    }
  }

  /**
   * One MySQL transaction. READ COMMITTED is set once per pooled connection (see
   * prepareSessions), not per transaction: a `SET TRANSACTION` before every
   * `START TRANSACTION` would be one more statement on every write.
   */
  private async once<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    this.preparePool();
    const qr = this.dataSource.createQueryRunner();
    try {
      await qr.connect();
      await qr.startTransaction();
      const result = await work(qr.manager);
      await qr.commitTransaction();
      return result;
    } catch (e) {
      if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
      throw e;
    } finally {
      await qr.release();
    }
  }
}
