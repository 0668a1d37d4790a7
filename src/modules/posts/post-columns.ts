import type { Decision } from 'src/modules/posts/decision.entity';
import type { Post, PostRevision } from 'src/modules/posts/post.entity';

/**
 * The columns of the posts module's tables, in one order, for the plain SQL of the hot
 * paths (and the benches that seed the same rows). `satisfies` keeps them in step with
 * the entities.
 */
export const POST_COLUMNS = [
  'id',
  'authorId',
  'departmentId',
  'state',
  'version',
  'round',
  'currentRevisionId',
  'currentRevisionNumber',
  'title',
  'publishAt',
  'deptApproverId',
  'stateChangedAt',
  'createdAt',
  'updatedAt',
] as const satisfies readonly (keyof Post)[];

export const REVISION_COLUMNS = [
  'id',
  'postId',
  'number',
  'title',
  'summary',
  'body',
  'coverImageUrl',
  'channelIds',
  'publishAt',
  'contentHash',
  'createdBy',
  'createdAt',
] as const satisfies readonly (keyof PostRevision)[];

export const DECISION_COLUMNS = [
  'id',
  'postId',
  'round',
  'revisionId',
  'revisionNumber',
  'contentHash',
  'level',
  'outcome',
  'reviewerId',
  'reviewerRoles',
  'comment',
  'attestation',
  'createdAt',
] as const satisfies readonly (keyof Decision)[];
