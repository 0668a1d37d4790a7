import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { isRetryableConflict } from 'src/database/db-errors';

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
        return await this.dataSource.transaction('READ COMMITTED', work);
      } catch (e) {
        if (attempt >= MAX_ATTEMPTS || !isRetryableConflict(e)) throw e;
        this.logger.warn(`transaction conflict, retry ${attempt}`);
        await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
      }
    }
  }
}
