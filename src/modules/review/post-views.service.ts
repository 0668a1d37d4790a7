import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuthUser, hasRole } from 'src/common/auth-user';
import { ChannelsService } from 'src/modules/channels/channels.service';
import type { Decision } from 'src/modules/posts/decision.entity';
import type { Post, PostRevision } from 'src/modules/posts/post.entity';
import { decide, isEditable, POST_ACTIONS } from 'src/modules/posts/post-state-machine';
import { PostsService, toRevisionView } from 'src/modules/posts/posts.service';
import { Outbox, PublicationSummary } from 'src/modules/publishing/outbox.service';
import { publicationErrorMessage } from 'src/modules/publishing/publication-errors';
import { latestScreening, ScreeningView } from 'src/modules/screening/post-screening.entity';
import { Role } from 'src/common/roles';
import { UsersService } from 'src/modules/users/users.service';

/** What a caller already holds, so a view after an act does not read it again. */
export interface KnownParts {
  revision?: PostRevision | null;
  decisions?: Decision[];
  publications?: PublicationSummary[];
  /** The screening just recorded (a submission), or null when there has been none. */
  screening?: ScreeningView | null;
}

/**
 * The whole post as a caller sees it: content, channels, decisions, publications,
 * screening and what the caller may do next. Composed here, above the modules
 * that own each part, and always read after commit.
 */
@Injectable()
export class PostViews {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly posts: PostsService,
    private readonly channels: ChannelsService,
    private readonly outbox: Outbox,
    private readonly users: UsersService,
  ) {}

  async view(post: Post, user?: AuthUser, known: KnownParts = {}) {
    const m = this.dataSource.manager;
    const [rev, decisions, publications, screening] = await Promise.all([
      known.revision !== undefined ? known.revision : this.posts.currentRevision(m, post),
      known.decisions ?? this.posts.decisionsOf(post.id),
      known.publications ?? this.outbox.forPost(post.id),
      known.screening !== undefined ? known.screening : latestScreening(m, post.id),
    ]);
    const [channels, people] = await Promise.all([
      this.channels.refsByIds(rev?.channelIds ?? []),
      this.users.people([post.authorId, ...decisions.map((d) => d.reviewerId)]),
    ]);
    return {
      ...this.posts.summary(post),
      author: people.get(post.authorId) ?? null,
      currentRevision: rev ? toRevisionView(rev) : null,
      channels,
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
      publications: publicationsFor(publications, user),
      screening,
      allowedActions: user ? actionsFor(post, user) : undefined,
    };
  }
}

/**
 * Publications as this caller may see them: propaganda reviewers and auditors get the full error
 * (URLs, upstream answers); everyone else, the author included, its code and a short message.
 */
export function publicationsFor(
  publications: PublicationSummary[],
  user: AuthUser | undefined,
): PublicationSummary[] {
  if (user && (hasRole(user, Role.PROPAGANDA_REVIEWER) || hasRole(user, Role.AUDITOR))) {
    return publications;
  }
  return publications.map((p) =>
    p.lastError === null && p.lastErrorCode === null
      ? p
      : { ...p, lastError: publicationErrorMessage(p.lastErrorCode) },
  );
}

/** What this caller may do to this post now, as the state machine's guard answers it. */
export function actionsFor(post: Post, user: AuthUser): string[] {
  const acts: string[] = POST_ACTIONS.filter(
    (action) => decide({ post, action, actor: user, level2ReviewerId: post.deptApproverId }).ok,
  );
  return isEditable(post.state) && post.authorId === user.id ? [...acts, 'edit'] : acts;
}
