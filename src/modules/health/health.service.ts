import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { isLockNotGranted } from 'src/common/db-errors';
import { AppConfig } from 'src/config/app-config';
import { mysqlPool } from 'src/database/transactions';
import { ExecutorRef } from 'src/modules/publishing/executor';
import { PublisherService } from 'src/modules/publishing/publisher.service';

interface Dependency {
  status: 'up' | 'down';
  latencyMs?: number;
  error?: string;
}

/** mysql2's pool: connections open, lent out, and requests waiting for one. */
export interface PoolFigures {
  limit: number | null;
  open: number;
  inUse: number;
  waiting: number;
}

/** A transaction that may hold the audit chain head (InnoDB's view; the oldest first). */
export interface LockHolder {
  connectionId: number;
  seconds: number;
  state: string | null;
  query: string | null;
  user?: string | null;
  host?: string | null;
}

export interface ChainHeadProbe {
  status: 'up' | 'down';
  error?: string;
  /** Who holds it, where the database says: innodb_trx joined with the processlist. */
  holders?: LockHolder[];
}

export interface HealthReport {
  status: 'ok' | 'error';
  database: Dependency & { type: string; pool?: PoolFigures; chainHead?: ChainHeadProbe };
  redis?: Dependency;
  publishing?: {
    executor: string;
    due: number;
    oldestDueAt: Date | null;
    failed: number;
    queue: Record<string, number> | null;
  };
}

const TIMEOUT_MS = 2000;

/** A pool with every connection lent out and this many requests queued is failing. */
const POOL_WAITING_LIMIT = 10;

/** How long the audit chain head may stay locked by others before /health calls it wedged. */
const HEAD_PROBE_MS = 1000;

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(
        () => reject(new Error(`${what} did not answer in ${TIMEOUT_MS} ms`)),
        TIMEOUT_MS,
      ).unref(),
    ),
  ]);
}

async function probe(fn: () => Promise<unknown>, what: string): Promise<Dependency> {
  const t0 = Date.now();
  try {
    await withTimeout(fn(), what);
    return { status: 'up', latencyMs: Date.now() - t0 };
  } catch (e) {
    return { status: 'down', error: e instanceof Error ? e.message : String(e) };
  }
}

@Injectable()
export class HealthService implements OnModuleDestroy {
  private redis?: Redis;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly publisher: PublisherService,
    private readonly executor: ExecutorRef,
  ) {
    if (config.redisUrl) {
      this.redis = new Redis(config.redisUrl, {
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        connectTimeout: TIMEOUT_MS,
        retryStrategy: (times) => Math.min(times * 500, 5000),
      });
      this.redis.on('error', () => undefined);
    }
  }

  async check(): Promise<HealthReport> {
    const database = {
      type: this.dataSource.options.type === 'mysql' ? 'mysql' : 'sqlite',
      ...(await probe(() => this.dataSource.query('SELECT 1'), 'database')),
    };
    const report: HealthReport = { status: 'ok', database };
    const pool = this.poolFigures();
    if (pool) (database as HealthReport['database']).pool = pool;
    if (database.status === 'up' && this.dataSource.options.type === 'mysql') {
      (database as HealthReport['database']).chainHead = await this.probeChainHead();
    }
    if (this.redis) {
      const redis = this.redis;
      report.redis = await probe(async () => {
        if (redis.status === 'wait' || redis.status === 'end') await redis.connect();
        await redis.ping();
      }, 'redis');
    }
    if (database.status === 'up') {
      // Figures, not a verdict: a backlog is for the propaganda department to see, not a reason to restart.
      const stats = await this.publisher.stats().catch(() => null);
      const queue =
        report.redis?.status === 'up' ? await this.executor.queueStats().catch(() => null) : null;
      if (stats) report.publishing = { executor: this.executor.kind, ...stats, queue };
    }
    if (
      database.status !== 'up' ||
      report.redis?.status === 'down' ||
      report.database.chainHead?.status === 'down' ||
      (pool && pool.waiting >= POOL_WAITING_LIMIT)
    )
      report.status = 'error';
    return report;
  }

  private poolFigures(): PoolFigures | undefined {
    const pool = mysqlPool(this.dataSource);
    if (!pool) return undefined;
    const open = pool._allConnections?.length ?? 0;
    return {
      limit: pool.config?.connectionLimit ?? null,
      open,
      inUse: open - (pool._freeConnections?.length ?? 0),
      waiting: pool._connectionQueue?.length ?? 0,
    };
  }

  /**
   * Can the audit chain head be locked right now? Every audited write needs it; a
   * transaction stuck while holding it (a wedged process) stops them all, while
   * `SELECT 1` still answers. NOWAIT: the probe never queues behind the holder.
   */
  private async probeChainHead(): Promise<ChainHeadProbe> {
    const attempt = async (): Promise<void> => {
      const qr = this.dataSource.createQueryRunner();
      try {
        await qr.connect();
        // Appends hold the head for milliseconds: only a head that stays locked for the
        // whole window counts, or /health would flap under ordinary load.
        const until = Date.now() + HEAD_PROBE_MS;
        for (;;) {
          await qr.startTransaction();
          try {
            await qr.query('SELECT id FROM audit_chain_head WHERE id = 1 FOR UPDATE NOWAIT');
            return;
          } catch (e) {
            if (!isLockNotGranted(e) || Date.now() >= until) throw e;
          } finally {
            await qr.rollbackTransaction();
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
        await qr.release();
      }
    };
    try {
      await withTimeout(attempt(), 'audit chain head');
      return { status: 'up' };
    } catch (e) {
      const holders = await withTimeout(this.lockHolders(), 'lock holders').catch(() => undefined);
      return {
        status: 'down',
        error: `audit chain head cannot be locked: ${e instanceof Error ? e.message : String(e)}`,
        ...(holders ? { holders } : {}),
      };
    }
  }

  /** Open transactions that hold row locks, oldest first; the head's holder is among them. */
  private async lockHolders(): Promise<LockHolder[]> {
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      'SELECT t.trx_mysql_thread_id AS connectionId, ' +
        'TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) AS seconds, t.trx_state AS state, ' +
        'p.USER AS user, p.HOST AS host, p.INFO AS query ' +
        'FROM information_schema.innodb_trx t ' +
        'LEFT JOIN information_schema.processlist p ON p.ID = t.trx_mysql_thread_id ' +
        'WHERE t.trx_lock_structs > 0 AND t.trx_mysql_thread_id <> CONNECTION_ID() ' +
        'ORDER BY t.trx_started LIMIT 5',
    );
    return rows.map((r) => ({
      connectionId: Number(r.connectionId),
      seconds: Number(r.seconds),
      state: (r.state as string | null) ?? null,
      query: r.query == null ? null : String(r.query).slice(0, 200),
      user: (r.user as string | null) ?? null,
      host: (r.host as string | null) ?? null,
    }));
  }

  async onModuleDestroy(): Promise<void> {
    this.redis?.disconnect();
  }
}
