import type { EntityManager, SelectQueryBuilder } from 'typeorm';
import { AuthUser, hasRole } from 'src/common/auth-user';
import { CursorPage, decodeCursor, keysetPage } from 'src/common/cursor';
import { Role } from 'src/common/roles';
import type { ListPostsQuery } from 'src/modules/posts/dto/post.dto';
import { whereVisible } from 'src/modules/posts/post-access';
import { Post } from 'src/modules/posts/post.entity';
import { planTextSearch, TextPlan, whereTextMatches } from 'src/modules/posts/post-search';

/** One arm of the visibility rule, as an equality an index can seek. */
type Arm = { departmentId?: string; authorId?: string };

/**
 * whereVisible as a union of arms: a department reviewer's "department OR own"
 * is an OR over two columns that no single index orders, so each arm walks its
 * own index and the pages are merged. The rows are the same as whereVisible's.
 */
function visibleArms(user: AuthUser): Arm[] {
  if (hasRole(user, Role.PROPAGANDA_REVIEWER, Role.AUDITOR)) return [{}];
  if (hasRole(user, Role.DEPT_REVIEWER)) {
    return [{ departmentId: user.departmentId }, { authorId: user.id }];
  }
  return [{ authorId: user.id }];
}

function filtered(
  m: EntityManager,
  q: ListPostsQuery,
  text: TextPlan | null,
): SelectQueryBuilder<Post> {
  const qb = m.getRepository(Post).createQueryBuilder('p');
  if (q.state) qb.andWhere('p.state = :state', { state: q.state });
  if (q.departmentId) qb.andWhere('p.departmentId = :dept', { dept: q.departmentId });
  if (q.authorId) qb.andWhere('p.authorId = :author', { author: q.authorId });
  if (q.createdFrom) qb.andWhere('p.createdAt >= :cf', { cf: new Date(q.createdFrom) });
  if (q.createdTo) qb.andWhere('p.createdAt < :ct', { ct: new Date(q.createdTo) });
  if (q.channelId) {
    qb.andWhere(
      'EXISTS (SELECT 1 FROM post_channels pc WHERE pc.postId = p.id AND pc.channelId = :ch)',
      { ch: q.channelId },
    );
  }
  if (text) whereTextMatches(qb, text);
  return qb;
}

const newestFirst = (a: Post, b: Post) =>
  b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/**
 * The posts the caller may see, newest first (createdAt DESC, id DESC), one page
 * after `cursor`. Every arm reads at most `pageSize + 1` rows in index order.
 */
export async function listPosts(
  m: EntityManager,
  q: ListPostsQuery,
  user: AuthUser,
): Promise<CursorPage<Post>> {
  const pageSize = q.pageSize ?? 50;
  const after = q.cursor ? decodeCursor(q.cursor, ['time', 'id'] as const) : null;
  const text = q.q ? await planTextSearch(m, q.q) : null;
  // With a text search the walk is the gram's posting list, which holds the same sort key.
  const [at, id] = text ? ['g0.createdAt', 'g0.postId'] : ['p.createdAt', 'p.id'];
  const arms = await Promise.all(
    visibleArms(user).map((arm) => {
      const qb = filtered(m, q, text);
      if (arm.departmentId !== undefined)
        qb.andWhere('p.departmentId = :armDept', { armDept: arm.departmentId });
      if (arm.authorId !== undefined) qb.andWhere('p.authorId = :armMe', { armMe: arm.authorId });
      if (after) {
        // The first conjunct is a plain range, so the index seeks to the cursor.
        qb.andWhere(`${at} <= :cAt AND (${at} < :cAt OR ${id} < :cId)`, {
          cAt: after[0],
          cId: after[1],
        });
      }
      return qb
        .orderBy(at, 'DESC')
        .addOrderBy(id, 'DESC')
        .limit(pageSize + 1)
        .getMany();
    }),
  );
  const seen = new Set<string>();
  const rows = arms
    .flat()
    .filter((p) => !seen.has(p.id) && !!seen.add(p.id))
    .sort(newestFirst);
  const page = keysetPage(
    rows,
    pageSize,
    (p) => [p.createdAt, p.id],
    (ps) => ps,
  );
  if (q.count) page.total = await whereVisible(filtered(m, q, text), user).getCount();
  return page;
}
