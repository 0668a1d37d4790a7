import fc from 'fast-check';
import request from 'supertest';
import { POST_STATES, PostState, transition } from 'src/modules/posts/post-state-machine';
import { bearer, startApp, TestApp } from 'test/harness';
import { ATTESTED, buildCampus, Campus, Flow } from 'test/workflow';

/**
 * Random sequences of acts by random people against the real API. After every
 * step: the state is one the table allows from the last; a refused act changed
 * nothing; nothing is approved without level-2 and level-3 approvals by two
 * different non-authors on the current revision's hash; the chain verifies.
 */
const ACTS = ['submit', 'approve', 'reject', 'withdraw', 'archive', 'retract', 'edit'] as const;
type Act = (typeof ACTS)[number];
const ACTORS = [
  'editor',
  'editor2',
  'head',
  'head2',
  'otherHead',
  'prop',
  'prop2',
  'propHead',
  'auditor',
] as const;

interface Step {
  /** Take the move the table expects next, by the right person: walks deep into the table. */
  guided: boolean;
  act: Act;
  actor: (typeof ACTORS)[number];
  staleRevision: boolean;
  attest: boolean;
}

const NEXT: Partial<Record<PostState, [Act, Step['actor']]>> = {
  draft: ['submit', 'editor'],
  returned: ['submit', 'editor'],
  pending_dept_review: ['approve', 'head'],
  pending_final_review: ['approve', 'prop'],
  approved: ['retract', 'prop'],
};

const step: fc.Arbitrary<Step> = fc.record({
  guided: fc.boolean(),
  act: fc.constantFrom(...ACTS),
  actor: fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom('editor', 'head', 'prop') as fc.Arbitrary<Step['actor']>,
    },
    { weight: 3, arbitrary: fc.constantFrom(...ACTORS) },
  ),
  staleRevision: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
  attest: fc.integer({ min: 0, max: 9 }).map((n) => n < 8),
});

/**
 * The property over `numRuns` random walks; a `seed` makes the walks the same on every run.
 * The e2e project runs a few seeded walks; the slow project many unseeded ones.
 */
export function describeWorkflowProperty(name: string, numRuns: number, seed?: number) {
  describe(name, () => {
    let t: TestApp;
    let c: Campus;
    let flow: Flow;

    beforeAll(async () => {
      t = await startApp({ PUBLISH_WORKERS_IN_API: 'false' });
      c = await buildCampus(t);
      flow = new Flow(t);
    });
    afterAll(() => t.close());

    const read = async (id: string) => (await flow.get(c.people.auditor, id)).body;

    let approvedSeen = 0;

    it('holds the invariants after every step', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 4, maxLength: 14 }), async (steps) => {
          const created = await flow.create(c.people.editor, [
            c.channels.schoolSite.id,
            c.channels.mainAccount.id,
          ]);
          let previousRevisionId = created.currentRevision.id;
          let edits = 0;
          for (const s of steps) {
            const before = await read(created.id);
            const next = s.guided ? NEXT[before.state as PostState] : undefined;
            if (next) [s.act, s.actor] = next;
            const who = c.people[s.actor];
            const revisionId = s.staleRevision ? previousRevisionId : before.currentRevision.id;
            let res: request.Response;
            switch (s.act) {
              case 'edit':
                res = await request(t.http)
                  .patch(`/api/v1/posts/${created.id}`)
                  .set(bearer(who.token))
                  .send({ title: `第${++edits}版` });
                break;
              case 'submit':
                res = await flow.act(who, created.id, 'submit', {
                  revisionId,
                  attestation: s.attest ? ATTESTED : { ...ATTESTED, sourced: false },
                });
                break;
              case 'approve':
                res = await flow.act(who, created.id, 'approve', { revisionId });
                break;
              case 'reject':
                res = await flow.act(who, created.id, 'reject', { revisionId, reason: '退回修改' });
                break;
              case 'retract':
                res = await flow.act(who, created.id, 'retract', { reason: '撤稿' });
                break;
              default:
                res = await flow.act(who, created.id, s.act, {});
            }
            expect(res.status).not.toBe(500);
            const after = await read(created.id);
            const from = before.state as PostState;
            expect(POST_STATES).toContain(after.state);
            if (res.status >= 300) {
              expect(after.version).toBe(before.version);
              expect(after.state).toBe(from);
              expect(after.currentRevision.id).toBe(before.currentRevision.id);
            } else if (s.act === 'edit') {
              expect(after.state).toBe(from);
              if (after.currentRevision.id !== before.currentRevision.id)
                previousRevisionId = before.currentRevision.id;
            } else {
              expect(after.state).toBe(transition(from, s.act)?.to);
            }
            if (['approved', 'published'].includes(after.state)) {
              approvedSeen++;
              const hash = after.currentRevision.contentHash;
              const round = Math.max(...after.decisions.map((d: { round: number }) => d.round));
              const approvals = after.decisions.filter(
                (d: { round: number; outcome: string }) =>
                  d.round === round && d.outcome === 'approve',
              );
              const l2 = approvals.find((d: { level: number }) => d.level === 2);
              const l3 = approvals.find((d: { level: number }) => d.level === 3);
              expect(l2?.contentHash).toBe(hash);
              expect(l3?.contentHash).toBe(hash);
              expect(l2.reviewer.id).not.toBe(l3.reviewer.id);
              expect([l2.reviewer.id, l3.reviewer.id]).not.toContain(after.authorId);
            }
            const verify = (
              await request(t.http).get('/api/v1/audit/verify').set(bearer(c.people.auditor.token))
            ).body;
            expect(verify.ok).toBe(true);
          }
        }),
        { numRuns, ...(seed === undefined ? {} : { seed }) },
      );
      // The walk must reach the states the approval invariant is about.
      expect(approvedSeen).toBeGreaterThan(0);
    }, 600_000);
  });
}
