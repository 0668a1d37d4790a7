import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager, In } from 'typeorm';
import { AppException } from 'src/common/app.exception';
import { AuthUser, hasRole } from 'src/common/auth-user';
import { ErrorCode } from 'src/common/error-code';
import { Role } from 'src/common/roles';
import { Transactions } from 'src/database/transactions';
import { AuditService } from 'src/modules/audit/audit.service';
import { Channel } from 'src/modules/channels/channel.entity';
import { Post, PostRevision } from 'src/modules/posts/post.entity';
import { PostsService } from 'src/modules/posts/posts.service';
import { Publication } from 'src/modules/publishing/publication.entity';
import { PublicationExecutor } from 'src/modules/publishing/executor';
import { Decision } from 'src/modules/review/decision.entity';
import { AttestationDto, InboxQuery } from 'src/modules/review/dto/decision.dto';
import { inboxPage } from 'src/modules/review/inbox.query';
import { ScreeningService } from 'src/modules/screening/screening.service';
import {
  decide,
  PostAction,
  PostState,
  TransitionRow,
} from 'src/modules/review/post-state-machine';

/** What a person's act brings with it. */
export interface ActInput {
  revisionId?: string;
  comment?: string;
  reason?: string;
  attestation?: AttestationDto;
}

const PAST_TENSE: Record<Exclude<PostAction, 'publish'>, string> = {
  submit: 'post.submitted',
  approve: 'post.approved',
  reject: 'post.rejected',
  withdraw: 'post.withdrawn',
  archive: 'post.archived',
  retract: 'post.retracted',
};

const ATTESTATION_FIELDS = ['factual', 'sourced', 'noSensitiveContent', 'imagesLicensed'] as const;

/** Actions that bind to the revision the actor read. */
const BINDS_REVISION: ReadonlySet<PostAction> = new Set(['submit', 'approve', 'reject']);

