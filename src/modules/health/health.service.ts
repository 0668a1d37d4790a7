import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { AppConfig } from 'src/config/app-config';
import { ExecutorRef } from 'src/modules/publishing/executor';
import { PublisherService } from 'src/modules/publishing/publisher.service';

interface Dependency {
  status: 'up' | 'down';
  latencyMs?: number;
  error?: string;
}

export interface HealthReport {
  status: 'ok' | 'error';
  database: Dependency & { type: string };
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
    if (database.status !== 'up' || report.redis?.status === 'down') report.status = 'error';
    return report;
  }

  async onModuleDestroy(): Promise<void> {
    this.redis?.disconnect();
  }
}
