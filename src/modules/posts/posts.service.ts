import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager, In } from 'typeorm';
import { AppException } from 'src/common/app.exception';
import { AuthUser, hasRole } from 'src/common/auth-user';
import { ErrorCode } from 'src/common/error-code';
import { CursorPage, mapPage } from 'src/common/cursor';
import { Role } from 'src/common/roles';
import { Transactions } from 'src/database/transactions';
import { AuditEvent } from 'src/modules/audit/audit-event.entity';
import { AuditService } from 'src/modules/audit/audit.service';
import { Channel } from 'src/modules/channels/channel.entity';
import { CreatePostDto, ListPostsQuery, UpdatePostDto } from 'src/modules/posts/dto/post.dto';
import { canSeePost } from 'src/modules/posts/post-access';
import { listPosts } from 'src/modules/posts/post-list.query';
import { indexPostText } from 'src/modules/posts/post-search';
import { normaliseContent, NormalisedContent } from 'src/modules/posts/post-content';
import { Post, PostChannel, PostRevision } from 'src/modules/posts/post.entity';
import { diffRevisions } from 'src/modules/posts/revision-diff';
import { Publication } from 'src/modules/publishing/publication.entity';
import { Decision } from 'src/modules/review/decision.entity';
import { latestScreening } from 'src/modules/screening/post-screening.entity';
import {
  allowedActions,
  decide,
  isEditable,
  POST_ACTIONS,
} from 'src/modules/review/post-state-machine';
import { User } from 'src/modules/users/user.entity';

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

type PersonRef = { id: string; username: string; displayName: string } | null;

