import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import { AppConfig } from 'src/config/app-config';
import { ExecutorRef, PublicationExecutor } from 'src/modules/publishing/executor';
import { PublisherService } from 'src/modules/publishing/publisher.service';
import { safeMessage } from 'src/common/log-safe';

/**
 * The embedded default: claims due rows from the publication table itself, with
 * a lease, and runs up to PUBLISH_CONCURRENCY attempts at once. Retries and
 * scheduling are the table's `nextAttemptAt`. Single-instance by design: two
 * gateways on one SQLite file are not supported (leases would still keep them
 * from sending one publication twice at a time).
 */
@Injectable()
export class InProcessExecutor
  extends PublicationExecutor
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  readonly kind = 'in-process' as const;
  private readonly logger = new Logger(InProcessExecutor.name);
  private readonly inflight = new Map<string, Promise<unknown>>();
  private timer?: NodeJS.Timeout;
  private ticking = false;
  private again = false;
  private stopped = true;

  constructor(
    private readonly publisher: PublisherService,
    private readonly config: AppConfig,
    ref: ExecutorRef,
  ) {
    super();
    ref.attach(this);
  }

  onApplicationBootstrap(): void {
    if (!this.config.publishing.workersInApi) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Before the database closes: stop taking work and let running attempts record their outcome. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.inflight.values()]);
  }

  notify(): void {
    if (this.stopped) return;
    if (this.ticking) this.again = true;
    else this.schedule(0);
  }

  queueStats(): Promise<null> {
    return Promise.resolve(null);
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    this.ticking = true;
    try {
      const free = this.config.publishing.concurrency - this.inflight.size;
      if (free > 0) {
        const due = await this.publisher.due(free + this.inflight.size);
        for (const { id } of due) {
          if (this.inflight.size >= this.config.publishing.concurrency) break;
          if (this.inflight.has(id)) continue;
          const run = this.publisher
            .attempt(id)
            .catch((e: unknown) => this.logger.error(`publication ${id}: ${safeMessage(e)}`))
            .finally(() => {
              this.inflight.delete(id);
              this.notify();
            });
          this.inflight.set(id, run);
        }
      }
    } catch (e) {
      this.logger.warn(`outbox scan failed: ${safeMessage(e)}`);
    } finally {
      this.ticking = false;
    }
    if (this.stopped) return;
    if (this.again) {
      this.again = false;
      this.schedule(0);
    } else {
      this.schedule(this.config.publishing.pollMs);
    }
  }
}
