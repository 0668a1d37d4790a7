import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Brackets, DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { AppConfig } from 'src/config/app-config';
import { Transactions } from 'src/database/transactions';
import { AuditInput, AuditService } from 'src/modules/audit/audit.service';
import { Channel } from 'src/modules/channels/channel.entity';
import { ChannelsService } from 'src/modules/channels/channels.service';
import { Post, PostRevision } from 'src/modules/posts/post.entity';
import { AdapterRegistry } from 'src/modules/publishing/adapters/adapter-registry';
import {
  AdapterError,
  AdapterResult,
  Operation,
  PublishContent,
} from 'src/modules/publishing/adapters/channel-adapter';
import { backoffDelay } from 'src/modules/publishing/backoff';
import { Publication, PublicationStatus } from 'src/modules/publishing/publication.entity';
import { transitionFor } from 'src/modules/review/post-state-machine';

/** The result of one attempt, for the executor (BullMQ maps `retry` onto its own backoff). */
export type AttemptOutcome =
  | { kind: 'skipped' }
  | { kind: 'published' | 'retracted' | 'pending' }
  | { kind: 'retry'; delayMs: number; error: string }
  | { kind: 'failed'; error: string };

export interface UpcomingRow {
  id: string;
  status: PublicationStatus;
  nextAttemptAt: Date;
  attempts: number;
  leaseUntil: Date | null;
}

/** The delivery id receivers de-duplicate on: one per publication and operation, stable across retries. */
export function deliveryId(publicationId: string, operation: Operation): string {
  return `msg_${publicationId.replace(/-/g, '')}_${operation}`;
}

const DUE_STATUSES: PublicationStatus[] = ['queued', 'sending', 'retracting'];

const EARLY_MS = 250;

/**
 * Executes the publication outbox, one attempt at a time, whichever executor
 * drives it. Each attempt: claim the row with a lease (guarded UPDATE + audit
 * event, committed), call the channel's adapter outside any transaction, then
 * record the outcome (guarded UPDATE + audit event, and the post's move to
 * `published` when its last publication lands). A crash between the two leaves
 * a lease that expires; the next attempt uses the same delivery id.
 */
