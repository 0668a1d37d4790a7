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
