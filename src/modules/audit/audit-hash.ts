import { createHash } from 'node:crypto';
import type { AuditEvent } from 'src/modules/audit/audit-event.entity';

export const GENESIS_HASH = '0'.repeat(64);

/** The fields that are hashed, in their fixed order. `prevHash` and `hash` are the chain itself. */
export const HASHED_FIELDS = [
  'id',
  'createdAt',
  'actorId',
  'actorRole',
  'action',
  'entityType',
  'entityId',
  'fromState',
  'toState',
  'revisionId',
  'contentHash',
  'comment',
  'details',
  'requestId',
  'ip',
  'userAgent',
] as const;

/** Every stored column of an event: the hashed fields and the chain itself. */
export const EVENT_COLUMNS = [...HASHED_FIELDS, 'prevHash', 'hash'] as const;

export type HashedEvent = Pick<AuditEvent, (typeof HASHED_FIELDS)[number]>;

/** The canonical event: a JSON array of the hashed fields in fixed order, nulls explicit. */
export function canonicalEvent(e: HashedEvent): string {
  return JSON.stringify(HASHED_FIELDS.map((f) => e[f] ?? null));
}

/** hash = SHA-256(prevHash ‖ canonical event), hex. */
export function chainHash(prevHash: string, e: HashedEvent): string {
  return createHash('sha256').update(prevHash).update(canonicalEvent(e)).digest('hex');
}
