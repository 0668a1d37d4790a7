import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { execute, toDbTime } from 'src/database/sql';
import type { AuditInput } from 'src/modules/audit/audit.service';
import { Decision } from 'src/modules/posts/decision.entity';
import { DECISION_COLUMNS } from 'src/modules/posts/post-columns';
import { Post } from 'src/modules/posts/post.entity';
import { INITIAL_STATE, PostState, transitionFor } from 'src/modules/posts/post-state-machine';

/** What a move sets besides the state itself. */
export interface MoveFields {
  round: number;
  deptApproverId: string | null;
  now: Date;
}

/**
 * The one writer of `posts.state`. Every move of the post lifecycle, by a person
 * (ReviewService) or by the system (publishing's last delivery), is the guarded
 * UPDATE below: it changes the row only if nobody moved it since it was read.
 */
@Injectable()
export class PostLifecycle {
  /** A new post enters the lifecycle in its first state. */
  async begin(m: EntityManager, post: Omit<Post, 'state'> & { state?: PostState }): Promise<Post> {
    post.state = INITIAL_STATE;
    await m.insert(Post, post as Post);
    return post as Post;
  }

  /** True when this caller moved the post; false when someone else moved it first. */
  async move(m: EntityManager, post: Post, to: PostState, f: MoveFields): Promise<boolean> {
    const now = toDbTime(m, f.now);
    const changed = await execute(
      m,
      'UPDATE posts SET state = ?, version = version + 1, round = ?, deptApproverId = ?, ' +
        'stateChangedAt = ?, updatedAt = ? WHERE id = ? AND state = ? AND version = ?',
      [to, f.round, f.deptApproverId, now, now, post.id, post.state, post.version],
    );
    return changed === 1;
  }

  /** The decision a move records (一审, 二审 or 三审), in the same transaction as the move. */
  async recordDecision(m: EntityManager, d: Decision): Promise<void> {
    const values: Record<(typeof DECISION_COLUMNS)[number], unknown> = {
      ...d,
      attestation: d.attestation ? JSON.stringify(d.attestation) : null,
      createdAt: toDbTime(m, d.createdAt),
    };
    await m.query(
      INSERT_DECISION,
      DECISION_COLUMNS.map((c) => values[c]),
    );
  }

  /**
   * approved → published, by the system, once `isComplete` says every publication
   * has landed. The post's row lock comes first: two last publications landing at
   * once must not each count the other as still open (READ COMMITTED write skew).
   * Returns the audit event to append last, or null when the post does not move.
   */
  async markPublishedIfComplete(
    m: EntityManager,
    postId: string,
    now: Date,
    isComplete: () => Promise<boolean>,
  ): Promise<AuditInput | null> {
    await m.query('UPDATE posts SET version = version WHERE id = ?', [postId]);
    const post = await m.findOneBy(Post, { id: postId });
    if (!post || post.state !== 'approved') return null;
    if (!(await isComplete())) return null;
    const row = transitionFor(post.state, 'publish');
    const moved = await this.move(m, post, row.to, {
      round: post.round,
      deptApproverId: post.deptApproverId,
      now,
    });
    if (!moved) return null;
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

const INSERT_DECISION = `INSERT INTO decisions (${DECISION_COLUMNS.join(', ')}) VALUES (${DECISION_COLUMNS.map(() => '?').join(', ')})`;
