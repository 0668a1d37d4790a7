import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager, In } from 'typeorm';
import { AppException } from 'src/common/app.exception';
import { AuthUser, hasRole } from 'src/common/auth-user';
import { ErrorCode } from 'src/common/error-code';
import { CursorPage, mapPage } from 'src/common/cursor';
import { Role } from 'src/common/roles';
import { fromDbTime } from 'src/database/sql';
import { Transactions } from 'src/database/transactions';
import { AuditQueryService } from 'src/modules/audit/audit-query.service';
import { AuditService } from 'src/modules/audit/audit.service';
import { ChannelsService } from 'src/modules/channels/channels.service';
import { MediaService } from 'src/modules/media/media.service';
import { Decision } from 'src/modules/posts/decision.entity';
import { CreatePostDto, ListPostsQuery, UpdatePostDto } from 'src/modules/posts/dto/post.dto';
import { canSeePost } from 'src/modules/posts/post-access';
import { listPosts } from 'src/modules/posts/post-list.query';
import { indexPostText } from 'src/modules/posts/post-search';
import { normaliseContent, NormalisedContent } from 'src/modules/posts/post-content';
import { DECISION_COLUMNS, POST_COLUMNS, REVISION_COLUMNS } from 'src/modules/posts/post-columns';
import { PostLifecycle } from 'src/modules/posts/post-lifecycle.service';
import { Post, PostChannel, PostRevision } from 'src/modules/posts/post.entity';
import { diffRevisions } from 'src/modules/posts/revision-diff';
import { sanitizeBody } from 'src/modules/posts/sanitize';
import { allowedActions, isEditable } from 'src/modules/posts/post-state-machine';
import { UsersService } from 'src/modules/users/users.service';

export interface RevisionView {
  id: string;
  number: number;
  contentHash: string;
  title: string;
  summary: string | null;
  body: string;
  coverImageUrl: string | null;
  channelIds: string[];
  publishAt: string | null;
  createdBy: string;
  createdAt: Date;
}

export function toRevisionView(r: PostRevision): RevisionView {
  return {
    id: r.id,
    number: r.number,
    contentHash: r.contentHash,
    title: r.title,
    summary: r.summary,
    body: r.body,
    coverImageUrl: r.coverImageUrl,
    channelIds: r.channelIds,
    publishAt: r.publishAt ? r.publishAt.toISOString() : null,
    createdBy: r.createdBy,
    createdAt: r.createdAt,
  };
}

