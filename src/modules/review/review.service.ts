import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AppException } from 'src/common/app.exception';
import { AuthUser, hasRole } from 'src/common/auth-user';
import { ErrorCode } from 'src/common/error-code';
import { Role } from 'src/common/roles';
import { Transactions } from 'src/database/transactions';
import { AuditService } from 'src/modules/audit/audit.service';
import { ChannelsService } from 'src/modules/channels/channels.service';
import { Decision } from 'src/modules/posts/decision.entity';
import { PostLifecycle } from 'src/modules/posts/post-lifecycle.service';
import { Post, PostRevision } from 'src/modules/posts/post.entity';
import { decide, PostAction, PostState, TransitionRow } from 'src/modules/posts/post-state-machine';
import { PostsService } from 'src/modules/posts/posts.service';
import { Outbox, toPublicationSummary } from 'src/modules/publishing/outbox.service';
import { AttestationDto, InboxQuery } from 'src/modules/review/dto/decision.dto';
import { inboxPage } from 'src/modules/review/inbox.query';
import { PostViews } from 'src/modules/review/post-views.service';
import { Hit, ScreeningService } from 'src/modules/screening/screening.service';
import { UsersService } from 'src/modules/users/users.service';

/** What a person's act brings with it. */
export interface ActInput {
  revisionId?: string;
  comment?: string;
  reason?: string;
  attestation?: AttestationDto;
}

export type PersonAction = Exclude<PostAction, 'publish'>;

