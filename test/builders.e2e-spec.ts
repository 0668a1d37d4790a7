import request from 'supertest';
import { Role } from 'src/common/roles';
import { bearer, startApp, TestApp } from 'test/harness';
import { builders, Builders, PostTarget } from 'test/support/builders';

describe('test builders', () => {
  let t: TestApp;
  let b: Builders;

  beforeAll(async () => {
    // The builders drive publication themselves when the app runs no workers.
    t = await startApp({ PUBLISH_WORKERS_IN_API: 'false' });
    b = builders(t);
  });
  afterAll(() => t.close());

  const cases: [PostTarget, Parameters<Builders['post']>[0], string, string[]][] = [
    ['draft', {}, 'draft', []],
    ['pending_dept_review', {}, 'pending_dept_review', ['1:approve']],
    ['pending_final_review', {}, 'pending_final_review', ['1:approve', '2:approve']],
    ['returned', {}, 'returned', ['1:approve', '2:reject']],
    ['returned', { returnedAt: 3 }, 'returned', ['1:approve', '2:approve', '3:reject']],
    ['approved', {}, 'approved', ['1:approve', '2:approve', '3:approve']],
    ['published', {}, 'published', ['1:approve', '2:approve', '3:approve']],
    ['withdrawn', {}, 'draft', ['1:approve']],
    ['withdrawn', { withdrawnFrom: 'pending_final_review' }, 'draft', ['1:approve', '2:approve']],
    ['archived', {}, 'archived', []],
    ['archived', { archivedFrom: 'returned' }, 'archived', ['1:approve', '2:reject']],
    ['retracted', {}, 'retracted', ['1:approve', '2:approve', '3:approve']],
    [
      'retracted',
      { retractedFrom: 'published' },
      'retracted',
      ['1:approve', '2:approve', '3:approve'],
    ],
  ];

  it.each(cases)('reaches %s %j through the review moves', async (state, extra, want, ds) => {
    const p = await b.post({ ...extra, state });
    expect(p.state).toBe(want);
    expect(p.decisions.map((d) => `${d.level}:${d.outcome}`)).toEqual(ds);
    if (state === 'published') {
      expect(p.publications.map((x) => x.status)).toEqual(['published']);
    }
    if (state === 'retracted') {
      expect(p.publications.map((x) => x.status)).toEqual([
        extra?.retractedFrom === 'published' ? 'retracting' : 'cancelled',
      ]);
    }
  });

  it('takes the people, department and channels it is given, and signs them in for HTTP', async () => {
    const d = await b.department({ code: 'BLD1' });
    expect(d.code).toBe('BLD1');
    const author = await b.user({ roles: [Role.EDITOR], departmentId: d.id });
    const head = await b.user({ roles: [Role.DEPT_REVIEWER], departmentId: d.id });
    const hook = await b.channel({
      departmentId: d.id,
      platform: 'webhook',
      config: { url: 'http://127.0.0.1:9/hook' },
    });
    expect(hook.generatedSecret).toMatch(/^whsec_/);
    const p = await b.post({
      author,
      channelIds: [hook.id],
      reviewers: { dept: head },
      state: 'pending_final_review',
      title: '指定的标题',
    });
    expect(p).toMatchObject({ title: '指定的标题', departmentId: d.id, authorId: author.id });
    expect(p.decisions[1].reviewer.id).toBe(head.id);
    const token = await b.tokenFor(author);
    expect(await b.tokenFor(author)).toBe(token);
    const res = await request(t.http).get(`/api/v1/posts/${p.id}`).set(bearer(token));
    expect(res.status).toBe(200);
    // What the builders return is what the API answers.
    expect(res.body).toMatchObject({ ...p, allowedActions: expect.any(Array) });
  });

  it('makes single moves on a post, trimmed as the API trims, and throws what the service refuses', async () => {
    const author = await b.user();
    const head = await b.deptReviewer(author.departmentId);
    const p = await b.draft(author, { title: '单步' });
    const edited = await b.edit(p, author, { title: '单步（改）' });
    expect(edited.currentRevision!.number).toBe(2);
    // `p` still shows revision 1: a stale read, refused as over HTTP.
    await expect(b.submit(p, author)).rejects.toMatchObject({ code: 'STALE_REVISION' });
    const pending = await b.submit(edited, author);
    expect(pending.state).toBe('pending_dept_review');
    await expect(b.approve(pending, author)).rejects.toMatchObject({ code: 'SELF_REVIEW' });
    const returned = await b.reject(pending, head, '  请补充来源 ');
    expect(returned.decisions[1]).toMatchObject({ level: 2, comment: '请补充来源' });
    expect((await b.act(returned, 'archive', author)).state).toBe('archived');
  });
});