@Injectable()
export class PostsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tx: Transactions,
    private readonly audit: AuditService,
    private readonly auditQuery: AuditQueryService,
    private readonly channels: ChannelsService,
    private readonly users: UsersService,
    private readonly lifecycle: PostLifecycle,
    private readonly media: MediaService,
  ) {}

  async create(dto: CreatePostDto, user: AuthUser) {
    if (!hasRole(user, Role.EDITOR)) throw AppException.forbidden('Only editors write posts');
    const images = await this.storedImages(dto.body, dto.coverImageUrl ?? null, user);
    const content = normaliseContent({
      title: dto.title,
      summary: dto.summary ?? null,
      ...images,
      channelIds: dto.channelIds,
      publishAt: this.futureOrNull(dto.publishAt),
    });
    return this.tx.run(async (m) => {
      await this.assertTargets(m, user.departmentId, content.channelIds);
      const now = new Date();
      const post = m.create(Post, {
        id: randomUUID(),
        authorId: user.id,
        departmentId: user.departmentId,
        version: 1,
        round: 0,
        currentRevisionId: null,
        currentRevisionNumber: 1,
        title: content.title,
        publishAt: content.publishAt ? new Date(content.publishAt) : null,
        deptApproverId: null,
        stateChangedAt: now,
        createdAt: now,
        updatedAt: now,
      });
      const rev = this.newRevision(post.id, 1, content, content.hash, user.id, now);
      post.currentRevisionId = rev.id;
      await this.lifecycle.begin(m, post);
      await m.insert(PostRevision, rev);
      await indexPostText(m, post.id, rev.title, rev.summary);
      await this.setChannels(m, post.id, content.channelIds);
      await this.audit.record(m, {
        action: 'post.created',
        entityType: 'post',
        entityId: post.id,
        actor: user,
        toState: post.state,
        revisionId: rev.id,
        contentHash: rev.contentHash,
        details: { revisionNumber: 1, title: rev.title, channelIds: rev.channelIds },
      });
      return post;
    });
  }

  /** A change of content: only the author, only in draft or returned, always a new revision. */
  async update(id: string, dto: UpdatePostDto, user: AuthUser) {
    // Images are fetched before the transaction (fetching is slow); the revision they were read
    // against must still be the current one inside it.
    const seen = await this.getWithRevision(id, user);
    this.assertMayChange(seen.post, user);
    const images = await this.storedImages(
      dto.body ?? seen.rev!.body,
      dto.coverImageUrl === undefined ? seen.rev!.coverImageUrl : dto.coverImageUrl,
      user,
    );
    return this.tx.run(async (m) => {
      const post = await this.visiblePost(m, id, user);
      this.assertMayChange(post, user);
      if (post.currentRevisionId !== seen.post.currentRevisionId) {
        throw new AppException(
          ErrorCode.CONFLICT,
          'The post changed while you edited it; reload and try again',
        );
      }
      const cur = await m.findOneByOrFail(PostRevision, { id: post.currentRevisionId! });
      const content = normaliseContent({
        title: dto.title ?? cur.title,
        summary: dto.summary === undefined ? cur.summary : dto.summary,
        ...images,
        channelIds: dto.channelIds ?? cur.channelIds,
        publishAt: dto.publishAt === undefined ? cur.publishAt : this.futureOrNull(dto.publishAt),
      });
      if (content.hash === cur.contentHash) return post;
      if (dto.channelIds) await this.assertTargets(m, post.departmentId, content.channelIds);
      const now = new Date();
      const rev = this.newRevision(post.id, cur.number + 1, content, content.hash, user.id, now);
      const moved = await m
        .createQueryBuilder()
        .update(Post)
        .set({
          version: () => 'version + 1',
          currentRevisionId: rev.id,
          currentRevisionNumber: rev.number,
          title: rev.title,
          publishAt: rev.publishAt,
          updatedAt: now,
        })
        .where('id = :id AND version = :version AND state = :state', {
          id,
          version: post.version,
          state: post.state,
        })
        .execute();
      if (moved.affected !== 1) {
        throw new AppException(
          ErrorCode.CONFLICT,
          'The post changed while you edited it; reload and try again',
        );
      }
      await m.insert(PostRevision, rev);
      await indexPostText(m, post.id, rev.title, rev.summary);
      await this.setChannels(m, post.id, content.channelIds);
      await this.audit.record(m, {
        action: 'post.revised',
        entityType: 'post',
        entityId: post.id,
        actor: user,
        fromState: post.state,
        toState: post.state,
        revisionId: rev.id,
        contentHash: rev.contentHash,
        details: { revisionNumber: rev.number, previousRevisionNumber: cur.number },
      });
      Object.assign(post, {
        version: post.version + 1,
        currentRevisionId: rev.id,
        currentRevisionNumber: rev.number,
        title: rev.title,
        publishAt: rev.publishAt,
        updatedAt: now,
      });
      return post;
    });
  }

  private assertMayChange(post: Post, user: AuthUser): void {
    if (post.authorId !== user.id || !hasRole(user, Role.EDITOR)) {
      throw AppException.forbidden('Only the author, as an editor, may change a post');
    }
    if (!isEditable(post.state)) {
      throw new AppException(
        ErrorCode.INVALID_STATE,
        `A post that is ${post.state} cannot be changed`,
        {
          state: post.state,
          allowed: allowedActions(post.state),
        },
      );
    }
  }

  /**
   * The body (as the sanitiser leaves it, so only real `<img src>` count) and cover with every
   * image stored by the media module and named by its digest: the content hash then covers the
   * pictures. A URL that cannot be imported refuses the save (422, OUTBOUND_* codes).
   */
  private storedImages(body: string, coverImageUrl: string | null, user: AuthUser) {
    return this.media.importImages(
      {
        body: sanitizeBody(body).normalize('NFC'),
        coverImageUrl: coverImageUrl?.normalize('NFC').trim() || null,
      },
      user.id,
    );
  }

  async list(q: ListPostsQuery, user: AuthUser): Promise<CursorPage<Record<string, unknown>>> {
    return mapPage(await listPosts(this.dataSource.manager, q, user), (p) => this.summary(p));
  }

  /** The post if the caller may see it (404 otherwise), read outside any transaction. */
  get(id: string, user: AuthUser): Promise<Post> {
    return this.visiblePost(this.dataSource.manager, id, user);
  }

  async revisions(id: string, user: AuthUser) {
    const m = this.dataSource.manager;
    await this.visiblePost(m, id, user);
    const revs = await m.find(PostRevision, { where: { postId: id }, order: { number: 'ASC' } });
    return {
      items: revs.map((r) => ({
        id: r.id,
        number: r.number,
        contentHash: r.contentHash,
        title: r.title,
        createdBy: r.createdBy,
        createdAt: r.createdAt,
      })),
    };
  }

  async revision(id: string, number: number, user: AuthUser): Promise<RevisionView> {
    const m = this.dataSource.manager;
    await this.visiblePost(m, id, user);
    const rev = await m.findOneBy(PostRevision, { postId: id, number });
    if (!rev) throw AppException.notFound(`Revision ${number} of post`, id);
    return toRevisionView(rev);
  }

  async diff(id: string, from: number, to: number, user: AuthUser) {
    const [a, b] = await Promise.all([this.revision(id, from, user), this.revision(id, to, user)]);
    return diffRevisions(a, b);
  }

  /** The post's 审核登记表: every audit event on it, with who, as what, on which revision. */
  async history(id: string, user: AuthUser) {
    const m = this.dataSource.manager;
    const post = await this.visiblePost(m, id, user);
    const events = await this.auditQuery.eventsOf('post', id);
    const revs = await m.find(PostRevision, {
      where: { postId: id },
      select: { id: true, number: true },
    });
    const numberOf = new Map(revs.map((r) => [r.id, r.number]));
    const people = await this.users.people(events.map((e) => e.actorId));
    return {
      postId: post.id,
      state: post.state,
      events: events.map((e) => ({
        id: e.id,
        at: e.createdAt,
        action: e.action,
        fromState: e.fromState,
        toState: e.toState,
        actor: e.actorId
          ? {
              ...(people.get(e.actorId) ?? { id: e.actorId }),
              roles: e.actorRole?.split(',') ?? [],
            }
          : null,
        revisionId: e.revisionId,
        revisionNumber: e.revisionId ? (numberOf.get(e.revisionId) ?? null) : null,
        contentHash: e.contentHash,
        comment: e.comment,
        details: e.details ? (JSON.parse(e.details) as unknown) : null,
        hash: e.hash,
      })),
    };
  }

  /** The post if the user may see it; otherwise "not found", so ids reveal nothing. */
  async visiblePost(m: EntityManager, id: string, user: AuthUser): Promise<Post> {
    const post = await m.findOneBy(Post, { id });
    if (!post || !canSeePost(user, post)) throw AppException.notFound('Post', id);
    return post;
  }

  /**
   * A post targets active channels of the department it was written for (not
   * its author's current one: an author who moves keeps the old posts with the
   * old department and its reviewers), or channels that accept submissions
   * (e.g. the university's main account).
   */
  async assertTargets(m: EntityManager, departmentId: string, channelIds: string[]): Promise<void> {
    const channels = await this.channels.findByIds(m, channelIds);
    const found = new Map(channels.map((c) => [c.id, c]));
    const unusable = channelIds.filter((id) => !found.get(id)?.active);
    if (unusable.length) {
      throw new AppException(
        ErrorCode.CHANNEL_NOT_ALLOWED,
        'Unknown or deactivated channel',
        { channelIds: unusable },
        422,
      );
    }
    const foreign = channels.filter(
      (c) => c.departmentId !== departmentId && !c.acceptsSubmissions,
    );
    if (foreign.length) {
      throw new AppException(
        ErrorCode.CHANNEL_NOT_ALLOWED,
        `Channel ${foreign.map((c) => c.name).join(', ')} belongs to another department and does not accept submissions`,
        { channelIds: foreign.map((c) => c.id) },
      );
    }
  }

  /**
   * The post with its current revision, in one plain query (the decision path's
   * first read): 404 when missing or outside the caller's view.
   */
  async getWithRevision(
    id: string,
    user: AuthUser,
  ): Promise<{ post: Post; rev: PostRevision | null }> {
    const rows = (await this.dataSource.query(POST_WITH_REVISION, [id])) as Record<
      string,
      unknown
    >[];
    const row = rows[0];
    const post = row ? postFromRow(row) : null;
    if (!post || !canSeePost(user, post)) throw AppException.notFound('Post', id);
    return { post, rev: row.r_id ? revisionFromRow(row) : null };
  }

  /** The revision a post currently points at. */
  async currentRevision(m: EntityManager, post: Post): Promise<PostRevision | null> {
    return post.currentRevisionId
      ? m.findOneBy(PostRevision, { id: post.currentRevisionId })
      : null;
  }

  /** A revision by id, for publishing: what was approved is what goes out. */
  revisionById(
    id: string,
    m: EntityManager = this.dataSource.manager,
  ): Promise<PostRevision | null> {
    return m.findOneBy(PostRevision, { id });
  }

  /** Several revisions by id (the website feed). */
  revisionsByIds(ids: string[]): Promise<PostRevision[]> {
    if (!ids.length) return Promise.resolve([]);
    return this.dataSource.getRepository(PostRevision).findBy({ id: In(ids) });
  }

  /** Every decision on the post, oldest first (the view and the 审核登记表). */
  async decisionsOf(
    postId: string,
    m: EntityManager = this.dataSource.manager,
  ): Promise<Decision[]> {
    // Plain SQL: this read is on every decision's path.
    const rows = (await m.query(
      `SELECT ${DECISION_COLUMNS.join(', ')} FROM decisions WHERE postId = ? ORDER BY createdAt, id`,
      [postId],
    )) as Record<string, unknown>[];
    return rows.map(decisionFromRow);
  }

  summary(p: Post) {
    return {
      id: p.id,
      state: p.state,
      version: p.version,
      title: p.title,
      departmentId: p.departmentId,
      authorId: p.authorId,
      publishAt: p.publishAt,
      currentRevisionId: p.currentRevisionId,
      currentRevisionNumber: p.currentRevisionNumber,
      stateChangedAt: p.stateChangedAt,
      createdAt: p.createdAt,
      updatedAt: p.updatedAt,
    };
  }

  private newRevision(
    postId: string,
    number: number,
    c: NormalisedContent,
    hash: string,
    by: string,
    now: Date,
  ): PostRevision {
    return Object.assign(new PostRevision(), {
      id: randomUUID(),
      postId,
      number,
      title: c.title,
      summary: c.summary,
      body: c.body,
      coverImageUrl: c.coverImageUrl,
      channelIds: c.channelIds,
      publishAt: c.publishAt ? new Date(c.publishAt) : null,
      contentHash: hash,
      createdBy: by,
      createdAt: now,
    });
  }

  private async setChannels(m: EntityManager, postId: string, channelIds: string[]): Promise<void> {
    await m.delete(PostChannel, { postId });
    await m.insert(
      PostChannel,
      channelIds.map((channelId) => ({ postId, channelId })),
    );
  }

  private futureOrNull(publishAt: string | null | undefined): string | null {
    if (publishAt === undefined || publishAt === null) return null;
    const t = new Date(publishAt);
    if (t.getTime() <= Date.now()) {
      throw new AppException(ErrorCode.VALIDATION_FAILED, 'Invalid input: publishAt', [
        { field: 'publishAt', errors: ['publishAt must be in the future'] },
      ]);
    }
    return t.toISOString();
  }
}

