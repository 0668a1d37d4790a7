import { AppException } from 'src/common/app.exception';
import { ErrorCode } from 'src/common/error-code';
import {
  allowedActions,
  decide,
  describeState,
  EDITABLE_STATES,
  GuardInput,
  isEditable,
  POST_ACTIONS,
  POST_STATES,
  PostAction,
  PostState,
  transition,
  transitionFor,
  TRANSITIONS,
} from 'src/modules/posts/post-state-machine';

/**
 * docs/spec.md, "The state machine", written out once more by hand so the table cannot drift
 * from it.
 */
const SPEC: Array<{
  from: PostState;
  action: PostAction;
  to: PostState;
  who: string;
  level?: number;
  needsReason?: boolean;
}> = [
  { from: 'draft', action: 'submit', to: 'pending_dept_review', who: 'author', level: 1 },
  { from: 'returned', action: 'submit', to: 'pending_dept_review', who: 'author', level: 1 },
  {
    from: 'pending_dept_review',
    action: 'approve',
    to: 'pending_final_review',
    who: 'dept_reviewer',
    level: 2,
  },
  {
    from: 'pending_dept_review',
    action: 'reject',
    to: 'returned',
    who: 'dept_reviewer',
    level: 2,
    needsReason: true,
  },
  {
    from: 'pending_final_review',
    action: 'approve',
    to: 'approved',
    who: 'propaganda_reviewer',
    level: 3,
  },
  {
    from: 'pending_final_review',
    action: 'reject',
    to: 'returned',
    who: 'propaganda_reviewer',
    level: 3,
    needsReason: true,
  },
  { from: 'pending_dept_review', action: 'withdraw', to: 'draft', who: 'author' },
  { from: 'pending_final_review', action: 'withdraw', to: 'draft', who: 'author' },
  { from: 'approved', action: 'publish', to: 'published', who: 'system' },
  {
    from: 'published',
    action: 'retract',
    to: 'retracted',
    who: 'propaganda_reviewer',
    needsReason: true,
  },
  {
    from: 'approved',
    action: 'retract',
    to: 'retracted',
    who: 'propaganda_reviewer',
    needsReason: true,
  },
  { from: 'draft', action: 'archive', to: 'archived', who: 'author' },
  { from: 'returned', action: 'archive', to: 'archived', who: 'author' },
];

const specRow = (state: PostState, action: PostAction) =>
  SPEC.find((r) => r.from === state && r.action === action);