@Injectable()
export class PostsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tx: Transactions,
    private readonly audit: AuditService,
  ) {}

  create(dto: CreatePostDto, user: AuthUser) {
    if (!hasRole(user, Role.EDITOR)) throw AppException.forbidden('Only editors write posts');
    const content = normaliseContent({
      title: dto.title,
      summary: dto.summary ?? null,
      body: dto.body,
      coverImageUrl: dto.coverImageUrl ?? null,
      channelIds: dto.channelIds,
      publishAt: this.futureOrNull(dto.publishAt),
    });
    return this.tx.run(async (m) => {
      await this.assertTargets(m, user, content.channelIds);
      const now = new Date();
      const post = m.create(Post, {
        id: randomUUID(),
        authorId: user.id,
        departmentId: user.departmentId,
        state: 'draft',
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
      await m.insert(Post, post);
      await m.insert(PostRevision, rev);
      await indexPostText(m, post.id, rev.title, rev.summary);
      await this.setChannels(m, post.id, content.channelIds);
      await this.audit.record(m, {
        action: 'post.created',
        entityType: 'post',
        entityId: post.id,
        actor: user,
        toState: 'draft',
        revisionId: rev.id,
        contentHash: rev.contentHash,
        details: { revisionNumber: 1, title: rev.title, channelIds: rev.channelIds },
      });
      return this.view(m, post, user);
    });
  }

  /** A change of content: only the author, only in draft or returned, always a new revision. */
  update(id: string, dto: UpdatePostDto, user: AuthUser) {
    return this.tx.run(async (m) => {
      const post = await this.visiblePost(m, id, user);
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
      const cur = await m.findOneByOrFail(PostRevision, { id: post.currentRevisionId! });
      const content = normaliseContent({
        title: dto.title ?? cur.title,
        summary: dto.summary === undefined ? cur.summary : dto.summary,
        body: dto.body ?? cur.body,
        coverImageUrl: dto.coverImageUrl === undefined ? cur.coverImageUrl : dto.coverImageUrl,
        channelIds: dto.channelIds ?? cur.channelIds,
        publishAt: dto.publishAt === undefined ? cur.publishAt : this.futureOrNull(dto.publishAt),
      });
      if (content.hash === cur.contentHash) return this.view(m, post, user);
      if (dto.channelIds) await this.assertTargets(m, user, content.channelIds);
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
      return this.view(m, post, user);
    });
  }

  async list(q: ListPostsQuery, user: AuthUser): Promise<CursorPage<Record<string, unknown>>> {
    return mapPage(await listPosts(this.dataSource.manager, q, user), (p) => this.summary(p));
  }

  async get(id: string, user: AuthUser) {
    const m = this.dataSource.manager;
    return this.view(m, await this.visiblePost(m, id, user), user);
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
    const events = await m.find(AuditEvent, {
      where: { entityType: 'post', entityId: id },
      order: { id: 'ASC' },
    });
    const revs = await m.find(PostRevision, {
      where: { postId: id },
      select: { id: true, number: true },
    });
    const numberOf = new Map(revs.map((r) => [r.id, r.number]));
    const people = await this.people(
      m,
      events.map((e) => e.actorId),
    );
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
   * An editor targets active channels of its own department, or channels that
   * accept submissions (e.g. the university's main account).
   */
  async assertTargets(m: EntityManager, user: AuthUser, channelIds: string[]): Promise<void> {
    const channels = await m.findBy(Channel, { id: In(channelIds) });
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
      (c) => c.departmentId !== user.departmentId && !c.acceptsSubmissions,
    );
    if (foreign.length) {
      throw new AppException(
        ErrorCode.CHANNEL_NOT_ALLOWED,
        `Channel ${foreign.map((c) => c.name).join(', ')} belongs to another department and does not accept submissions`,
        { channelIds: foreign.map((c) => c.id) },
      );
    }
  }

  async view(m: EntityManager, post: Post, user?: AuthUser) {
    const [rev, decisions, publications, screening] = await Promise.all([
      post.currentRevisionId ? m.findOneBy(PostRevision, { id: post.currentRevisionId }) : null,
      m.find(Decision, { where: { postId: post.id }, order: { createdAt: 'ASC' } }),
      m.find(Publication, { where: { postId: post.id }, order: { createdAt: 'ASC' } }),
      latestScreening(m, post.id),
    ]);
    const channels = rev?.channelIds.length
      ? await m.find(Channel, { where: { id: In(rev.channelIds) }, order: { name: 'ASC' } })
      : [];
    const people = await this.people(m, [post.authorId, ...decisions.map((d) => d.reviewerId)]);
    return {
      ...this.summary(post),
      author: people.get(post.authorId) ?? null,
      currentRevision: rev ? toRevisionView(rev) : null,
      channels: channels.map((c) => ({
        id: c.id,
        name: c.name,
        platform: c.platform,
        departmentId: c.departmentId,
      })),
      decisions: decisions.map((d) => ({
        id: d.id,
        round: d.round,
        level: d.level,
        outcome: d.outcome,
        reviewer: people.get(d.reviewerId) ?? { id: d.reviewerId },
        reviewerRoles: d.reviewerRoles.split(','),
        comment: d.comment,
        attestation: d.attestation,
        revisionId: d.revisionId,
        revisionNumber: d.revisionNumber,
        contentHash: d.contentHash,
        createdAt: d.createdAt,
      })),
      publications: publications.map((p) => ({
        id: p.id,
        channelId: p.channelId,
        status: p.status,
        attempts: p.attempts,
        revisionId: p.revisionId,
        contentHash: p.contentHash,
        externalId: p.externalId,
        url: p.url,
        lastError: p.lastError,
        publishedAt: p.publishedAt,
      })),
      screening,
      allowedActions: user ? this.actionsFor(post, user) : undefined,
    };
  }

  /** What this caller may do to this post now, as the state machine's guard answers it. */
  private actionsFor(post: Post, user: AuthUser): string[] {
    const acts: string[] = POST_ACTIONS.filter(
      (action) => decide({ post, action, actor: user, level2ReviewerId: post.deptApproverId }).ok,
    );
    return isEditable(post.state) && post.authorId === user.id ? [...acts, 'edit'] : acts;
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

  async people(
    m: EntityManager,
    ids: (string | null)[],
  ): Promise<Map<string, NonNullable<PersonRef>>> {
    const unique = [...new Set(ids.filter((x): x is string => !!x))];
    if (!unique.length) return new Map();
    const users = await m.find(User, {
      where: { id: In(unique) },
      select: { id: true, username: true, displayName: true },
    });
    return new Map(
      users.map((u) => [u.id, { id: u.id, username: u.username, displayName: u.displayName }]),
    );
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