@Injectable()
export class PublisherService {
  private readonly logger = new Logger(PublisherService.name);
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tx: Transactions,
    private readonly audit: AuditService,
    private readonly channels: ChannelsService,
    private readonly adapters: AdapterRegistry,
    private readonly config: AppConfig,
  ) {}

  /** Ids of publications due now (queued, retracting, or holding an expired lease), oldest first. */
  async due(limit: number, now = new Date()): Promise<{ id: string }[]> {
    return this.dueQuery(now)
      .select(['p.id', 'p.nextAttemptAt'])
      .orderBy('p.nextAttemptAt', 'ASC')
      .limit(limit)
      .getMany();
  }

  /** Publications waiting for a future time (scheduled or backing off), for delayed jobs. */
  async upcoming(until: Date, limit: number): Promise<UpcomingRow[]> {
    return (await this.dataSource
      .getRepository(Publication)
      .createQueryBuilder('p')
      .select(['p.id', 'p.status', 'p.nextAttemptAt', 'p.attempts', 'p.leaseUntil'])
      .where('p.status IN (:...statuses)', { statuses: DUE_STATUSES })
      .andWhere('p.nextAttemptAt <= :until', { until })
      .andWhere(
        new Brackets((w) =>
          w.where('p.leaseUntil IS NULL').orWhere('p.leaseUntil < :now', { now: new Date() }),
        ),
      )
      .orderBy('p.nextAttemptAt', 'ASC')
      .limit(limit)
      .getMany()) as UpcomingRow[];
  }

  /** Depth and age of the outbox, for /health. */
  async stats(
    now = new Date(),
  ): Promise<{ due: number; oldestDueAt: Date | null; failed: number }> {
    const [due, oldest, failed] = await Promise.all([
      this.dueQuery(now).getCount(),
      this.dueQuery(now)
        .select('MIN(p.nextAttemptAt)', 'oldest')
        .getRawOne<{ oldest: string | Date | null }>(),
      this.dataSource.getRepository(Publication).countBy({ status: 'failed' }),
    ]);
    const o = oldest?.oldest;
    return {
      due,
      oldestDueAt: o
        ? new Date(typeof o === 'string' && !o.endsWith('Z') ? `${o.replace(' ', 'T')}Z` : o)
        : null,
      failed,
    };
  }

  /** One attempt on one publication. Safe to call for any id at any time: the claim decides. */
  async attempt(publicationId: string): Promise<AttemptOutcome> {
    const claimed = await this.claim(publicationId);
    if (!claimed) return { kind: 'skipped' };
    const { pub, operation, polling } = claimed;
    let result: AdapterResult | undefined;
    let error: AdapterError | undefined;
    try {
      result = await this.callAdapter(pub, operation, polling);
    } catch (e) {
      error =
        e instanceof AdapterError
          ? e
          : new AdapterError(e instanceof Error ? e.message : String(e), true);
      if (!(e instanceof AdapterError)) this.logger.warn(`publication ${pub.id}: ${error.message}`);
    }
    return this.record(pub, operation, result, error);
  }

  private dueQuery(now: Date) {
    return this.dataSource
      .getRepository(Publication)
      .createQueryBuilder('p')
      .where('p.status IN (:...statuses)', { statuses: DUE_STATUSES })
      .andWhere('p.nextAttemptAt <= :now', { now })
      .andWhere(
        new Brackets((w) =>
          w.where('p.leaseUntil IS NULL').orWhere('p.leaseUntil < :now', { now }),
        ),
      );
  }

  private claim(
    id: string,
  ): Promise<{ pub: Publication; operation: Operation; polling: boolean } | null> {
    return this.tx.run(async (m) => {
      const now = new Date();
      const pub = await m.findOneBy(Publication, { id });
      if (!pub || !DUE_STATUSES.includes(pub.status)) return null;
      // A timer may fire a little early; within that skew the row counts as due.
      if (!pub.nextAttemptAt || pub.nextAttemptAt.getTime() > now.getTime() + EARLY_MS) return null;
      if (pub.leaseUntil && pub.leaseUntil >= now) return null;
      const operation: Operation = pub.status === 'retracting' ? 'retract' : 'publish';
      const polling = pub.adapterState?.pending === true;
      // A lease that ran out mid-attempt is a crash: that attempt counts, and this one repeats it.
      const status: PublicationStatus = operation === 'retract' ? 'retracting' : 'sending';
      const attempts = polling ? pub.attempts : pub.attempts + 1;
      const res = await m
        .createQueryBuilder()
        .update(Publication)
        .set({
          status,
          attempts,
          leaseOwner: this.owner,
          leaseUntil: new Date(now.getTime() + this.config.publishing.leaseSeconds * 1000),
          lastAttemptAt: now,
          updatedAt: now,
        })
        .where('id = :id AND status = :status AND attempts = :attempts', {
          id,
          status: pub.status,
          attempts: pub.attempts,
        })
        .andWhere(
          new Brackets((w) => w.where('leaseUntil IS NULL').orWhere('leaseUntil < :now', { now })),
        )
        .execute();
      if (res.affected !== 1) return null;
      if (!polling) {
        await this.audit.record(m, {
          action: operation === 'retract' ? 'publication.retract_attempt' : 'publication.sending',
          entityType: 'publication',
          entityId: id,
          actor: null,
          fromState: pub.status,
          toState: status,
          revisionId: pub.revisionId,
          contentHash: pub.contentHash,
          details: {
            postId: pub.postId,
            channelId: pub.channelId,
            attempt: attempts,
            deliveryId: deliveryId(id, operation),
          },
        });
      }
      Object.assign(pub, { status, attempts, leaseOwner: this.owner });
      return { pub, operation, polling };
    });
  }

  private async callAdapter(
    pub: Publication,
    operation: Operation,
    polling: boolean,
  ): Promise<AdapterResult> {
    const [channel, rev, credentials] = await Promise.all([
      this.dataSource.getRepository(Channel).findOneByOrFail({ id: pub.channelId }),
      this.dataSource.getRepository(PostRevision).findOneByOrFail({ id: pub.revisionId }),
      this.channels.credentialsOf(pub.channelId),
    ]);
    // What goes out is the approved revision, checked against the hash the approval bound to.
    const content: PublishContent = {
      postId: pub.postId,
      publicationId: pub.id,
      revisionId: rev.id,
      revisionNumber: rev.number,
      contentHash: rev.contentHash,
      title: rev.title,
      summary: rev.summary,
      body: rev.body,
      coverImageUrl: rev.coverImageUrl,
      channel: { id: channel.id, name: channel.name },
    };
    if (rev.contentHash !== pub.contentHash) {
      throw new AdapterError('the revision does not carry the approved content hash', false);
    }
    const adapter = this.adapters.for(channel.platform);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.config.publishing.timeoutMs);
    try {
      const ctx = {
        channel,
        credentials,
        deliveryId: deliveryId(pub.id, operation),
        attempt: pub.attempts,
        // A take-down names the published article (WeChat: its article_id).
        state: {
          ...(pub.adapterState ?? {}),
          externalId: pub.externalId,
          ...(operation === 'retract' ? { articleId: pub.externalId } : {}),
        },
        signal: controller.signal,
      };
      if (polling && adapter.poll) return await adapter.poll(content, ctx, operation);
      return operation === 'retract'
        ? await adapter.retract(content, ctx)
        : await adapter.publish(content, ctx);
    } finally {
      clearTimeout(timer);
    }
  }

  private record(
    pub: Publication,
    operation: Operation,
    result: AdapterResult | undefined,
    error: AdapterError | undefined,
  ): Promise<AttemptOutcome> {
    return this.tx.run(async (m) => {
      const now = new Date();
      const held = { id: pub.id, status: pub.status, leaseOwner: this.owner };
      const release = { leaseOwner: null, leaseUntil: null, updatedAt: now };
      const base = {
        revisionId: pub.revisionId,
        contentHash: pub.contentHash,
        entityType: 'publication',
        entityId: pub.id,
        actor: null,
      };
      const details = {
        postId: pub.postId,
        channelId: pub.channelId,
        attempt: pub.attempts,
        deliveryId: deliveryId(pub.id, operation),
      };

      if (result?.kind === 'done') {
        const to: PublicationStatus = operation === 'retract' ? 'retracted' : 'published';
        const patch: Partial<Publication> =
          operation === 'retract'
            ? { ...release, status: to, nextAttemptAt: null, lastError: null, adapterState: null }
            : {
                ...release,
                status: to,
                nextAttemptAt: null,
                lastError: null,
                adapterState: null,
                externalId: result.externalId ?? pub.externalId,
                url: result.url ?? pub.url,
                publishedAt: now,
              };
        if (!(await this.guarded(m, held, patch, result))) return { kind: 'skipped' };
        // Row changes first, audit events last: the chain head stays locked only from here to commit.
        const postDone =
          operation === 'publish' ? await this.completePost(m, pub.postId, now) : null;
        await this.audit.record(m, {
          ...base,
          action: operation === 'retract' ? 'publication.retracted' : 'publication.sent',
          fromState: pub.status,
          toState: to,
          details: { ...details, externalId: patch.externalId ?? null, url: patch.url ?? null },
        });
        if (postDone) await this.audit.record(m, postDone);
        return { kind: operation === 'retract' ? 'retracted' : 'published' };
      }

      if (result?.kind === 'pending') {
        const patch = {
          ...release,
          nextAttemptAt: new Date(now.getTime() + result.pollAfterMs),
          adapterState: { ...result.state, pending: true },
          externalId: result.externalId ?? pub.externalId,
          lastError: null,
        };
        if (!(await this.guarded(m, held, patch, result))) return { kind: 'skipped' };
        if (!pub.adapterState?.pending) {
          await this.audit.record(m, {
            ...base,
            action: 'publication.accepted',
            fromState: pub.status,
            toState: pub.status,
            details: { ...details, externalId: patch.externalId ?? null },
          });
        }
        return { kind: 'pending' };
      }

      const err = error ?? new AdapterError('no result', true);
      const message = err.message.slice(0, 2000);
      const keepState = err.state
        ? { adapterState: { ...(pub.adapterState ?? {}), ...err.state } }
        : {};
      if (err.retryable && pub.attempts < this.config.publishing.maxAttempts) {
        const delayMs =
          err.retryAfterMs ?? backoffDelay(this.config.publishing.backoffMs, pub.attempts);
        const back: PublicationStatus = operation === 'retract' ? 'retracting' : 'queued';
        const patch = {
          ...release,
          ...keepState,
          status: back,
          nextAttemptAt: new Date(now.getTime() + delayMs),
          lastError: message,
        };
        if (!(await this.guarded(m, held, patch))) return { kind: 'skipped' };
        await this.audit.record(m, {
          ...base,
          action: 'publication.retry_scheduled',
          fromState: pub.status,
          toState: back,
          comment: message,
          details: { ...details, retryInMs: delayMs },
        });
        return { kind: 'retry', delayMs, error: message };
      }
      const patch = {
        ...release,
        // A permanent failure keeps no adapter state: a manual retry starts afresh.
        adapterState: null,
        status: 'failed' as const,
        nextAttemptAt: null,
        lastError: message,
      };
      if (!(await this.guarded(m, held, patch))) return { kind: 'skipped' };
      await this.audit.record(m, {
        ...base,
        action: 'publication.failed',
        fromState: pub.status,
        toState: 'failed',
        comment: message,
        details: { ...details, operation, retryable: err.retryable },
      });
      return { kind: 'failed', error: message };
    });
  }

  /**
   * Writes an outcome only while this executor still holds the row in the state
   * it claimed. If the row moved meanwhile (a retraction turned `sending` into
   * `retracting`), only the lease is released, keeping what the platform answered
   * so a take-down can find the article.
   */
  private async guarded(
    m: EntityManager,
    held: { id: string; status: PublicationStatus; leaseOwner: string },
    patch: Partial<Publication>,
    result?: AdapterResult,
  ): Promise<boolean> {
    const res = await m.update(Publication, held, patch as QueryDeepPartialEntity<Publication>);
    if (res.affected === 1) return true;
    const keep: Partial<Publication> = { leaseOwner: null, leaseUntil: null };
    if (result && 'externalId' in result && result.externalId) keep.externalId = result.externalId;
    await m.update(
      Publication,
      { id: held.id, leaseOwner: held.leaseOwner },
      keep as QueryDeepPartialEntity<Publication>,
    );
    return false;
  }

  /** approved → published, by the system, when the last of its publications has landed. */
  /** Moves the post if this was its last publication; returns the audit event to append, if any. */
  private async completePost(
    m: EntityManager,
    postId: string,
    now: Date,
  ): Promise<AuditInput | null> {
    // Take the post's row lock first: two last publications landing at once must not each
    // count the other as still open (READ COMMITTED write skew) and leave the post approved.
    await m.query('UPDATE posts SET version = version WHERE id = ?', [postId]);
    const post = await m.findOneBy(Post, { id: postId });
    if (!post || post.state !== 'approved') return null;
    const open = await m
      .getRepository(Publication)
      .createQueryBuilder('p')
      .where('p.postId = :postId AND p.status != :done', { postId, done: 'published' })
      .getCount();
    if (open > 0) return null;
    const row = transitionFor(post.state, 'publish');
    const res = await m
      .createQueryBuilder()
      .update(Post)
      .set({ state: row.to, version: () => 'version + 1', stateChangedAt: now, updatedAt: now })
      .where('id = :id AND state = :state AND version = :version', {
        id: post.id,
        state: post.state,
        version: post.version,
      })
      .execute();
    if (res.affected !== 1) return null;
    return {
      action: 'post.published',
      entityType: 'post',
      entityId: post.id,
      actor: null,
      fromState: post.state,
      toState: row.to,
      revisionId: post.currentRevisionId,
      details: { round: post.round },
    };
  }
}