const PAST_TENSE: Record<PersonAction, string> = {
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

/** Everything an act has checked before it writes. */
interface CheckedAct {
  post: Post;
  rev: PostRevision;
  /** Every decision on the post when it was read; the guarded UPDATE proves none came since. */
  decisions: Decision[];
  row: TransitionRow;
  action: PersonAction;
  user: AuthUser;
  input: ActInput;
  warnings: Hit[] | null;
}

/**
 * The review workflow: who may move a post, and each move as one transaction.
 * Checks read first, outside the transaction; the transaction then does only
 * what it must (the guarded UPDATE, which fails if anything moved since the
 * read, the decision, the outbox rows, the audit event last); the view is read
 * after commit.
 */
@Injectable()
export class ReviewService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tx: Transactions,
    private readonly audit: AuditService,
    private readonly posts: PostsService,
    private readonly lifecycle: PostLifecycle,
    private readonly channels: ChannelsService,
    private readonly outbox: Outbox,
    private readonly screening: ScreeningService,
    private readonly views: PostViews,
    private readonly users: UsersService,
  ) {}

  async act(postId: string, action: PersonAction, user: AuthUser, input: ActInput = {}) {
    const checked = await this.check(postId, action, user, input);
    const done = await this.tx.run((m) => this.write(m, checked));
    // After commit: the executor may start on new publications or take-downs at once.
    if (action === 'approve' || action === 'retract') this.outbox.notify();
    return this.views.view(done.post, user, done.known);
  }

  /** Every guard of the move, one step each; nothing is written here. */
  private async check(
    postId: string,
    action: PersonAction,
    user: AuthUser,
    input: ActInput,
  ): Promise<CheckedAct> {
    const m = this.dataSource.manager;
    const [{ post, rev }, decisions] = await Promise.all([
      this.posts.getWithRevision(postId, user),
      this.posts.decisionsOf(postId),
    ]);
    const row = this.legalMove(post, action, user);
    this.assertRevisionRead(post, action, input);
    this.assertInputFor(row, action, input);
    if (!rev) throw this.stale(post);
    if (action === 'submit') await this.posts.assertTargets(m, post.departmentId, rev.channelIds);
    // A `block` term refuses the submission here (422); `warn` hits go with it.
    const warnings = action === 'submit' ? this.screening.screenSubmission(rev) : null;
    if (row.level === 2 || row.level === 3) assertThirdPerson(decisions, rev, row.level, user);
    if (row.to === 'approved') await this.assertChannelsActive(m, rev.channelIds);
    return { post, rev, decisions, row, action, user, input, warnings };
  }

  private legalMove(post: Post, action: PersonAction, user: AuthUser): TransitionRow {
    const verdict = decide({ post, action, actor: user, level2ReviewerId: post.deptApproverId });
    if (!verdict.ok)
      throw new AppException(verdict.code, verdict.message, { state: post.state, action });
    if (action === 'submit' && !hasRole(user, Role.EDITOR)) {
      throw AppException.forbidden('Only editors submit posts');
    }
    return verdict.row;
  }

  private assertRevisionRead(post: Post, action: PersonAction, input: ActInput): void {
    if (BINDS_REVISION.has(action) && input.revisionId !== post.currentRevisionId) {
      throw this.stale(post);
    }
  }

  private assertInputFor(row: TransitionRow, action: PersonAction, input: ActInput): void {
    if (action === 'submit') this.assertAttested(input.attestation);
    if (row.needsReason && !input.reason?.trim()) {
      throw new AppException(ErrorCode.VALIDATION_FAILED, 'A reason is required', [
        { field: 'reason', errors: ['reason is required'] },
      ]);
    }
  }

  /** The writes of one move, in order: the post, its decision, the outbox, the audit event last. */
  private async write(m: EntityManager, c: CheckedAct) {
    const { post, rev, row, action, user, input } = c;
    const now = new Date();
    const round = action === 'submit' ? post.round + 1 : post.round;
    const deptApproverId =
      action === 'approve' && row.level === 2
        ? user.id
        : action === 'submit' || action === 'withdraw'
          ? null
          : post.deptApproverId;
    if (!(await this.lifecycle.move(m, post, row.to, { round, deptApproverId, now }))) {
      throw await this.lostRace(post);
    }
    const decision = row.level ? this.decisionOf(c, round, now) : undefined;
    if (decision) await this.lifecycle.recordDecision(m, decision);
    const screening =
      c.warnings && decision
        ? await this.screening.recordSubmission(m, {
            postId: post.id,
            round,
            revisionId: rev.id,
            decisionId: decision.id,
            hits: c.warnings,
            at: now,
          })
        : undefined;
    const queued =
      row.to === 'approved'
        ? await this.outbox.enqueue(
            m,
            {
              postId: post.id,
              revisionId: rev.id,
              contentHash: rev.contentHash,
              channelIds: rev.channelIds,
              publishAt: rev.publishAt,
            },
            now,
          )
        : undefined;
    const stopped =
      action === 'retract' ? await this.outbox.stop(m, post.id, user, now) : undefined;
    if (stopped) await this.outbox.recordAll(m, stopped.events);
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
        ...(decision ? { level: decision.level, decisionId: decision.id } : {}),
        ...(decision?.attestation ? { attestation: decision.attestation } : {}),
        ...(queued ? { publicationIds: queued.map((p) => p.id) } : {}),
        ...(stopped ? { publications: stopped.counts } : {}),
        ...(screening ? { screening: screening.audit } : {}),
      },
    });
    const moved: Post = Object.assign(new Post(), post, {
      state: row.to,
      version: post.version + 1,
      round,
      deptApproverId,
      stateChangedAt: now,
      updatedAt: now,
    });
    // Publications exist only from approval on; before it the view needs no read for them.
    const known = {
      revision: rev,
      ...(screening ? { screening: screening.view } : {}),
      decisions: decision ? [...c.decisions, decision] : c.decisions,
      ...(queued ? { publications: queued.map(toPublicationSummary) } : {}),
      ...(isBeforeApproval(post.state) && !queued ? { publications: [] } : {}),
    };
    return { post: moved, known };
  }

  private decisionOf(c: CheckedAct, round: number, now: Date): Decision {
    return Object.assign(new Decision(), {
      id: randomUUID(),
      postId: c.post.id,
      round,
      revisionId: c.rev.id,
      revisionNumber: c.rev.number,
      contentHash: c.rev.contentHash,
      level: c.row.level,
      outcome: c.action === 'reject' ? 'reject' : 'approve',
      reviewerId: c.user.id,
      reviewerRoles: c.user.roles.join(','),
      comment: c.input.reason ?? c.input.comment ?? null,
      attestation: c.action === 'submit' ? this.attestationRecord(c.input.attestation) : null,
      createdAt: now,
    });
  }

  /** Posts waiting for the caller's decision, oldest first, with how long each has waited. */
  inbox(user: AuthUser, q: InboxQuery) {
    return inboxPage(this.dataSource.manager, q, user, this.posts, this.users);
  }

  /** Why the guarded UPDATE found the post moved: a new revision, or someone acted first. */
  private async lostRace(post: Post): Promise<AppException> {
    const fresh = await this.dataSource.manager.findOneByOrFail(Post, { id: post.id });
    if (fresh.currentRevisionId !== post.currentRevisionId) return this.stale(fresh);
    return new AppException(
      ErrorCode.INVALID_STATE,
      `The post is now ${fresh.state}; someone acted on it first`,
      { state: fresh.state },
    );
  }

  /** Nothing is queued for a channel that was deactivated while the post was under review. */
  private async assertChannelsActive(m: EntityManager, channelIds: string[]): Promise<void> {
    const channels = await this.channels.findByIds(m, channelIds);
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
}

/** States a post is in before its approval created any publication. */
function isBeforeApproval(state: PostState): boolean {
  return (
    state === 'draft' ||
    state === 'returned' ||
    state === 'pending_dept_review' ||
    state === 'pending_final_review'
  );
}

/**
 * The three reviews of one revision are three different people, also across
 * rounds: a post returned and resubmitted unchanged carries the same revision.
 */
function assertThirdPerson(
  decisions: readonly Decision[],
  rev: PostRevision,
  level: 2 | 3,
  user: AuthUser,
): void {
  const other = decisions.some(
    (d) => d.revisionId === rev.id && d.reviewerId === user.id && d.level !== level,
  );
  if (other) {
    throw new AppException(
      ErrorCode.SELF_REVIEW,
      'You already reviewed this revision at another level; the three reviews need three people',
    );
  }
}