describe('post state machine: the table', () => {
  it.each(SPEC)('$from --$action--> $to by $who', ({ from, action, ...expected }) => {
    const row = transition(from, action);
    expect(row).toBeDefined();
    expect({
      to: row!.to,
      who: row!.who,
      level: row!.level,
      needsReason: row!.needsReason,
    }).toEqual({ level: undefined, needsReason: undefined, ...expected });
    expect(transitionFor(from, action)).toBe(row);
  });

  it('has no move the SPEC does not list', () => {
    for (const state of POST_STATES) {
      for (const action of POST_ACTIONS) {
        expect([state, action, transition(state, action) !== undefined]).toEqual([
          state,
          action,
          specRow(state, action) !== undefined,
        ]);
      }
    }
  });

  it('gives each (state, action) at most one row, so the answer never depends on row order', () => {
    for (const state of POST_STATES) {
      for (const action of POST_ACTIONS) {
        const rows = TRANSITIONS.filter((r) => r.action === action && r.from.includes(state));
        expect(rows.length).toBeLessThanOrEqual(1);
      }
    }
  });

  it.each(POST_STATES)('allowedActions(%s) agrees with the table', (state) => {
    const expected = POST_ACTIONS.filter((a) => specRow(state, a) !== undefined);
    expect([...allowedActions(state)].sort()).toEqual([...expected].sort());
    for (const action of allowedActions(state)) expect(transition(state, action)).toBeDefined();
  });

  it('leaves retracted and archived posts with no way out', () => {
    expect(allowedActions('retracted')).toEqual([]);
    expect(allowedActions('archived')).toEqual([]);
  });

  it('refuses a move the table lacks with INVALID_STATE (409) naming what is allowed', () => {
    let thrown: unknown;
    try {
      transitionFor('published', 'submit');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(AppException);
    const err = thrown as AppException;
    expect(err.code).toBe(ErrorCode.INVALID_STATE);
    expect(err.getStatus()).toBe(409);
    expect(err.details).toEqual({ state: 'published', action: 'submit', allowed: ['retract'] });
    expect(err.message).toContain('published');
  });

  it('lets content change only in draft and returned', () => {
    expect([...EDITABLE_STATES].sort()).toEqual(['draft', 'returned']);
    expect(POST_STATES.filter(isEditable).sort()).toEqual(['draft', 'returned']);
    // The states one can submit from are exactly the editable ones: a revision is always
    // written before it is submitted.
    expect([...transitionFor('draft', 'submit').from].sort()).toEqual([...EDITABLE_STATES].sort());
  });

  it('is frozen, so no caller can rewrite the rules at run time', () => {
    expect(Object.isFrozen(TRANSITIONS)).toBe(true);
    expect(Object.isFrozen(EDITABLE_STATES)).toBe(true);
  });

  it.each(POST_STATES)('labels %s in Chinese and English', (state) => {
    const label = describeState(state);
    expect(label.zh).toMatch(/[\u4e00-\u9fff]/);
    expect(label.en).toMatch(/^[A-Z]/);
  });

  it('gives every state its own label', () => {
    const labels = POST_STATES.map((s) => describeState(s).zh);
    expect(new Set(labels).size).toBe(POST_STATES.length);
  });

  it('throws on a state outside the type rather than inventing a label', () => {
    expect(() => describeState('deleted' as PostState)).toThrow(/deleted/);
  });
});

// ---------------------------------------------------------------------------------------------

const DEPT = 'dept-chem';
const OTHER_DEPT = 'dept-math';
const PROPAGANDA_DEPT = 'dept-propaganda';

const people = {
  author: { id: 'u-author', roles: ['editor'], departmentId: DEPT },
  coEditor: { id: 'u-co-editor', roles: ['editor'], departmentId: DEPT },
  deptHead: { id: 'u-dept-head', roles: ['dept_reviewer'], departmentId: DEPT },
  otherDeptHead: { id: 'u-other-head', roles: ['dept_reviewer'], departmentId: OTHER_DEPT },
  propaganda: { id: 'u-propaganda', roles: ['propaganda_reviewer'], departmentId: PROPAGANDA_DEPT },
  // Holds both reviewer roles in the post's department: may take either level, not both.
  doubleHatted: {
    id: 'u-double',
    roles: ['dept_reviewer', 'propaganda_reviewer'],
    departmentId: DEPT,
  },
  admin: { id: 'u-admin', roles: ['admin'], departmentId: PROPAGANDA_DEPT },
  auditor: { id: 'u-auditor', roles: ['auditor'], departmentId: PROPAGANDA_DEPT },
};
type Person = keyof typeof people;

function input(
  state: PostState,
  action: PostAction,
  who: Person,
  overrides: Partial<GuardInput> = {},
): GuardInput {
  return {
    post: { state, authorId: people.author.id, departmentId: DEPT },
    action,
    actor: people[who],
    level2ReviewerId: null,
    ...overrides,
  };
}

function expectOk(i: GuardInput) {
  const result = decide(i);
  expect(result).toEqual({ ok: true, row: transition(i.post.state, i.action) });
}

function expectRefused(i: GuardInput, code: ErrorCode) {
  const result = decide(i);
  expect(result).toMatchObject({ ok: false, code });
  if (!result.ok) expect(result.message).toEqual(expect.any(String));
}

describe('post state machine: decide', () => {
  describe("the author's moves (submit, withdraw, archive)", () => {
    it.each<[PostState, PostAction]>([
      ['draft', 'submit'],
      ['returned', 'submit'],
      ['pending_dept_review', 'withdraw'],
      ['pending_final_review', 'withdraw'],
      ['draft', 'archive'],
      ['returned', 'archive'],
    ])('lets the author %s → %s', (state, action) => {
      expectOk(input(state, action, 'author'));
    });

    it.each<[PostState, PostAction, Person]>([
      ['draft', 'submit', 'coEditor'],
      ['draft', 'submit', 'deptHead'],
      ['returned', 'submit', 'propaganda'],
      ['pending_dept_review', 'withdraw', 'deptHead'],
      ['pending_final_review', 'withdraw', 'propaganda'],
      ['draft', 'archive', 'admin'],
      ['returned', 'archive', 'coEditor'],
    ])('refuses %s/%s by %s (not the author) with FORBIDDEN', (state, action, who) => {
      expectRefused(input(state, action, who), ErrorCode.FORBIDDEN);
    });

    it('refuses a non-author even where the state is also wrong: they could never do it', () => {
      expectRefused(input('published', 'submit', 'coEditor'), ErrorCode.FORBIDDEN);
      expectRefused(input('draft', 'withdraw', 'admin'), ErrorCode.FORBIDDEN);
    });

    it.each<[PostState, PostAction]>([
      ['pending_dept_review', 'submit'],
      ['approved', 'submit'],
      ['draft', 'withdraw'],
      ['approved', 'withdraw'],
      ['published', 'archive'],
      ['archived', 'archive'],
      ['retracted', 'submit'],
    ])('refuses the author %s → %s with INVALID_STATE', (state, action) => {
      expectRefused(input(state, action, 'author'), ErrorCode.INVALID_STATE);
    });
  });

  describe('level 2 (二审)', () => {
    it.each<PostAction>(['approve', 'reject'])(
      'lets a dept_reviewer of the post department %s',
      (action) => {
        expectOk(input('pending_dept_review', action, 'deptHead'));
        expect(decide(input('pending_dept_review', action, 'deptHead'))).toMatchObject({
          row: { level: 2 },
        });
      },
    );

    it('requires a reason to reject but not to approve', () => {
      expect(transitionFor('pending_dept_review', 'reject').needsReason).toBe(true);
      expect(transitionFor('pending_dept_review', 'approve').needsReason).toBeFalsy();
    });

    it.each<[PostAction, Person]>([
      ['approve', 'otherDeptHead'],
      ['reject', 'otherDeptHead'],
      ['approve', 'coEditor'],
      ['approve', 'admin'],
      ['reject', 'auditor'],
    ])('refuses %s by %s with FORBIDDEN', (action, who) => {
      expectRefused(input('pending_dept_review', action, who), ErrorCode.FORBIDDEN);
    });

    it('refuses a dept_reviewer role held in another department, whatever else they hold', () => {
      const actor = { id: 'u-x', roles: ['dept_reviewer', 'editor'], departmentId: OTHER_DEPT };
      expectRefused(
        input('pending_dept_review', 'approve', 'author', { actor }),
        ErrorCode.FORBIDDEN,
      );
    });

    it.each<PostAction>(['approve', 'reject'])(
      'refuses the author with SELF_REVIEW on %s, even when they hold the reviewer role',
      (action) => {
        const authorReviewer = { ...people.deptHead, id: people.author.id };
        expectRefused(
          input('pending_dept_review', action, 'author', { actor: authorReviewer }),
          ErrorCode.SELF_REVIEW,
        );
        expectRefused(input('pending_dept_review', action, 'author'), ErrorCode.SELF_REVIEW);
      },
    );
  });

  describe('level 3 (三审)', () => {
    it.each<PostAction>(['approve', 'reject'])('lets a propaganda_reviewer %s', (action) => {
      expectOk(
        input('pending_final_review', action, 'propaganda', { level2ReviewerId: 'u-dept-head' }),
      );
      expect(decide(input('pending_final_review', action, 'propaganda'))).toMatchObject({
        row: { level: 3 },
      });
    });

    it('requires a reason to reject but not to approve', () => {
      expect(transitionFor('pending_final_review', 'reject').needsReason).toBe(true);
      expect(transitionFor('pending_final_review', 'approve').needsReason).toBeFalsy();
    });

    it.each<[PostAction, Person]>([
      ['approve', 'otherDeptHead'],
      ['reject', 'coEditor'],
      ['approve', 'admin'],
      ['approve', 'auditor'],
    ])('refuses %s by %s (no propaganda_reviewer role) with FORBIDDEN', (action, who) => {
      expectRefused(input('pending_final_review', action, who), ErrorCode.FORBIDDEN);
    });

    it.each<PostAction>(['approve', 'reject'])(
      'refuses the level-2 reviewer of this revision with SELF_REVIEW on %s',
      (action) => {
        expectRefused(
          input('pending_final_review', action, 'doubleHatted', { level2ReviewerId: 'u-double' }),
          ErrorCode.SELF_REVIEW,
        );
      },
    );

    it('lets a double-hatted reviewer decide level 3 when someone else decided level 2', () => {
      expectOk(
        input('pending_final_review', 'approve', 'doubleHatted', {
          level2ReviewerId: 'u-dept-head',
        }),
      );
    });

    it('refuses the author with SELF_REVIEW even when they are a propaganda reviewer', () => {
      const authorReviewer = { ...people.propaganda, id: people.author.id };
      expectRefused(
        input('pending_final_review', 'approve', 'author', { actor: authorReviewer }),
        ErrorCode.SELF_REVIEW,
      );
    });
  });

  describe('retract (撤稿)', () => {
    it.each<PostState>(['published', 'approved'])('lets a propaganda_reviewer retract %s', (s) => {
      expectOk(input(s, 'retract', 'propaganda'));
      expect(transitionFor(s, 'retract').needsReason).toBe(true);
    });

    it.each<Person>(['deptHead', 'author', 'admin', 'auditor'])(
      'refuses %s with FORBIDDEN',
      (who) => {
        expectRefused(input('published', 'retract', who), ErrorCode.FORBIDDEN);
      },
    );

    it.each<PostState>(['draft', 'pending_final_review', 'retracted', 'archived'])(
      'refuses to retract a %s post with INVALID_STATE',
      (state) => {
        expectRefused(input(state, 'retract', 'propaganda'), ErrorCode.INVALID_STATE);
      },
    );
  });

  describe('publish', () => {
    it.each<Person>(['author', 'propaganda', 'admin'])(
      'is never a person’s move: refuses %s with FORBIDDEN',
      (who) => {
        expectRefused(input('approved', 'publish', who), ErrorCode.FORBIDDEN);
      },
    );
  });

  describe('wrong state', () => {
    it.each<[PostState, PostAction, Person]>([
      ['draft', 'approve', 'deptHead'],
      ['returned', 'reject', 'propaganda'],
      ['approved', 'approve', 'propaganda'],
      ['published', 'reject', 'deptHead'],
      ['archived', 'approve', 'propaganda'],
    ])('refuses %s/%s by %s with INVALID_STATE', (state, action, who) => {
      expectRefused(input(state, action, who), ErrorCode.INVALID_STATE);
    });

    it('answers 409, not 403, to a department reviewer who lost the race to level 3', () => {
      // The post moved on to pending_final_review while a second department reviewer read it.
      expectRefused(input('pending_final_review', 'approve', 'deptHead'), ErrorCode.INVALID_STATE);
      expectRefused(input('pending_final_review', 'reject', 'deptHead'), ErrorCode.INVALID_STATE);
    });

    it('answers 409 to a propaganda reviewer who acts before level 2 is done', () => {
      expectRefused(input('pending_dept_review', 'approve', 'propaganda'), ErrorCode.INVALID_STATE);
    });
  });

  it('only ever allows a move that is in the table, and then returns that row', () => {
    for (const state of POST_STATES) {
      for (const action of POST_ACTIONS) {
        for (const who of Object.keys(people) as Person[]) {
          for (const level2ReviewerId of [null, 'u-double', 'u-dept-head']) {
            const result = decide(input(state, action, who, { level2ReviewerId }));
            if (result.ok) expect(result.row).toBe(transition(state, action));
            else {
              expect([
                ErrorCode.FORBIDDEN,
                ErrorCode.SELF_REVIEW,
                ErrorCode.INVALID_STATE,
              ]).toContain(result.code);
            }
          }
        }
      }
    }
  });

  it('has, for every row of the table, someone who may take it (or the system)', () => {
    for (const row of TRANSITIONS) {
      for (const state of row.from) {
        const anyone = (Object.keys(people) as Person[]).some(
          (who) => decide(input(state, row.action, who)).ok,
        );
        expect([state, row.action, anyone]).toEqual([state, row.action, row.who !== 'system']);
      }
    }
  });
});