const POST_WITH_REVISION =
  `SELECT ${POST_COLUMNS.map((c) => `p.${c} AS p_${c}`).join(', ')}, ` +
  `${REVISION_COLUMNS.map((c) => `r.${c} AS r_${c}`).join(', ')} ` +
  'FROM posts p LEFT JOIN post_revisions r ON r.id = p.currentRevisionId WHERE p.id = ?';

function postFromRow(row: Record<string, unknown>): Post {
  const v = (c: string) => row[`p_${c}`];
  return Object.assign(new Post(), {
    id: v('id') as string,
    authorId: v('authorId') as string,
    departmentId: v('departmentId') as string,
    state: v('state') as Post['state'],
    version: Number(v('version')),
    round: Number(v('round')),
    currentRevisionId: (v('currentRevisionId') as string | null) ?? null,
    currentRevisionNumber: Number(v('currentRevisionNumber')),
    title: v('title') as string,
    publishAt: fromDbTime(v('publishAt') as Date | string | null),
    deptApproverId: (v('deptApproverId') as string | null) ?? null,
    stateChangedAt: fromDbTime(v('stateChangedAt') as Date | string)!,
    createdAt: fromDbTime(v('createdAt') as Date | string)!,
    updatedAt: fromDbTime(v('updatedAt') as Date | string)!,
  });
}

