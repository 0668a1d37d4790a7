import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { currentRequestContext } from 'src/common/request-context';
import { canonicalJson } from 'src/common/canonical-json';
import { AuditEvent } from 'src/modules/audit/audit-event.entity';
import {
  CHAIN_START,
  readChainHead,
  settleChainWalk,
  walkStoredChain,
} from 'src/modules/audit/audit-chain';
import { canonicalEvent, chainHash, EVENT_COLUMNS } from 'src/modules/audit/audit-hash';

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

/** Every column of an event, in one plain INSERT: the chain head is held while it runs. */

const INSERT_EVENT = `INSERT INTO audit_events (${EVENT_COLUMNS.join(', ')}) VALUES (${EVENT_COLUMNS.map(() => '?').join(', ')})`;

interface HeadRow {
  lastEventId: number | string;
  headHash: string;
}

@Injectable()
export class AuditService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Appends one event inside the caller's transaction, so it commits exactly
   * when the change it records does. Call it last in the transaction: the
   * chain head stays locked from here until commit.
   */
  async record(manager: EntityManager, input: AuditInput): Promise<void> {
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error('AuditService.record must run inside a transaction');
    }
    const event = this.eventOf(input);
    if (this.isMysql) return this.appendInOneTrip(manager, event);
    const head = await this.lockHead(manager);
    event.id = head.lastEventId + 1;
    event.prevHash = head.headHash;
    event.hash = chainHash(event.prevHash, event);
    await manager.query(
      INSERT_EVENT,
      EVENT_COLUMNS.map((c) => event[c]),
    );
    await manager.query('UPDATE audit_chain_head SET lastEventId = ?, headHash = ? WHERE id = 1', [
      event.id,
      event.hash,
    ]);
  }

  /**
   * MySQL: the head is locked, the event inserted with its hash computed by the
   * server (SHA2 over the same bytes `chainHash` hashes), and the head moved, in
   * one round trip. The lock is then held for that trip and the COMMIT only,
   * never across a turn of this process's event loop, however busy it is.
   */
  private async appendInOneTrip(manager: EntityManager, event: AuditEvent): Promise<void> {
    // The canonical event is `[id,…rest]`; the server fills in the id it assigns.
    const rest = canonicalEvent({ ...event, id: 0 }).slice('[0'.length);
    const fields = EVENT_COLUMNS.filter((c) => c !== 'id' && c !== 'prevHash' && c !== 'hash');
    await manager.query(
      'UPDATE audit_chain_head SET lastEventId = lastEventId + 1 WHERE id = 1; ' +
        `INSERT INTO audit_events (id, ${fields.join(', ')}, prevHash, hash) ` +
        `SELECT h.lastEventId, ${fields.map(() => '?').join(', ')}, h.headHash, ` +
        "SHA2(CONCAT(h.headHash, '[', h.lastEventId, ?), 256) FROM audit_chain_head h WHERE h.id = 1; " +
        'UPDATE audit_chain_head h JOIN audit_events e ON e.id = h.lastEventId ' +
        'SET h.headHash = e.hash WHERE h.id = 1',
      [...fields.map((c) => event[c]), rest],
    );
  }

  private eventOf(input: AuditInput): AuditEvent {
    const ctx = currentRequestContext();
    const event = new AuditEvent();
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
    return event;
  }

  /**
   * Takes the chain head for this transaction. MySQL: a row lock (SELECT … FOR
   * UPDATE). SQLite: a write first, so the transaction holds the RESERVED lock
   * before it reads and never needs a lock upgrade that could fail as busy.
   * Checkpoints take it too, to read the head their own event will follow.
   */
  async lockHead(manager: EntityManager): Promise<{ lastEventId: number; headHash: string }> {
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
   * Recomputes the chain up to the head as it stands when verify starts and
   * names the first event that does not match. Events appended while it runs
   * are left for the next verify; the head and its event commit together, so
   * reading the head first never reports a false break.
   */
  async verify(): Promise<VerifyResult> {
    const head = await readChainHead(this.dataSource);
    const walk = await walkStoredChain(this.dataSource, CHAIN_START, head.lastEventId);
    const checked = walk.position.nextId - 1;
    const broken = await settleChainWalk(this.dataSource, walk, head);
    if (broken) return { ok: false, checked, ...broken };
    return { ok: true, checked, headHash: walk.position.prevHash };
  }

  private get isMysql(): boolean {
    return this.dataSource.options.type === 'mysql';
  }
}
