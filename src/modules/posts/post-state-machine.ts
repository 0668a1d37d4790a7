import { AppException } from 'src/common/app.exception';
import { ErrorCode } from 'src/common/error-code';
import { Role } from 'src/common/roles';

/**
 * The post lifecycle (docs/spec.md, "The state machine") as one pure table. Services ask this
 * module which move is legal and who may make it; nobody else decides what `state` becomes.
 */

export const POST_STATES = [
  'draft',
  'pending_dept_review',
  'pending_final_review',
  'approved',
  'published',
  'returned',
  'retracted',
  'archived',
] as const;
export type PostState = (typeof POST_STATES)[number];

/** Where every post begins. */
export const INITIAL_STATE: PostState = 'draft';

export const POST_ACTIONS = [
  'submit',
  'approve',
  'reject',
  'withdraw',
  'archive',
  'retract',
  'publish',
] as const;
export type PostAction = (typeof POST_ACTIONS)[number];

export type Actor = 'author' | 'dept_reviewer' | 'propaganda_reviewer' | 'system';

/** 一审 (the author's own review on submit), 二审 (department), 三审 (propaganda department). */
export type ReviewLevel = 1 | 2 | 3;

export interface TransitionRow {
  readonly from: readonly PostState[];
  readonly action: PostAction;
  readonly to: PostState;
  readonly who: Actor;
  /** Set on the moves that record a review decision at that level. */
  readonly level?: ReviewLevel;
  readonly needsReason?: boolean;
}

export const TRANSITIONS: readonly TransitionRow[] = Object.freeze([
  {
    from: ['draft', 'returned'],
    action: 'submit',
    to: 'pending_dept_review',
    who: 'author',
    level: 1,
  },
  {
    from: ['pending_dept_review'],
    action: 'approve',
    to: 'pending_final_review',
    who: 'dept_reviewer',
    level: 2,
  },
  {
    from: ['pending_dept_review'],
    action: 'reject',
    to: 'returned',
    who: 'dept_reviewer',
    level: 2,
    needsReason: true,
  },
  {
    from: ['pending_final_review'],
    action: 'approve',
    to: 'approved',
    who: 'propaganda_reviewer',
    level: 3,
  },
  {
    from: ['pending_final_review'],
    action: 'reject',
    to: 'returned',
    who: 'propaganda_reviewer',
    level: 3,
    needsReason: true,
  },
  {
    from: ['pending_dept_review', 'pending_final_review'],
    action: 'withdraw',
    to: 'draft',
    who: 'author',
  },
  { from: ['approved'], action: 'publish', to: 'published', who: 'system' },
  {
    from: ['published', 'approved'],
    action: 'retract',
    to: 'retracted',
    who: 'propaganda_reviewer',
    needsReason: true,
  },
  { from: ['draft', 'returned'], action: 'archive', to: 'archived', who: 'author' },
] satisfies TransitionRow[]);

/** Content may change only here, and only by the author (docs/spec.md, "The state machine"). */
export const EDITABLE_STATES: readonly PostState[] = Object.freeze(['draft', 'returned']);

export function isEditable(state: PostState): boolean {
  return EDITABLE_STATES.includes(state);
}

export function transition(state: PostState, action: PostAction): TransitionRow | undefined {
  return TRANSITIONS.find((row) => row.action === action && row.from.includes(state));
}

/** Actions the table allows from `state`, in table order, whoever may make them. */
export function allowedActions(state: PostState): PostAction[] {
  const actions: PostAction[] = [];
  for (const row of TRANSITIONS) {
    if (row.from.includes(state) && !actions.includes(row.action)) actions.push(row.action);
  }
  return actions;
}

export function transitionFor(state: PostState, action: PostAction): TransitionRow {
  const row = transition(state, action);
  if (!row) {
    throw new AppException(ErrorCode.INVALID_STATE, `Cannot ${action} a post that is ${state}`, {
      state,
      action,
      allowed: allowedActions(state),
    });
  }
  return row;
}

export interface StateLabel {
  zh: string;
  en: string;
}