function revisionFromRow(row: Record<string, unknown>): PostRevision {
  const v = (c: string) => row[`r_${c}`];
  return Object.assign(new PostRevision(), {
    id: v('id') as string,
    postId: v('postId') as string,
    number: Number(v('number')),
    title: v('title') as string,
    summary: (v('summary') as string | null) ?? null,
    body: v('body') as string,
    coverImageUrl: (v('coverImageUrl') as string | null) ?? null,
    channelIds: JSON.parse(v('channelIds') as string) as string[],
    publishAt: fromDbTime(v('publishAt') as Date | string | null),
    contentHash: v('contentHash') as string,
    createdBy: v('createdBy') as string,
    createdAt: fromDbTime(v('createdAt') as Date | string)!,
  });
}

function decisionFromRow(r: Record<string, unknown>): Decision {
  return Object.assign(new Decision(), {
    id: r.id as string,
    postId: r.postId as string,
    round: Number(r.round),
    revisionId: r.revisionId as string,
    revisionNumber: Number(r.revisionNumber),
    contentHash: r.contentHash as string,
    level: Number(r.level) as Decision['level'],
    outcome: r.outcome as Decision['outcome'],
    reviewerId: r.reviewerId as string,
    reviewerRoles: r.reviewerRoles as string,
    comment: (r.comment as string | null) ?? null,
    attestation: r.attestation
      ? (JSON.parse(r.attestation as string) as Record<string, boolean>)
      : null,
    createdAt: fromDbTime(r.createdAt as Date | string)!,
  });
}
