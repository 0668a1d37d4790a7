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
import { chainHash, HASHED_FIELDS } from 'src/modules/audit/audit-hash';

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
const EVENT_COLUMNS = [...HASHED_FIELDS, 'prevHash', 'hash'] as const;

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
    await manager.query(
      INSERT_EVENT,
      EVENT_COLUMNS.map((c) => event[c]),
    );
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