export function describeState(state: PostState): StateLabel {
  switch (state) {
    case 'draft':
      return { zh: '草稿', en: 'Draft' };
    case 'pending_dept_review':
      return { zh: '待部门审核（二审）', en: 'Awaiting department review' };
    case 'pending_final_review':
      return { zh: '待宣传部终审（三审）', en: 'Awaiting final review' };
    case 'approved':
      return { zh: '已通过，待发布', en: 'Approved, awaiting publication' };
    case 'published':
      return { zh: '已发布', en: 'Published' };
    case 'returned':
      return { zh: '已退回修改', en: 'Returned for revision' };
    case 'retracted':
      return { zh: '已撤稿', en: 'Retracted' };
    case 'archived':
      return { zh: '已归档', en: 'Archived' };
    default:
      return assertNever(state);
  }
}

function assertNever(value: never): never {
  throw new Error(`Unhandled case: ${String(value)}`);
}

// ---------------------------------------------------------------------------------------------
// Who may make a move

export interface GuardInput {
  post: { state: PostState; authorId: string; departmentId: string };
  action: PostAction;
  actor: { id: string; roles: readonly string[]; departmentId: string };
  /** Who approved the current revision at level 2; three reviews need three different people. */
  level2ReviewerId?: string | null;
}

export type GuardResult =
  { ok: true; row: TransitionRow } | { ok: false; code: ErrorCode; message: string };

type Refusal = Extract<GuardResult, { ok: false }>;

/**
 * Decides whether `actor` may take `action` on `post` now. Pure: the caller still performs the
 * guarded UPDATE and checks the revision; this only answers from what it is given.
 *
 * When the state has no row for the action, or its row belongs to someone else, the answer is
 * INVALID_STATE if the actor could take this action on this post in some other state: a reviewer
 * who lost a race (the post moved on while they read it) gets 409, not 403 (docs/spec.md: "the
 * post is no longer in the state the action needs → 409"). Otherwise the actor could never do
 * this to this post and gets their refusal (FORBIDDEN / SELF_REVIEW).
 */
export function decide(input: GuardInput): GuardResult {
  const { post, action } = input;
  const row = transition(post.state, action);
  const refusal = row && refuse(row, input);
  if (row && !refusal) return { ok: true, row };
  if (refusal?.code === ErrorCode.SELF_REVIEW) return refusal;

  const elsewhere = TRANSITIONS.filter((r) => r.action === action && r !== row);
  if (elsewhere.some((r) => !refuse(r, input))) return invalidState(post.state, action);
  if (refusal) return refusal;

  const firstRefusal = elsewhere.map((r) => refuse(r, input)).find((r) => r !== undefined);
  return firstRefusal ?? invalidState(post.state, action);
}

function refuse(
  row: TransitionRow,
  { post, actor, level2ReviewerId }: GuardInput,
): Refusal | undefined {
  const isAuthor = actor.id === post.authorId;
  const has = (role: Role) => actor.roles.includes(role);
  switch (row.who) {
    case 'author':
      return isAuthor ? undefined : forbidden(`Only the author may ${row.action} this post`);
    case 'dept_reviewer':
      if (isAuthor) return selfReview('You may not review a post you wrote');
      if (!has(Role.DEPT_REVIEWER) || actor.departmentId !== post.departmentId) {
        return forbidden(
          "Only a department reviewer of the post's department may decide at level 2",
        );
      }
      return undefined;
    case 'propaganda_reviewer':
      if (row.level === 3 && isAuthor) return selfReview('You may not review a post you wrote');
      if (!has(Role.PROPAGANDA_REVIEWER)) {
        return forbidden(
          row.level === 3
            ? 'Only a propaganda department reviewer may decide at level 3'
            : `Only a propaganda department reviewer may ${row.action} a post`,
        );
      }
      if (row.level === 3 && level2ReviewerId != null && actor.id === level2ReviewerId) {
        return selfReview(
          'The level-3 review must be made by someone other than the level-2 reviewer',
        );
      }
      return undefined;
    case 'system':
      // Publication completes through the publisher, never through a person's request.
      return forbidden(`Only the system may ${row.action} a post`);
    default:
      return assertNever(row.who);
  }
}

function forbidden(message: string): Refusal {
  return { ok: false, code: ErrorCode.FORBIDDEN, message };
}

function selfReview(message: string): Refusal {
  return { ok: false, code: ErrorCode.SELF_REVIEW, message };
}

function invalidState(state: PostState, action: PostAction): Refusal {
  return {
    ok: false,
    code: ErrorCode.INVALID_STATE,
    message: `Cannot ${action} a post that is ${state}`,
  };
}
