import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { currentRequestContext } from 'src/common/request-context';
import { canonicalJson } from 'src/common/canonical-json';
import { AuditEvent } from 'src/modules/audit/audit-event.entity';
import { chainHash, GENESIS_HASH, HASHED_FIELDS, HashedEvent } from 'src/modules/audit/audit-hash';

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

const VERIFY_BATCH = 2000;

interface HeadRow {
  lastEventId: number | string;
  headHash: string;
}

type RawEvent = Omit<HashedEvent, 'id'> & { id: number | string; prevHash: string; hash: string };

const SELECT_HASHED = [...HASHED_FIELDS, 'prevHash', 'hash'].join(', ');

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
    const head = await this.lockHead(manager);
    const ctx = currentRequestContext();
    const event = new AuditEvent();
    event.id = head.lastEventId + 1;
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
    await manager.query('UPDATE audit_chain_head SET lastEventId = ?, headHash = ? WHERE id = 1', [
      event.id,
      event.hash,
    ]);
    return event;
  }

  /**
   * Takes the chain head for this transaction. MySQL: a row lock (SELECT … FOR
   * UPDATE). SQLite: a write first, so the transaction holds the RESERVED lock
   * before it reads and never needs a lock upgrade that could fail as busy.
   */
  private async lockHead(
    manager: EntityManager,
  ): Promise<{ lastEventId: number; headHash: string }> {
    if (this.isMysql) {
      const [row] = (await manager.query(
        'SELECT lastEventId, headHash FROM audit_chain_head WHERE id = 1 FOR UPDATE',
      )) as HeadRow[];
      return { lastEventId: Number(row.lastEventId), headHash: row.headHash };
    }
    await manager.query('UPDATE audit_chain_head SET lastEventId = lastEventId WHERE id = 1');
    const [row] = (await manager.query(
      'SELECT lastEventId, headHash FROM audit_chain_head WHERE id = 1',
    )) as HeadRow[];
    return { lastEventId: Number(row.lastEventId), headHash: row.headHash };
  }

  /**
   * Recomputes the chain up to the head as it stands when verify starts, in
   * keyset pages (memory stays flat however long it is), yielding between
   * pages, and names the first event that does not match. Events appended while
   * it runs are left for the next verify; the head and its event commit
   * together, so reading the head first never reports a false break.
   */
  async verify(): Promise<VerifyResult> {
    const [headRow] = (await this.dataSource.query(
      'SELECT lastEventId, headHash FROM audit_chain_head WHERE id = 1',
    )) as HeadRow[];
    const head = { lastEventId: Number(headRow.lastEventId), headHash: headRow.headHash };
    let prev = GENESIS_HASH;
    let expectedId = 1;
    while (expectedId <= head.lastEventId) {
      const batch = (await this.dataSource.query(
        `SELECT ${SELECT_HASHED} FROM audit_events WHERE id >= ? AND id <= ? ORDER BY id LIMIT ${VERIFY_BATCH}`,
        [expectedId, head.lastEventId],
      )) as RawEvent[];
      if (batch.length === 0) break;
      for (const raw of batch) {
        const e = { ...raw, id: Number(raw.id) } as HashedEvent & {
          prevHash: string;
          hash: string;
        };
        const checked = expectedId - 1;
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
      }
      await new Promise((r) => setImmediate(r));
    }
    const checked = expectedId - 1;
    const [{ maxId }] = (await this.dataSource.query(
      'SELECT MAX(id) AS maxId FROM audit_events',
    )) as {
      maxId: number | string | null;
    }[];
    if (maxId !== null && Number(maxId) > head.lastEventId) {
      // Appended after we read the head, or written past it by hand: only the latter is a break.
      const [{ nowHead }] = (await this.dataSource.query(
        'SELECT lastEventId AS nowHead FROM audit_chain_head WHERE id = 1',
      )) as { nowHead: number | string }[];
      if (Number(maxId) > Number(nowHead)) {
        return {
          ok: false,
          checked,
          brokenAt: Number(nowHead) + 1,
          reason: 'events exist beyond the chain head',
        };
      }
    }
    if (checked !== head.lastEventId) {
      return { ok: false, checked, brokenAt: expectedId, reason: `event ${expectedId} is missing` };
    }
    if (prev !== head.headHash) {
      return {
        ok: false,
        checked,
        brokenAt: checked,
        reason: 'the chain head does not match the last event',
        expected: head.headHash,
        found: prev,
      };
    }
    return { ok: true, checked, headHash: prev };
  }

  private get isMysql(): boolean {
    return this.dataSource.options.type === 'mysql';
  }
}