@Injectable()
export class ReviewService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tx: Transactions,
    private readonly audit: AuditService,
    private readonly posts: PostsService,
    private readonly executor: PublicationExecutor,
    private readonly screening: ScreeningService,
  ) {}

  /**
   * One move of the state machine as one transaction: the guarded update of the
   * post, the decision row, publication rows on final approval, the audit event.
   * Of concurrent acts on one post exactly one passes the guard; the rest get 409.
   */
  act(
    postId: string,
    action: Exclude<PostAction, 'publish'>,
    user: AuthUser,
    input: ActInput = {},
  ) {
    const done = this.tx.run(async (m) => {
      const post = await this.posts.visiblePost(m, postId, user);
      const verdict = decide({
        post,
        action,
        actor: user,
        level2ReviewerId: post.deptApproverId,
      });
      if (!verdict.ok)
        throw new AppException(verdict.code, verdict.message, { state: post.state, action });
      const row = verdict.row;
      if (action === 'submit' && !hasRole(user, Role.EDITOR)) {
        throw AppException.forbidden('Only editors submit posts');
      }
      if (BINDS_REVISION.has(action) && input.revisionId !== post.currentRevisionId) {
        throw this.stale(post);
      }
      if (action === 'submit') this.assertAttested(input.attestation);
      if (row.needsReason && !input.reason?.trim()) {
        throw new AppException(ErrorCode.VALIDATION_FAILED, 'A reason is required', [
          { field: 'reason', errors: ['reason is required'] },
        ]);
      }
      const rev = await m.findOneByOrFail(PostRevision, { id: post.currentRevisionId! });
      if (action === 'submit') await this.posts.assertTargets(m, user, rev.channelIds);
      // A `block` term refuses the submission here (422); `warn` hits go with it.
      const warnings = action === 'submit' ? this.screening.screenSubmission(rev) : null;
      if (row.level === 2 || row.level === 3)
        await this.assertThirdPerson(m, post, rev, row.level, user);
      if (row.to === 'approved') await this.assertChannelsActive(m, rev.channelIds);

      const now = new Date();
      const round = action === 'submit' ? post.round + 1 : post.round;
      const deptApproverId =
        action === 'approve' && row.level === 2
          ? user.id
          : action === 'submit' || action === 'withdraw'
            ? null
            : post.deptApproverId;
      await this.guardedMove(m, post, row.to, { round, deptApproverId, now });

      let decision: Decision | undefined;
      if (row.level) {
        decision = Object.assign(new Decision(), {
          id: randomUUID(),
          postId: post.id,
          round,
          revisionId: rev.id,
          revisionNumber: rev.number,
          contentHash: rev.contentHash,
          level: row.level,
          outcome: action === 'reject' ? 'reject' : 'approve',
          reviewerId: user.id,
          reviewerRoles: user.roles.join(','),
          comment: input.reason ?? input.comment ?? null,
          attestation: action === 'submit' ? this.attestationRecord(input.attestation) : null,
          createdAt: now,
        });
        await m.insert(Decision, decision);
      }
      const screening =
        warnings && decision
          ? await this.screening.recordSubmission(m, {
              postId: post.id,
              round,
              revisionId: rev.id,
              decisionId: decision.id,
              hits: warnings,
              at: now,
            })
          : undefined;

      let publicationIds: string[] | undefined;
      if (row.to === 'approved') publicationIds = await this.queuePublications(m, post, rev, now);
      let retraction: Record<string, number> | undefined;
      if (action === 'retract') retraction = await this.stopPublications(m, post.id, user, now);

      await this.audit.record(m, {
        action: PAST_TENSE[action],
        entityType: 'post',
        entityId: post.id,
        actor: user,
        fromState: post.state,
        toState: row.to,
        revisionId: rev.id,
        contentHash: rev.contentHash,
        comment: input.reason ?? input.comment ?? null,
        details: {
          revisionNumber: rev.number,
          round,
          ...(row.level ? { level: row.level, decisionId: decision!.id } : {}),
          ...(decision?.attestation ? { attestation: decision.attestation } : {}),
          ...(publicationIds ? { publicationIds } : {}),
          ...(retraction ? { publications: retraction } : {}),
          ...(screening ? { screening: screening.audit } : {}),
        },
      });
      Object.assign(post, {
        state: row.to,
        version: post.version + 1,
        round,
        deptApproverId,
        stateChangedAt: now,
        updatedAt: now,
      });
      return this.posts.view(m, post, user);
    });
    // After commit: the executor may start on new publications or take-downs at once.
    if (action === 'approve' || action === 'retract') {
      void done.then(
        () => this.executor.notify(),
        () => undefined,
      );
    }
    return done;
  }

  /** Posts waiting for the caller's decision, oldest first, with how long each has waited. */
  inbox(user: AuthUser, q: InboxQuery) {
    return inboxPage(this.dataSource.manager, q, user, this.posts);
  }

  /** The guarded UPDATE: it moves the post only if nobody moved it since we read it. */
  private async guardedMove(
    m: EntityManager,
    post: Post,
    to: PostState,
    s: { round: number; deptApproverId: string | null; now: Date },
  ): Promise<void> {
    const res = await m
      .createQueryBuilder()
      .update(Post)
      .set({
        state: to,
        version: () => 'version + 1',
        round: s.round,
        deptApproverId: s.deptApproverId,
        stateChangedAt: s.now,
        updatedAt: s.now,
      })
      .where('id = :id AND state = :state AND version = :version', {
        id: post.id,
        state: post.state,
        version: post.version,
      })
      .execute();
    if (res.affected === 1) return;
    const fresh = await m.findOneByOrFail(Post, { id: post.id });
    if (fresh.currentRevisionId !== post.currentRevisionId) throw this.stale(fresh);
    throw new AppException(
      ErrorCode.INVALID_STATE,
      `The post is now ${fresh.state}; someone acted on it first`,
      {
        state: fresh.state,
      },
    );
  }

  /**
   * The three reviews of one revision are three different people, also across
   * rounds: a post returned and resubmitted unchanged carries the same revision.
   */
  private async assertThirdPerson(
    m: EntityManager,
    post: Post,
    rev: PostRevision,
    level: 2 | 3,
    user: AuthUser,
  ): Promise<void> {
    const other = await m
      .getRepository(Decision)
      .createQueryBuilder('d')
      .where(
        'd.postId = :post AND d.revisionId = :rev AND d.reviewerId = :me AND d.level IN (:...levels)',
        {
          post: post.id,
          rev: rev.id,
          me: user.id,
          levels: [1, 2, 3].filter((l) => l !== level),
        },
      )
      .getExists();
    if (other) {
      throw new AppException(
        ErrorCode.SELF_REVIEW,
        'You already reviewed this revision at another level; the three reviews need three people',
      );
    }
  }

  /** Nothing is queued for a channel that was deactivated while the post was under review. */
  private async assertChannelsActive(m: EntityManager, channelIds: string[]): Promise<void> {
    const channels = await m.findBy(Channel, { id: In(channelIds) });
    const inactive = channelIds.filter((id) => !channels.find((c) => c.id === id)?.active);
    if (inactive.length) {
      throw new AppException(
        ErrorCode.CHANNEL_NOT_ALLOWED,
        'A target channel has been deactivated; return the post so its author can choose again',
        { channelIds: inactive },
        422,
      );
    }
  }

  private stale(post: Post): AppException {
    return new AppException(
      ErrorCode.STALE_REVISION,
      `The post's current revision is ${post.currentRevisionNumber}; read it before deciding`,
      {
        currentRevisionId: post.currentRevisionId,
        currentRevisionNumber: post.currentRevisionNumber,
      },
    );
  }

  private assertAttested(a: AttestationDto | undefined): void {
    const missing = ATTESTATION_FIELDS.filter((f) => a?.[f] !== true);
    if (missing.length) {
      throw new AppException(
        ErrorCode.ATTESTATION_REQUIRED,
        'The self-review (一审) needs every attestation confirmed',
        { missing },
      );
    }
  }

  private attestationRecord(a: AttestationDto | undefined): Record<string, boolean> {
    return Object.fromEntries(ATTESTATION_FIELDS.map((f) => [f, a?.[f] === true]));
  }

  /** One outbox row per target channel, carrying the approved revision and its hash. */
  private async queuePublications(
    m: EntityManager,
    post: Post,
    rev: PostRevision,
    now: Date,
  ): Promise<string[]> {
    const rows = rev.channelIds.map((channelId) =>
      Object.assign(new Publication(), {
        id: randomUUID(),
        postId: post.id,
        channelId,
        revisionId: rev.id,
        contentHash: rev.contentHash,
        status: 'queued',
        operation: 'publish',
        attempts: 0,
        leaseOwner: null,
        leaseUntil: null,
        lastAttemptAt: null,
        adapterState: null,
        nextAttemptAt: rev.publishAt && rev.publishAt > now ? rev.publishAt : now,
        lastError: null,
        externalId: null,
        url: null,
        publishedAt: null,
        createdAt: now,
        updatedAt: now,
      }),
    );
    await m.insert(Publication, rows);
    return rows.map((r) => r.id);
  }

  /**
   * 撤稿: what has not gone out is cancelled; what has (or may have) is marked
   * for taking down, each with its own audit event.
   */
  private async stopPublications(
    m: EntityManager,
    postId: string,
    user: AuthUser,
    now: Date,
  ): Promise<Record<string, number>> {
    const rows = await m.findBy(Publication, { postId });
    const counts = { cancelled: 0, retracting: 0 };
    for (const p of rows) {
      const cancel = p.status === 'queued' || (p.status === 'failed' && p.operation === 'publish');
      const takeDown = p.status === 'published' || p.status === 'sending';
      if (!cancel && !takeDown) continue;
      const to = cancel ? 'cancelled' : 'retracting';
      const res = await m.update(
        Publication,
        { id: p.id, status: p.status },
        cancel
          ? { status: to, nextAttemptAt: null, updatedAt: now }
          : {
              status: to,
              operation: 'retract',
              attempts: 0,
              nextAttemptAt: now,
              lastError: null,
              updatedAt: now,
            },
      );
      if (!res.affected) continue;
      counts[to]++;
      await this.audit.record(m, {
        action: `publication.${to}`,
        entityType: 'publication',
        entityId: p.id,
        actor: user,
        fromState: p.status,
        toState: to,
        revisionId: p.revisionId,
        contentHash: p.contentHash,
        details: { postId, channelId: p.channelId },
      });
    }
    return counts;
  }
}
