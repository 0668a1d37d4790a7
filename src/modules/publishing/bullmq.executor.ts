import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import { Job, Queue, Worker } from 'bullmq';
import { producerConnection, workerConnection } from 'src/common/redis-connection';
import { AppConfig } from 'src/config/app-config';
import {
  ATTEMPT_JOB,
  PUBLICATIONS_QUEUE,
  ExecutorRef,
  PublicationExecutor,
} from 'src/modules/publishing/executor';
import { PublisherService } from 'src/modules/publishing/publisher.service';
import { safeMessage } from 'src/common/log-safe';

/** Thrown by the processor so BullMQ retries after exactly the delay the table records. */
class RetryLater extends Error {
  constructor(
    readonly delayMs: number,
    message: string,
  ) {
    super(message);
  }
}

export interface AttemptJob {
  publicationId: string;
}

/** How far ahead the relay places delayed jobs (scheduled posts, backoffs). */
const HORIZON_MS = 5 * 60 * 1000;

/** How long the relay trusts that a job it added is still on its way. */
const REOFFER_MS = 5000;

export function jobIdFor(publicationId: string, status: string): string {
  return `${publicationId}_${status === 'retracting' ? 'retract' : 'publish'}`;
}

/**
 * With Redis: the relay moves due (and soon-due) publications from the table
 * into BullMQ, one job per publication and operation (the job id de-duplicates,
 * so any number of relays may run). If Redis is down the relay logs and tries
 * again; approvals never wait on it, and the table keeps the work.
 */
@Injectable()
export class BullmqExecutor
  extends PublicationExecutor
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  readonly kind = 'bullmq' as const;
  private readonly logger = new Logger('PublicationRelay');
  private timer?: NodeJS.Timeout;
  private stopped = true;
  private running?: Promise<void>;
  private again = false;
  /** Relay passes failed in a row (Redis or the database away). */
  private failures = 0;
  /** What this relay already enqueued, by job id: a row is added again only when it has changed. */
  private readonly enqueued = new Map<string, { key: string; at: number }>();

  /** The producer: fails fast while Redis is away (the table keeps the work meanwhile). */
  private readonly queue: Queue<AttemptJob>;

  constructor(
    private readonly publisher: PublisherService,
    private readonly config: AppConfig,
    ref: ExecutorRef,
  ) {
    super();
    this.queue = new Queue<AttemptJob>(PUBLICATIONS_QUEUE, {
      connection: producerConnection(config.redisUrl!),
      prefix: config.publishing.queuePrefix,
    });
    // Failures surface where the queue is used (relay, /health); the event would repeat them.
    this.queue.on('error', () => undefined);
    ref.attach(this);
  }

  onApplicationBootstrap(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Before the database closes: stop taking work and let running attempts record their outcome. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    // QUIT is refused at once while Redis is away (fail-fast): then drop the socket instead.
    await Promise.race([this.queue.close().catch(() => undefined), sleep(1000)]);
    // (`client` never resolves for a Redis that was never reached: close() dropped that one.)
    await Promise.race([
      this.queue.client.then((c) => c.disconnect()).catch(() => undefined),
      sleep(200),
    ]);
  }

  notify(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  async queueStats(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
  }

  /** One relay pass; exposed for tests and the benchmark. */
  async relay(): Promise<number> {
    const now = Date.now();
    const rows = (await this.publisher.upcoming(new Date(now + HORIZON_MS), 500)).filter((r) => {
      // Unchanged since we enqueued it: the job is waiting (or ran and the row will change).
      const key = `${r.status}|${r.attempts}|${r.nextAttemptAt.getTime()}|${r.leaseUntil?.getTime() ?? ''}`;
      const seen = this.enqueued.get(jobIdFor(r.id, r.status));
      // Re-offered after a while even if unchanged: a job that ran a moment early and found the
      // row not yet due leaves it unchanged, and must not be forgotten.
      return !seen || seen.key !== key || now - seen.at > REOFFER_MS;
    });
    this.forgetOld(now);
    if (!rows.length) return 0;
    await this.queue.addBulk(
      rows.map((r) => ({
        name: ATTEMPT_JOB,
        data: { publicationId: r.id },
        opts: {
          jobId: jobIdFor(r.id, r.status),
          delay: Math.max(0, r.nextAttemptAt.getTime() - now),
          // One more than the table's limit: the publisher itself decides when a row has failed.
          attempts: this.config.publishing.maxAttempts + 1,
          backoff: { type: 'sanshen' },
          removeOnComplete: true,
          removeOnFail: true,
        },
      })),
    );
    for (const r of rows) {
      const key = `${r.status}|${r.attempts}|${r.nextAttemptAt.getTime()}|${r.leaseUntil?.getTime() ?? ''}`;
      this.enqueued.set(jobIdFor(r.id, r.status), { key, at: now });
    }
    return rows.length;
  }

  /** Old entries are dropped so the map stays small. */
  private forgetOld(now: number): void {
    if (this.enqueued.size < 1000) return;
    for (const [id, e] of this.enqueued) if (now - e.at > REOFFER_MS) this.enqueued.delete(id);
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
      });
    }, ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      await this.relay();
      if (this.failures > 0) this.logger.log('relay passes succeed again');
      this.failures = 0;
    } catch (e) {
      // One line when passes start failing, not one per pass: an outage is not a log flood.
      if (this.failures === 0) {
        this.logger.warn(
          `relay pass failed (retrying with backoff, logged again on recovery): ${safeMessage(e)}`,
        );
      }
      this.failures++;
    }
    if (this.stopped) return;
    if (this.failures > 0) {
      this.again = false;
      this.schedule(Math.min(this.config.publishing.pollMs * 2 ** this.failures, 5000));
    } else if (this.again) {
      this.again = false;
      this.schedule(0);
    } else this.schedule(this.config.publishing.pollMs);
  }
}

