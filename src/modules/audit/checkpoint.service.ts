import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppConfig } from 'src/config/app-config';
import { Transactions } from 'src/database/transactions';
import { AuditCheckpoint, CheckpointReason } from 'src/modules/audit/audit-checkpoint.entity';
import { AuditActor, AuditService } from 'src/modules/audit/audit.service';
import {
  CHECKPOINT_ALGORITHM,
  CheckpointDocument,
  keyIdOf,
  publicKeyOf,
  signCheckpoint,
} from 'src/modules/audit/checkpoint-signature';
import { ListCheckpointsQuery } from 'src/modules/audit/dto/list-checkpoints.query';
import { safeMessage } from 'src/common/log-safe';

/** A checkpoint as the API gives it: the saveable document plus its id and why it was taken. */
export interface CheckpointView extends CheckpointDocument {
  id: number;
  reason: CheckpointReason;
}

export interface PublicKeyView {
  algorithm: typeof CHECKPOINT_ALGORITHM;
  keyId: string;
  publicKeyPem: string;
}

export function toCheckpointView(c: AuditCheckpoint): CheckpointView {
  return {
    id: c.id,
    reason: c.reason,
    statement: {
      lastEventId: c.lastEventId,
      headHash: c.headHash,
      count: c.count,
      time: c.createdAt,
    },
    signature: c.signature,
    keyId: c.keyId,
    algorithm: CHECKPOINT_ALGORITHM,
  };
}

/**
 * Signed checkpoints of the audit chain. Whoever can write the database can
 * rewrite an event and recompute every later hash, and `verify` will pass; a
 * checkpoint kept outside the database, signed with a key the database does
 * not hold, cannot be recomputed and exposes that.
 */
@Injectable()
export class CheckpointService {
  private readonly keyId: string;

  constructor(
    @InjectRepository(AuditCheckpoint) private readonly checkpoints: Repository<AuditCheckpoint>,
    private readonly tx: Transactions,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {
    this.keyId = keyIdOf(config.auditSigningKey);
  }

  /**
   * Signs the chain head as it stands before this checkpoint's own event, then
   * appends that event, in one transaction under the head lock. A periodic
   * checkpoint is skipped (null) when nothing but the previous checkpoint's
   * own event has been appended since it.
   */
  create(reason: 'manual', actor: AuditActor | null): Promise<CheckpointView>;
  create(reason: 'periodic', actor?: null): Promise<CheckpointView | null>;
  create(
    reason: CheckpointReason,
    actor: AuditActor | null = null,
  ): Promise<CheckpointView | null> {
    return this.tx.run(async (m) => {
      const head = await this.audit.lockHead(m);
      const [last] = (await m.query(
        'SELECT MAX(id) AS id, MAX(lastEventId) AS lastEventId FROM audit_checkpoints',
      )) as { id: number | string | null; lastEventId: number | string | null }[];
      if (
        reason === 'periodic' &&
        (head.lastEventId === 0 ||
          (last.lastEventId !== null && head.lastEventId <= Number(last.lastEventId) + 1))
      ) {
        return null;
      }
      const doc = signCheckpoint(
        {
          lastEventId: head.lastEventId,
          headHash: head.headHash,
          // Ids are contiguous from 1, so the last id is the count.
          count: head.lastEventId,
          time: new Date().toISOString(),
        },
        this.config.auditSigningKey,
      );
      const c = m.create(AuditCheckpoint, {
        id: Number(last.id ?? 0) + 1,
        lastEventId: doc.statement.lastEventId,
        headHash: doc.statement.headHash,
        count: doc.statement.count,
        createdAt: doc.statement.time,
        signature: doc.signature,
        keyId: doc.keyId,
        reason,
      });
      await m.insert(AuditCheckpoint, c);
      await this.audit.record(m, {
        action: 'audit.checkpoint_created',
        entityType: 'audit_checkpoint',
        entityId: String(c.id),
        actor,
        details: { lastEventId: c.lastEventId, headHash: c.headHash, keyId: c.keyId, reason },
      });
      return toCheckpointView(c);
    });
  }

  /** Newest first, keyset paging on the id. */
  async list(
    q: ListCheckpointsQuery,
  ): Promise<{ items: CheckpointView[]; nextCursor: number | null }> {
    const limit = q.limit ?? 50;
    const qb = this.checkpoints.createQueryBuilder('c');
    if (q.cursor !== undefined) qb.where('c.id < :cursor', { cursor: q.cursor });
    const rows = await qb
      .orderBy('c.id', 'DESC')
      .limit(limit + 1)
      .getMany();
    const items = rows.slice(0, limit);
    return {
      items: items.map(toCheckpointView),
      nextCursor: rows.length > limit ? items[items.length - 1].id : null,
    };
  }

  publicKey(): PublicKeyView {
    return {
      algorithm: CHECKPOINT_ALGORITHM,
      keyId: this.keyId,
      publicKeyPem: publicKeyOf(this.config.auditSigningKey)
        .export({ type: 'spki', format: 'pem' })
        .toString(),
    };
  }
}

/**
 * Periodic checkpoints (AUDIT_CHECKPOINT_INTERVAL_SECONDS): a timer that only the
 * API root registers, so a CLI command or a worker never starts one.
 */
@Injectable()
export class CheckpointScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('AuditCheckpoints');
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly checkpoints: CheckpointService,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const seconds = this.config.auditCheckpointIntervalSeconds;
    if (seconds <= 0) return;
    // unref: a pending checkpoint never keeps a test process alive.
    this.timer = setInterval(() => this.tick(), seconds * 1000).unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    // Let a checkpoint being taken commit before the database closes.
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.checkpoints
      .create('periodic')
      .then((c) => {
        if (c)
          this.logger.log(`audit checkpoint ${c.id} signed events 1..${c.statement.lastEventId}`);
      })
      .catch((e: unknown) =>
        this.logger.warn(`periodic audit checkpoint failed: ${safeMessage(e)}`),
      )
      .finally(() => {
        this.running = undefined;
      });
  }
}
