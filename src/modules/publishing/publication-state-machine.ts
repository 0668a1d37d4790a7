import type { PublicationStatus } from 'src/modules/publishing/publication.entity';

/**
 * The publication lifecycle as one pure table, like the post's. Each event names
 * a move of `publications.status`; `publicationTransition` is the only place that
 * decides what the status becomes, and `PublicationStore.move` the only writer.
 */
export const PUBLICATION_EVENTS = [
  'enqueue',
  'claim',
  'accept',
  'deliver',
  'schedule_retry',
  'fail',
  'cancel',
  'take_down',
  'request_retry',
] as const;
export type PublicationEvent = (typeof PUBLICATION_EVENTS)[number];

/** Where every publication begins (the `enqueue` event). */
export const INITIAL_PUBLICATION_STATUS: PublicationStatus = 'queued';

export type PublicationActor = 'system' | 'propaganda_reviewer';

export interface PublicationRow {
  readonly from: readonly PublicationStatus[];
  readonly event: PublicationEvent;
  /** `same` keeps the status (a claim or a poll of a take-down). */
  readonly to: PublicationStatus | 'same';
  readonly who: PublicationActor;
}

export const PUBLICATION_TRANSITIONS: readonly PublicationRow[] = Object.freeze([
  // A claim takes a lease; an expired lease (a crashed attempt) is claimed again.
  { from: ['queued', 'sending'], event: 'claim', to: 'sending', who: 'system' },
  { from: ['retracting'], event: 'claim', to: 'retracting', who: 'system' },
  // The platform took it but answers later (WeChat's asynchronous publish): poll again.
  { from: ['sending', 'retracting'], event: 'accept', to: 'same', who: 'system' },
  { from: ['sending'], event: 'deliver', to: 'published', who: 'system' },
  { from: ['retracting'], event: 'deliver', to: 'retracted', who: 'system' },
  { from: ['sending'], event: 'schedule_retry', to: 'queued', who: 'system' },
  { from: ['retracting'], event: 'schedule_retry', to: 'retracting', who: 'system' },
  { from: ['sending', 'retracting'], event: 'fail', to: 'failed', who: 'system' },
  // 撤稿: what has not gone out is cancelled; what has (or may have) is taken down.
  { from: ['queued', 'failed'], event: 'cancel', to: 'cancelled', who: 'propaganda_reviewer' },
  {
    from: ['published', 'sending'],
    event: 'take_down',
    to: 'retracting',
    who: 'propaganda_reviewer',
  },
  { from: ['failed'], event: 'request_retry', to: 'queued', who: 'propaganda_reviewer' },
] satisfies PublicationRow[]);

export type PublicationOperation = 'publish' | 'retract';

/**
 * The status an event moves a publication to, or null when the table has no such
 * move. `operation` tells a take-down's moves apart from a publication's where the
 * status alone does not (a failed take-down is retried as a take-down).
 */
export function publicationTransition(
  from: PublicationStatus,
  event: PublicationEvent,
  operation: PublicationOperation = from === 'retracting' ? 'retract' : 'publish',
): PublicationStatus | null {
  if (event === 'enqueue') return INITIAL_PUBLICATION_STATUS;
  if (event === 'request_retry' && from === 'failed') {
    return operation === 'retract' ? 'retracting' : 'queued';
  }
  if (event === 'cancel' && from === 'failed' && operation !== 'publish') return null;
  const row = PUBLICATION_TRANSITIONS.find((r) => r.event === event && r.from.includes(from));
  if (!row) return null;
  return row.to === 'same' ? from : row.to;
}

/** Statuses the executor still has work for. */
export const DUE_STATUSES: readonly PublicationStatus[] = Object.freeze([
  'queued',
  'sending',
  'retracting',
]);

export function isDue(status: PublicationStatus): boolean {
  return DUE_STATUSES.includes(status);
}
