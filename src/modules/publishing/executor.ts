import { Injectable } from '@nestjs/common';

/** Queue and job names: never renamed once shipped (jobs in Redis carry them). */
export const PUBLICATIONS_QUEUE = 'sanshen-publications';
export const ATTEMPT_JOB = 'attempt';

/** What drives the outbox: in process (no Redis) or BullMQ (Redis). */
export abstract class PublicationExecutor {
  /** New due work may exist (an approval or retraction just committed): look now, not at the next tick. */
  abstract notify(): void;
  abstract readonly kind: 'in-process' | 'bullmq';
  /** Queue-side figures for /health (null when the executor has none). */
  abstract queueStats(): Promise<Record<string, number> | null>;
}

/**
 * Where the rest of publishing reaches whichever executor this process runs, if
 * any: an API or a worker attaches one; the CLI attaches none, so nothing there
 * ever delivers. Approvals call `notify()` after commit through the Outbox.
 */
@Injectable()
export class ExecutorRef {
  private executor: PublicationExecutor | null = null;

  attach(executor: PublicationExecutor): void {
    this.executor = executor;
  }

  notify(): void {
    this.executor?.notify();
  }

  get kind(): PublicationExecutor['kind'] | 'none' {
    return this.executor?.kind ?? 'none';
  }

  queueStats(): Promise<Record<string, number> | null> {
    return this.executor ? this.executor.queueStats() : Promise.resolve(null);
  }
}
