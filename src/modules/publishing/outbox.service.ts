import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditActor, AuditService } from 'src/modules/audit/audit.service';
import { ExecutorRef } from 'src/modules/publishing/executor';
import { Publication } from 'src/modules/publishing/publication.entity';
import { PublicationStore } from 'src/modules/publishing/publication-store';

/** What an approval hands to publishing: the approved revision and where it goes. */
export interface ApprovedContent {
  postId: string;
  revisionId: string;
  contentHash: string;
  channelIds: string[];
  publishAt: Date | null;
}

/** A publication as the post's view shows it. */
export interface PublicationSummary {
  id: string;
  channelId: string;
  status: Publication['status'];
  attempts: number;
  revisionId: string;
  contentHash: string;
  externalId: string | null;
  url: string | null;
  lastError: string | null;
  lastErrorCode: string | null;
  publishedAt: Date | null;
}

export function toPublicationSummary(p: Publication): PublicationSummary {
  return {
    id: p.id,
    channelId: p.channelId,
    status: p.status,
    attempts: p.attempts,
    revisionId: p.revisionId,
    contentHash: p.contentHash,
    externalId: p.externalId,
    url: p.url,
    lastError: p.lastError,
    lastErrorCode: p.lastErrorCode ?? (p.lastError ? 'PUBLISH_FAILED' : null),
    publishedAt: p.publishedAt,
  };
}

/**
 * Publishing's door for the review workflow: an approval enqueues, a retraction
 * stops. Both run inside the caller's transaction, so the outbox rows commit
 * exactly when the decision does; `notify()` after commit wakes the executor.
 */
@Injectable()
export class Outbox {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly store: PublicationStore,
    private readonly audit: AuditService,
    private readonly executor: ExecutorRef,
  ) {}

  /** One outbox row per target channel, carrying the approved revision and its hash. */
  async enqueue(m: EntityManager, c: ApprovedContent, now: Date): Promise<Publication[]> {
    const due = c.publishAt && c.publishAt > now ? c.publishAt : now;
    const rows = c.channelIds.map((channelId) =>
      Object.assign(new Publication(), {
        id: randomUUID(),
        postId: c.postId,
        channelId,
        revisionId: c.revisionId,
        contentHash: c.contentHash,
        operation: 'publish',
        attempts: 0,
        leaseOwner: null,
        leaseUntil: null,
        lastAttemptAt: null,
        adapterState: null,
        nextAttemptAt: due,
        lastError: null,
        lastErrorCode: null,
        externalId: null,
        url: null,
        publishedAt: null,
        createdAt: now,
        updatedAt: now,
      }),
    );
    await this.store.insert(m, rows);
    return rows;
  }

  /**
   * 撤稿: what has not gone out is cancelled; what has (or may have) is marked
   * for taking down. The rows move first and their audit events follow, all
   * appended by the caller's transaction after its own row changes.
   */
  async stop(
    m: EntityManager,
    postId: string,
    actor: AuditActor,
    now: Date,
  ): Promise<{ counts: Record<'cancelled' | 'retracting', number>; events: AuditEvents }> {
    const rows = await m.findBy(Publication, { postId });
    const counts = { cancelled: 0, retracting: 0 };
    const events: AuditEvents = [];
    for (const p of rows) {
      const cancel = p.status === 'queued' || (p.status === 'failed' && p.operation === 'publish');
      const takeDown = p.status === 'published' || p.status === 'sending';
      if (!cancel && !takeDown) continue;
      const to = cancel
        ? await this.store.move(m, p, 'cancel', { nextAttemptAt: null, updatedAt: now })
        : await this.store.move(m, p, 'take_down', {
            operation: 'retract',
            attempts: 0,
            nextAttemptAt: now,
            lastError: null,
            lastErrorCode: null,
            updatedAt: now,
          });
      if (to !== 'cancelled' && to !== 'retracting') continue;
      counts[to]++;
      events.push({
        action: `publication.${to}`,
        entityType: 'publication',
        entityId: p.id,
        actor,
        fromState: p.status,
        toState: to,
        revisionId: p.revisionId,
        contentHash: p.contentHash,
        details: { postId, channelId: p.channelId },
      });
    }
    return { counts, events };
  }

  /** The post's publications, oldest first. */
  async forPost(postId: string): Promise<PublicationSummary[]> {
    const rows = await this.dataSource
      .getRepository(Publication)
      .find({ where: { postId }, order: { createdAt: 'ASC' } });
    return rows.map(toPublicationSummary);
  }

  /** After commit: new due work may exist, so the executor looks now rather than at its next tick. */
  notify(): void {
    this.executor.notify();
  }

  /** Appends events gathered by `stop` (last in the transaction: they take the chain head). */
  async recordAll(m: EntityManager, events: AuditEvents): Promise<void> {
    for (const e of events) await this.audit.record(m, e);
  }
}

type AuditEvents = Parameters<AuditService['record']>[1][];
