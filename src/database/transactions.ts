import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { isRetryableConflict } from 'src/common/db-errors';

const MAX_ATTEMPTS = 5;

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
  /** Pooled MySQL connections whose session is set up already. */
  private readonly prepared = new WeakSet<object>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.serial = dataSource.options.type === 'better-sqlite3';
  }

  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.serial) return this.withRetry(work);
    const result = this.tail.then(() => this.dataSource.transaction(work));
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async withRetry<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(work);
      } catch (e) {
        if (attempt >= MAX_ATTEMPTS || !isRetryableConflict(e)) throw e;
        this.logger.warn(`transaction conflict, retry ${attempt}`);
        await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
      }
    }
  }

  /**
   * One MySQL transaction. READ COMMITTED is set once per pooled connection, not
   * per transaction: a `SET TRANSACTION` before every `START TRANSACTION` would be
   * one more statement on every write.
   */
  private async once<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const qr = this.dataSource.createQueryRunner();
    try {
      await qr.connect();
      const conn = (qr as unknown as { databaseConnection: object }).databaseConnection;
      if (!this.prepared.has(conn)) {
        await qr.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
        this.prepared.add(conn);
      }
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
