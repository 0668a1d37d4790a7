import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { currentRequestContext } from 'src/common/request-context';
import { canonicalJson } from 'src/common/canonical-json';
import { AuditEvent } from 'src/modules/audit/audit-event.entity';
import { chainHash, GENESIS_HASH } from 'src/modules/audit/audit-hash';

export interface AuditActor {
  id: string;
  roles: readonly string[];
}

export interface AuditInput {
  action: string;
  entityType: string;
  entityId?: string | null;
  /** The person who acted; null for the system itself (seeding, the publisher). */
  actor: AuditActor | null;
  fromState?: string | null;
  toState?: string | null;
  revisionId?: string | null;
  contentHash?: string | null;
  comment?: string | null;
  details?: Record<string, unknown> | null;
}

export type VerifyResult =
  | { ok: true; checked: number; headHash: string }
  | {
      ok: false;
      checked: number;
      brokenAt: number | null;
      reason: string;
      expected?: string;
      found?: string;
    };

const VERIFY_BATCH = 5000;

@Injectable()
export class AuditService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Appends one event inside the caller's transaction, so it commits exactly
   * when the change it records does. Call it last in the transaction: the
   * chain head stays locked from here until commit.
   */
  async record(manager: EntityManager, input: AuditInput): Promise<AuditEvent> {
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error('AuditService.record must run inside a transaction');
    }
    // Taking the head row with a write first serialises appenders on MySQL
    // (row X-lock) and on SQLite (RESERVED lock) without lock upgrades.
    await manager.query('UPDATE audit_chain_head SET lastEventId = lastEventId + 1 WHERE id = 1');
    const [head] = (await manager.query(
      'SELECT lastEventId, headHash FROM audit_chain_head WHERE id = 1',
    )) as { lastEventId: number | string; headHash: string }[];
    const ctx = currentRequestContext();
    const event = new AuditEvent();
    event.id = Number(head.lastEventId);
    event.createdAt = new Date().toISOString();
    event.actorId = input.actor?.id ?? null;
    event.actorRole = input.actor ? input.actor.roles.join(',') : 'system';
    event.action = input.action;
    event.entityType = input.entityType;
    event.entityId = input.entityId ?? null;
    event.fromState = input.fromState ?? null;
    event.toState = input.toState ?? null;
    event.revisionId = input.revisionId ?? null;
    event.contentHash = input.contentHash ?? null;
    event.comment = input.comment ?? null;
    event.details = input.details ? canonicalJson(input.details) : null;
    event.requestId = ctx?.requestId ?? null;
    event.ip = ctx?.ip ?? null;
    event.userAgent = ctx?.userAgent ?? null;
    event.prevHash = head.headHash;
    event.hash = chainHash(event.prevHash, event);
    await manager.insert(AuditEvent, event);
    await manager.query('UPDATE audit_chain_head SET headHash = ? WHERE id = 1', [event.hash]);
    return event;
  }

  /**
   * Recomputes the whole chain in keyset pages (memory stays flat however long
   * it is) and names the first event that does not match.
   */
  async verify(): Promise<VerifyResult> {
    const repo = this.dataSource.getRepository(AuditEvent);
    let prev = GENESIS_HASH;
    let expectedId = 1;
    let checked = 0;
    for (;;) {
      const batch = await repo
        .createQueryBuilder('e')
        .where('e.id >= :from', { from: expectedId })
        .orderBy('e.id', 'ASC')
        .limit(VERIFY_BATCH)
        .getMany();
      for (const e of batch) {
        if (e.id !== expectedId) {
          return {
            ok: false,
            checked,
            brokenAt: expectedId,
            reason: `event ${expectedId} is missing`,
          };
        }
        if (e.prevHash !== prev) {
          return {
            ok: false,
            checked,
            brokenAt: e.id,
            reason: 'prevHash does not match the previous event',
            expected: prev,
            found: e.prevHash,
          };
        }
        const h = chainHash(prev, e);
        if (h !== e.hash) {
          return {
            ok: false,
            checked,
            brokenAt: e.id,
            reason: 'hash does not match the event content',
            expected: h,
            found: e.hash,
          };
        }
        prev = e.hash;
        expectedId++;
        checked++;
      }
      if (batch.length < VERIFY_BATCH) break;
    }
    const [head] = (await this.dataSource.query(
      'SELECT lastEventId, headHash FROM audit_chain_head WHERE id = 1',
    )) as { lastEventId: number | string; headHash: string }[];
    if (Number(head.lastEventId) !== checked || head.headHash !== prev) {
      return {
        ok: false,
        checked,
        brokenAt: checked + 1,
        reason: `chain head records ${head.lastEventId} events ending in ${head.headHash}; the table holds ${checked} ending in ${prev}`,
      };
    }
    return { ok: true, checked, headHash: prev };
  }
}
