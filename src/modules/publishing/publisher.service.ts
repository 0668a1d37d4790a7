import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Brackets, DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { AppConfig } from 'src/config/app-config';
import { fromDbTime } from 'src/database/sql';
import { Transactions } from 'src/database/transactions';
import { AuditService } from 'src/modules/audit/audit.service';
import { ChannelsService } from 'src/modules/channels/channels.service';
import { PostLifecycle } from 'src/modules/posts/post-lifecycle.service';
import { PostsService } from 'src/modules/posts/posts.service';
import { AdapterRegistry } from 'src/modules/publishing/adapters/adapter-registry';
import {
  AdapterError,
  AdapterResult,
  Operation,
  PublishContent,
} from 'src/modules/publishing/adapters/channel-adapter';
import { backoffDelay } from 'src/modules/publishing/backoff';
import { Publication, PublicationStatus } from 'src/modules/publishing/publication.entity';
import { DUE_STATUSES, isDue } from 'src/modules/publishing/publication-state-machine';
import { publicationErrorCode } from 'src/modules/publishing/publication-errors';
import { MoveGuard, PublicationStore } from 'src/modules/publishing/publication-store';
import { safeMessage } from 'src/common/log-safe';

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
    private readonly posts: PostsService,
    private readonly lifecycle: PostLifecycle,
    private readonly store: PublicationStore,
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
      .where('p.status IN (:...statuses)', { statuses: [...DUE_STATUSES] })
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
    return { due, oldestDueAt: fromDbTime(oldest?.oldest), failed };
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
      if (!(e instanceof AdapterError))
        this.logger.warn(`publication ${pub.id}: ${safeMessage(e)}`);
    }
    return this.record(pub, operation, result, error);
  }

  private dueQuery(now: Date) {
    return this.dataSource
      .getRepository(Publication)
      .createQueryBuilder('p')
      .where('p.status IN (:...statuses)', { statuses: [...DUE_STATUSES] })
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
      if (!pub || !isDue(pub.status)) return null;
      // A timer may fire a little early; within that skew the row counts as due.
      if (!pub.nextAttemptAt || pub.nextAttemptAt.getTime() > now.getTime() + EARLY_MS) return null;
      if (pub.leaseUntil && pub.leaseUntil >= now) return null;
      const operation: Operation = pub.status === 'retracting' ? 'retract' : 'publish';
      const polling = pub.adapterState?.pending === true;
      // A lease that ran out mid-attempt is a crash: that attempt counts, and this one repeats it.
      const attempts = polling ? pub.attempts : pub.attempts + 1;
      const status = await this.store.move(
        m,
        pub,
        'claim',
        {
          attempts,
          leaseOwner: this.owner,
          leaseUntil: new Date(now.getTime() + this.config.publishing.leaseSeconds * 1000),
          lastAttemptAt: now,
          updatedAt: now,
        },
        { attempts: pub.attempts, leaseFreeAt: now },
      );
      if (!status) return null;
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
      this.channels.findById(pub.channelId),
      this.posts.revisionById(pub.revisionId),
      this.channels.credentialsOf(pub.channelId),
    ]);
    if (!channel || !rev) throw new AdapterError('the channel or the revision is gone', false);
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

  /** Writes the outcome of an attempt: one handler per kind of outcome, each one transaction. */
  private record(
    pub: Publication,
    operation: Operation,
    result: AdapterResult | undefined,
    error: AdapterError | undefined,
  ): Promise<AttemptOutcome> {
    return this.tx.run((m) => {
      const at: Attempted = { m, pub, operation, now: new Date() };
      if (result?.kind === 'done') return this.recordDone(at, result);
      if (result?.kind === 'pending') return this.recordPending(at, result);
      const err = error ?? new AdapterError('no result', true);
      return err.retryable && pub.attempts < this.config.publishing.maxAttempts
        ? this.recordRetry(at, err)
        : this.recordFailure(at, err);
    });
  }

  /** Delivered (or taken down): the row moves, and the post too if this was its last publication. */
  private async recordDone(
    at: Attempted,
    result: Extract<AdapterResult, { kind: 'done' }>,
  ): Promise<AttemptOutcome> {
    const { m, pub, operation, now } = at;
    const patch: QueryDeepPartialEntity<Publication> = {
      ...release(now),
      nextAttemptAt: null,
      lastError: null,
      lastErrorCode: null,
      adapterState: null,
      ...(operation === 'publish'
        ? {
            externalId: result.externalId ?? pub.externalId,
            url: result.url ?? pub.url,
            publishedAt: now,
          }
        : {}),
    };
    const to = await this.moveHeld(at, 'deliver', patch, result);
    if (!to) return { kind: 'skipped' };
    // Row changes first, audit events last: the chain head stays locked only from here to commit.
    const postDone =
      operation === 'publish'
        ? await this.lifecycle.markPublishedIfComplete(m, pub.postId, now, () =>
            this.allPublished(m, pub.postId),
          )
        : null;
    await this.audit.record(m, {
      ...eventBase(pub),
      action: operation === 'retract' ? 'publication.retracted' : 'publication.sent',
      fromState: pub.status,
      toState: to,
      details: {
        ...eventDetails(pub, operation),
        externalId: (patch.externalId as string | null | undefined) ?? null,
        url: (patch.url as string | null | undefined) ?? null,
      },
    });
    if (postDone) await this.audit.record(m, postDone);
    return { kind: operation === 'retract' ? 'retracted' : 'published' };
  }

  /** The platform took it and answers later: poll again, keeping what it said. */
  private async recordPending(
    at: Attempted,
    result: Extract<AdapterResult, { kind: 'pending' }>,
  ): Promise<AttemptOutcome> {
    const { m, pub, operation, now } = at;
    const externalId = result.externalId ?? pub.externalId;
    const patch = {
      ...release(now),
      nextAttemptAt: new Date(now.getTime() + result.pollAfterMs),
      adapterState: { ...result.state, pending: true },
      externalId,
      lastError: null,
      lastErrorCode: null,
    };
    if (!(await this.moveHeld(at, 'accept', patch, result))) return { kind: 'skipped' };
    if (!pub.adapterState?.pending) {
      await this.audit.record(m, {
        ...eventBase(pub),
        action: 'publication.accepted',
        fromState: pub.status,
        toState: pub.status,
        details: { ...eventDetails(pub, operation), externalId: externalId ?? null },
      });
    }
    return { kind: 'pending' };
  }

  /** A retryable error with attempts left: back to the outbox after the backoff. */
  private async recordRetry(at: Attempted, err: AdapterError): Promise<AttemptOutcome> {
    const { m, pub, operation, now } = at;
    const message = err.message.slice(0, 2000);
    const delayMs =
      err.retryAfterMs ?? backoffDelay(this.config.publishing.backoffMs, pub.attempts);
    const patch = {
      ...release(now),
      ...keptState(pub, err),
      nextAttemptAt: new Date(now.getTime() + delayMs),
      lastError: message,
      lastErrorCode: publicationErrorCode(err),
    } as QueryDeepPartialEntity<Publication>;
    const to = await this.moveHeld(at, 'schedule_retry', patch);
    if (!to) return { kind: 'skipped' };
    await this.audit.record(m, {
      ...eventBase(pub),
      action: 'publication.retry_scheduled',
      fromState: pub.status,
      toState: to,
      comment: message,
      details: { ...eventDetails(pub, operation), retryInMs: delayMs },
    });
    return { kind: 'retry', delayMs, error: message };
  }

  /** A permanent error, or none left to try: failed, until a person retries it. */
  private async recordFailure(at: Attempted, err: AdapterError): Promise<AttemptOutcome> {
    const { m, pub, operation, now } = at;
    const message = err.message.slice(0, 2000);
    // A permanent failure keeps no adapter state: a manual retry starts afresh.
    const patch = {
      ...release(now),
      adapterState: null,
      nextAttemptAt: null,
      lastError: message,
      lastErrorCode: publicationErrorCode(err),
    };
    if (!(await this.moveHeld(at, 'fail', patch))) return { kind: 'skipped' };
    await this.audit.record(m, {
      ...eventBase(pub),
      action: 'publication.failed',
      fromState: pub.status,
      toState: 'failed',
      comment: message,
      details: { ...eventDetails(pub, operation), operation, retryable: err.retryable },
    });
    return { kind: 'failed', error: message };
  }

  /**
   * Writes an outcome only while this executor still holds the row in the state
   * it claimed. If the row moved meanwhile (a retraction turned `sending` into
   * `retracting`), only the lease is released, keeping what the platform answered
   * so a take-down can find the article.
   */
  private async moveHeld(
    at: Attempted,
    event: Parameters<PublicationStore['move']>[2],
    patch: QueryDeepPartialEntity<Publication>,
    result?: AdapterResult,
  ): Promise<PublicationStatus | null> {
    const { m, pub } = at;
    const guard: MoveGuard = { leaseOwner: this.owner };
    const to = await this.store.move(m, { ...pub, operation: at.operation }, event, patch, guard);
    if (to) return to;
    const externalId = result && 'externalId' in result ? result.externalId : undefined;
    await this.store.releaseLease(m, pub.id, this.owner, externalId ? { externalId } : {});
    return null;
  }

  private async allPublished(m: EntityManager, postId: string): Promise<boolean> {
    const open = await m
      .getRepository(Publication)
      .createQueryBuilder('p')
      .where('p.postId = :postId AND p.status != :done', { postId, done: 'published' })
      .getCount();
    return open === 0;
  }
}

interface Attempted {
  m: EntityManager;
  pub: Publication;
  operation: Operation;
  now: Date;
}

function release(now: Date) {
  return { leaseOwner: null, leaseUntil: null, updatedAt: now };
}

function keptState(pub: Publication, err: AdapterError) {
  return err.state ? { adapterState: { ...(pub.adapterState ?? {}), ...err.state } } : {};
}

function eventBase(pub: Publication) {
  return {
    revisionId: pub.revisionId,
    contentHash: pub.contentHash,
    entityType: 'publication',
    entityId: pub.id,
    actor: null,
  };
}

function eventDetails(pub: Publication, operation: Operation) {
  return {
    postId: pub.postId,
    channelId: pub.channelId,
    attempt: pub.attempts,
    deliveryId: deliveryId(pub.id, operation),
  };
}