/** Resolves after `ms` (unref'd: never the reason the process stays up). */
function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/**
 * The BullMQ worker: thin — take the id, let the publisher attempt it, map a retry onto
 * BullMQ's. Built here rather than by @nestjs/bullmq's @Processor, which gives the Worker
 * the queue's connection options: the producer's fail-fast ones (enableOfflineQueue false)
 * make a worker spin at full CPU while Redis is down and never come back. This one has
 * its own connection that waits and reconnects with backoff (see workerConnection).
 */
@Injectable()
export class PublicationsProcessor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('PublicationsWorker');
  private worker?: Worker<AttemptJob, string>;
  /** What was last logged about Redis: one line per change, not one per failed command. */
  private redisState: 'up' | 'down' = 'up';
  private client?: { status: string };
  private lastErrorLogAt = 0;

  constructor(
    private readonly publisher: PublisherService,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const worker = new Worker<AttemptJob, string>(PUBLICATIONS_QUEUE, (job) => this.process(job), {
      connection: workerConnection(this.config.redisUrl!),
      prefix: this.config.publishing.queuePrefix,
      concurrency: this.config.publishing.concurrency,
      settings: {
        backoffStrategy: (_attempts: number, _type?: string, err?: Error) =>
          err instanceof RetryLater ? err.delayMs : 1000,
      },
    });
    worker.on('error', (e) => this.workerError(e));
    void worker.client.then((client) => {
      this.client = client;
      client.on('ready', () => this.redisUp());
      client.on('close', () => this.redisDown());
    });
    this.worker = worker;
  }

  /** Whether this worker can reach Redis now (for /health and tests). */
  get redisReachable(): boolean {
    return this.redisState === 'up';
  }

  /** BullMQ's 'error' event: a connection loss once, other errors at most every 10 s. */
  private workerError(e: Error): void {
    if (this.client && this.client.status !== 'ready') return this.redisDown(e);
    const now = Date.now();
    if (now - this.lastErrorLogAt < 10_000) return;
    this.lastErrorLogAt = now;
    this.logger.warn(`worker error: ${e.message}`);
  }

  private redisDown(e?: Error): void {
    if (this.redisState === 'down') return;
    this.redisState = 'down';
    // BullMQ's commands now wait for the connection; nothing is claimed until it is back.
    this.logger.warn(
      `Redis unreachable${e ? ` (${e.message})` : ''}: not claiming jobs until it is back`,
    );
  }

  private redisUp(): void {
    if (this.redisState === 'up') return;
    this.redisState = 'up';
    this.logger.log('Redis reachable again: claiming jobs');
  }

  /**
   * Running attempts finish (and record their outcome) before the database closes, but
   * within SHUTDOWN_GRACE_MS: with Redis down a graceful close would wait for it forever.
   * An attempt cut short is sent again after its lease (at-least-once).
   */
  async beforeApplicationShutdown(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    const closed = await Promise.race([
      worker.close().then(() => true),
      sleep(this.config.shutdownGraceMs).then(() => false),
    ]);
    if (!closed) {
      this.logger.warn('worker did not stop within its grace period: letting go of its jobs');
      await Promise.race([worker.close(true), sleep(1000)]);
      // Both of its connections: ioredis would otherwise keep reconnecting after the close.
      const blocking = (
        worker as unknown as { blockingConnection?: { disconnect(wait: boolean): unknown } }
      ).blockingConnection;
      await Promise.race([worker.disconnect().catch(() => undefined), sleep(1000)]);
      blocking?.disconnect(false);
    }
  }

  async process(job: Job<AttemptJob>): Promise<string> {
    const outcome = await this.publisher.attempt(job.data.publicationId);
    if (outcome.kind === 'retry') throw new RetryLater(outcome.delayMs, outcome.error);
    return outcome.kind;
  }
}
