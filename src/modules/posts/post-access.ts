import type { SelectQueryBuilder } from 'typeorm';
import { AuthUser, hasRole } from 'src/common/auth-user';
import { Role } from 'src/common/roles';
import type { Post } from 'src/modules/posts/post.entity';

/**
 * Who sees which posts: propaganda reviewers and auditors all; department
 * reviewers their department's; authors their own. Admins manage the
 * organisation only and see none unless they also hold one of these roles.
 */
export function canSeePost(user: AuthUser, post: Pick<Post, 'authorId' | 'departmentId'>): boolean {
  if (hasRole(user, Role.PROPAGANDA_REVIEWER, Role.AUDITOR)) return true;
  if (hasRole(user, Role.DEPT_REVIEWER) && post.departmentId === user.departmentId) return true;
  return post.authorId === user.id;
}

/** The same rule as a WHERE clause, for lists. */
export function whereVisible<T extends object>(
  qb: SelectQueryBuilder<T>,
  user: AuthUser,
  alias = 'p',
): SelectQueryBuilder<T> {
  if (hasRole(user, Role.PROPAGANDA_REVIEWER, Role.AUDITOR)) return qb;
  if (hasRole(user, Role.DEPT_REVIEWER)) {
    return qb.andWhere(`(${alias}.departmentId = :visDept OR ${alias}.authorId = :visMe)`, {
      visDept: user.departmentId,
      visMe: user.id,
    });
  }
  return qb.andWhere(`${alias}.authorId = :visMe`, { visMe: user.id });
}
