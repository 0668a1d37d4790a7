import { EntityManager, In, SelectQueryBuilder } from 'typeorm';
import { AuthUser, hasRole } from 'src/common/auth-user';
import { CursorPage, decodeCursor, keysetPage } from 'src/common/cursor';
import { Role } from 'src/common/roles';
import { Post } from 'src/modules/posts/post.entity';
import type { PostsService } from 'src/modules/posts/posts.service';
import type { UsersService } from 'src/modules/users/users.service';
import type { InboxQuery } from 'src/modules/review/dto/decision.dto';
import type { PostState } from 'src/modules/posts/post-state-machine';
import { latestScreenings } from 'src/modules/screening/post-screening.entity';

/**
 * One source of the caller's inbox: the posts in one state waiting for this
 * caller. Each is a seek on IDX_posts_inbox_dept (state, departmentId,
 * stateChangedAt, id) or IDX_posts_inbox (state, stateChangedAt, id, authorId,
 * deptApproverId); the second carries the columns of its `!=` tests, so the
 * posts a propaganda reviewer may not take are skipped in the index.
 */
interface Arm {
  state: PostState;
  where: (qb: SelectQueryBuilder<Post>) => SelectQueryBuilder<Post>;
}

function arms(user: AuthUser): Arm[] {
  const out: Arm[] = [];
  if (hasRole(user, Role.DEPT_REVIEWER)) {
    out.push({
      state: 'pending_dept_review',
      where: (qb) =>
        qb
          .where("p.state = 'pending_dept_review'")
          .andWhere('p.departmentId = :dept', { dept: user.departmentId })
          .andWhere('p.authorId != :me', { me: user.id }),
    });
  }
  if (hasRole(user, Role.PROPAGANDA_REVIEWER)) {
    out.push({
      state: 'pending_final_review',
      where: (qb) =>
        qb
          .where("p.state = 'pending_final_review'")
          .andWhere('p.authorId != :me', { me: user.id })
          .andWhere('(p.deptApproverId IS NULL OR p.deptApproverId != :me)', { me: user.id }),
    });
  }
  return out;
}

const oldestFirst = (a: Post, b: Post) =>
  a.stateChangedAt.getTime() - b.stateChangedAt.getTime() ||
  (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The caller's waiting posts, oldest first (stateChangedAt ASC, id ASC), and how many per state. */
export async function inboxPosts(
  m: EntityManager,
  q: InboxQuery,
  user: AuthUser,
): Promise<CursorPage<Post> & { counts: Partial<Record<PostState, number>> }> {
  const pageSize = q.pageSize ?? 50;
  const after = q.cursor ? decodeCursor(q.cursor, ['time', 'id'] as const) : null;
  const sources = arms(user);
  const base = (arm: Arm) => arm.where(m.getRepository(Post).createQueryBuilder('p'));
  const [pages, counts] = await Promise.all([
    Promise.all(
      sources.map((arm) => {
        // Only the key columns, so the walk (and its skipping) stays inside the index.
        const qb = base(arm).select(['p.id', 'p.stateChangedAt']);
        if (after) {
          qb.andWhere('p.stateChangedAt >= :cAt AND (p.stateChangedAt > :cAt OR p.id > :cId)', {
            cAt: after[0],
            cId: after[1],
          });
        }
        return qb
          .orderBy('p.stateChangedAt', 'ASC')
          .addOrderBy('p.id', 'ASC')
          .limit(pageSize + 1)
          .getMany();
      }),
    ),
    Promise.all(sources.map((arm) => base(arm).getCount())),
  ]);
  const keys = pages.flat().sort(oldestFirst);
  const keyPage = keysetPage(
    keys,
    pageSize,
    (k) => [k.stateChangedAt, k.id],
    (ks) => ks,
  );
  const ids = keyPage.items.map((k) => k.id);
  const full = ids.length ? await m.findBy(Post, { id: In(ids) }) : [];
  const byId = new Map(full.map((p) => [p.id, p]));
  // A post that moved on between the two reads is left out of this page.
  const page: CursorPage<Post> = {
    ...keyPage,
    items: ids.map((id) => byId.get(id)).filter((p): p is Post => !!p),
  };
  const byState = Object.fromEntries(sources.map((a, i) => [a.state, counts[i]]));
  return {
    ...page,
    ...(q.count ? { total: counts.reduce((a, b) => a + b, 0) } : {}),
    counts: byState,
  };
}

/** The inbox as ReviewService answers it: each post with its author, level, waiting time, screening. */
export async function inboxPage(
  m: EntityManager,
  q: InboxQuery,
  user: AuthUser,
  posts: Pick<PostsService, 'summary'>,
  users: Pick<UsersService, 'people'>,
) {
  const page = await inboxPosts(m, q, user);
  const ids = page.items.map((p) => p.id);
  const [people, screenings] = await Promise.all([
    users.people(page.items.map((p) => p.authorId)),
    latestScreenings(m, ids),
  ]);
  const now = Date.now();
  return {
    ...page,
    items: page.items.map((p) => ({
      ...posts.summary(p),
      author: people.get(p.authorId) ?? null,
      level: p.state === 'pending_dept_review' ? 2 : 3,
      waitingSeconds: Math.max(0, Math.floor((now - p.stateChangedAt.getTime()) / 1000)),
      screeningWarnings: screenings.get(p.id)?.hitCount ?? 0,
      screening: screenings.get(p.id) ?? null,
    })),
  };
}
