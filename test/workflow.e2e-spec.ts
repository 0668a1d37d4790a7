import request from 'supertest';
import { Role } from 'src/common/roles';
import { bearer, startApp, TestApp } from 'test/harness';
import { ATTESTED, buildCampus, Campus, expectOk, Flow } from 'test/workflow';

describe('the three-review workflow', () => {
  let t: TestApp;
  let c: Campus;
  let flow: Flow;

  beforeAll(async () => {
    // The review workflow alone: no publisher moving approved posts on meanwhile.
    t = await startApp({ PUBLISH_WORKERS_IN_API: 'false' });
    c = await buildCampus(t);
    flow = new Flow(t);
  });
  afterAll(() => t.close());

  const verifyChain = async () =>
    (await request(t.http).get('/api/v1/audit/verify').set(bearer(c.people.auditor.token))).body;

  describe('every row of the state table', () => {
    it('draft → submit → pending_dept_review → approve → pending_final_review → approve → approved, with publications queued', async () => {
      const p = await flow.create(c.people.editor, [
        c.channels.schoolSite.id,
        c.channels.mainAccount.id,
      ]);
      expect(p).toMatchObject({ state: 'draft', version: 1, currentRevision: { number: 1 } });
      const s = await flow.submit(c.people.editor, p);
      expect(s.status).toBe(200);
      expect(s.body.state).toBe('pending_dept_review');
      const a2 = await flow.approve(c.people.head, p, '同意');
      expect(a2.body.state).toBe('pending_final_review');
      const a3 = await flow.approve(c.people.prop, p);
      expect(a3.body.state).toBe('approved');
      expect(
        a3.body.decisions.map((d: { level: number; outcome: string }) => [d.level, d.outcome]),
      ).toEqual([
        [1, 'approve'],
        [2, 'approve'],
        [3, 'approve'],
      ]);
      expect(new Set(a3.body.decisions.map((d: { contentHash: string }) => d.contentHash))).toEqual(
        new Set([p.currentRevision.contentHash]),
      );
      expect(a3.body.publications).toHaveLength(2);
      for (const pub of a3.body.publications) {
        expect(pub).toMatchObject({ status: 'queued', contentHash: p.currentRevision.contentHash });
      }
    });

    it('pending_dept_review → reject → returned, with the reason kept', async () => {
      const p = await flow.at(c, 'pending_dept_review');
      const r = await flow.reject(c.people.head, p, '标题不准确');
      expect(r.status).toBe(200);
      expect(r.body.state).toBe('returned');
      expect(r.body.decisions[1]).toMatchObject({
        level: 2,
        outcome: 'reject',
        comment: '标题不准确',
      });
    });

    it('pending_final_review → reject → returned', async () => {
      const p = await flow.at(c, 'pending_final_review');
      const r = await flow.reject(c.people.prop, p);
      expect(r.body.state).toBe('returned');
      expect(r.body.decisions[2]).toMatchObject({ level: 3, outcome: 'reject' });
    });

    it('withdraw from either pending state → draft', async () => {
      const p = await flow.create(c.people.editor, [c.channels.schoolSite.id]);
      expectOk(await flow.submit(c.people.editor, p));
      expect((await flow.act(c.people.editor, p.id, 'withdraw')).body.state).toBe('draft');
      expectOk(await flow.submit(c.people.editor, p));
      expectOk(await flow.approve(c.people.head, p));
      expect((await flow.act(c.people.editor, p.id, 'withdraw', {})).body.state).toBe('draft');
    });

    it('archive from draft and from returned → archived', async () => {
      const d = await flow.create(c.people.editor, [c.channels.schoolSite.id]);
      expect((await flow.act(c.people.editor, d.id, 'archive')).body.state).toBe('archived');
      const r = await flow.at(c, 'returned');
      expect((await flow.act(c.people.editor, r.id, 'archive')).body.state).toBe('archived');
      const again = await flow.submit(c.people.editor, r);
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('INVALID_STATE');
    });

    it('approved → retract → retracted, cancelling what has not gone out', async () => {
      const p = await flow.approved(c);
      const noReason = await flow.act(c.people.prop, p.id, 'retract', {});
      expect(noReason.status).toBe(400);
      const r = await flow.act(c.people.prop, p.id, 'retract', { reason: '信息有误，撤稿' });
      expect(r.status).toBe(200);
      expect(r.body.state).toBe('retracted');
      expect(r.body.publications.map((x: { status: string }) => x.status)).toEqual(['cancelled']);
    });

    it('published → retract → retracted, marking delivered publications for take-down', async () => {
      // Publishing is the system's move: the builders make the publisher's attempts themselves.
      const p = await flow.at(c, 'published');
      expect(p.publications.map((x) => x.status)).toEqual(['published']);
      const r = await flow.act(c.people.prop, p.id, 'retract', { reason: '撤稿' });
      expect(r.body.state).toBe('retracted');
      expect(r.body.publications.map((x: { status: string }) => x.status)).toEqual(['retracting']);
    });

    it('nobody may move approved → published by hand', async () => {
      const p = await flow.approved(c);
      const res = await flow.act(c.people.prop, p.id, 'publish', {});
      expect(res.status).toBe(404);
    });
  });

  describe('refusals change nothing', () => {
    const pending = () => flow.at(c, 'pending_dept_review');
    async function unchanged(p: { id: string }, state: string) {
      const now = await flow.get(c.people.auditor, p.id);
      expect(now.body.state).toBe(state);
    }

    it('a department head of another department cannot see or decide', async () => {
      const p = await pending();
      const res = await flow.approve(c.people.otherHead, p);
      expect(res.status).toBe(404);
      expect((await flow.get(c.people.otherHead, p.id)).status).toBe(404);
      await unchanged(p, 'pending_dept_review');
    });

    it('a propaganda reviewer cannot skip level 2', async () => {
      const p = await pending();
      const res = await flow.approve(c.people.prop, p);
      // The act is one a propaganda reviewer makes later: the post is not yet in that state.
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('INVALID_STATE');
      await unchanged(p, 'pending_dept_review');
    });

    it('a department head cannot give level 3', async () => {
      const p = await flow.at(c, 'pending_final_review');
      const res = await flow.approve(c.people.head2, p);
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('INVALID_STATE');
      await unchanged(p, 'pending_final_review');
      const editor = await flow.approve(c.people.editor2, p);
      expect(editor.status).toBe(404);
      const auditor = await flow.approve(c.people.auditor, p);
      expect(auditor.status).toBe(403);
      expect(auditor.body.code).toBe('FORBIDDEN');
      await unchanged(p, 'pending_final_review');
    });

    it('an author deciding on its own post is SELF_REVIEW', async () => {
      const p = await flow.at(c, 'pending_dept_review', {
        author: c.people.propHead,
        channelIds: [c.channels.propOnly.id],
      });
      const res = await flow.approve(c.people.propHead, p);
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('SELF_REVIEW');
      await unchanged(p, 'pending_dept_review');
    });

    it('the same person giving levels 2 and 3 is SELF_REVIEW', async () => {
      const p = await flow.create(c.people.prop2, [c.channels.propOnly.id]).catch(() => null);
      expect(p).toBeNull(); // a reviewer without the editor role writes nothing
      const own = await request(t.http)
        .post('/api/v1/posts')
        .set(bearer(c.people.prop.token))
        .send({ title: 'x', body: '<p>x</p>', channelIds: [c.channels.propOnly.id] });
      expect(own.status).toBe(403);
      const editorProp = await c.b.user({ roles: [Role.EDITOR], departmentId: c.prop.id });
      const q = await flow.at(c, 'pending_final_review', {
        author: editorProp,
        channelIds: [c.channels.propOnly.id],
        reviewers: { dept: c.people.propHead },
      });
      const res = await flow.approve(c.people.propHead, q);
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('SELF_REVIEW');
      await unchanged(q, 'pending_final_review');
      expect((await flow.approve(c.people.prop, q)).body.state).toBe('approved');
    });

    it('only the author submits, withdraws, archives or edits', async () => {
      const p = await flow.create(c.people.editor, [c.channels.schoolSite.id]);
      // Another editor of the same school cannot even see it.
      expect((await flow.submit(c.people.editor2, p)).status).toBe(404);
      // The head sees it but may not act for the author.
      const sub = await flow.submit(c.people.head, p);
      expect(sub.status).toBe(403);
      const edit = await request(t.http)
        .patch(`/api/v1/posts/${p.id}`)
        .set(bearer(c.people.head.token))
        .send({ title: '改' });
      expect(edit.status).toBe(403);
      await unchanged(p, 'draft');
    });

    it('submit needs every attestation true (422 ATTESTATION_REQUIRED)', async () => {
      const p = await flow.create(c.people.editor, [c.channels.schoolSite.id]);
      const res = await flow.submit(c.people.editor, p, { ...ATTESTED, imagesLicensed: false });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('ATTESTATION_REQUIRED');
      expect(res.body.details.missing).toEqual(['imagesLicensed']);
      const partial = await flow.submit(c.people.editor, p, { factual: true });
      expect(partial.status).toBe(422);
      const none = await flow.act(c.people.editor, p.id, 'submit', {
        revisionId: p.currentRevision.id,
      });
      expect(none.status).toBe(400);
      await unchanged(p, 'draft');
    });

    it('reject and retract need a reason', async () => {
      const p = await pending();
      const res = await flow.act(c.people.head, p.id, 'reject', {
        revisionId: p.currentRevision.id,
        reason: '  ',
      });
      expect(res.status).toBe(400);
      expect(res.body.details[0].field).toBe('reason');
      await unchanged(p, 'pending_dept_review');
    });

    it('editors target only their department or channels accepting submissions', async () => {
      const own = await flow.create(c.people.editor, [
        c.channels.schoolSite.id,
        c.channels.mainAccount.id,
      ]);
      expect(own.state).toBe('draft');
      const foreign = await request(t.http)
        .post('/api/v1/posts')
        .set(bearer(c.people.editor.token))
        .send({ title: 't', body: '<p>b</p>', channelIds: [c.channels.otherSite.id] });
      expect(foreign.status).toBe(403);
      expect(foreign.body.code).toBe('CHANNEL_NOT_ALLOWED');
      const unknown = await request(t.http)
        .post('/api/v1/posts')
        .set(bearer(c.people.editor.token))
        .send({ title: 't', body: '<p>b</p>', channelIds: ['no-such-channel'] });
      expect(unknown.status).toBe(422);
      expect(unknown.body.code).toBe('CHANNEL_NOT_ALLOWED');
      const none = await request(t.http)
        .post('/api/v1/posts')
        .set(bearer(c.people.editor.token))
        .send({ title: 't', body: '<p>b</p>', channelIds: [] });
      expect(none.status).toBe(400);
    });
  });

  describe('separation of duties across rounds and channels', () => {
    it('a returned post resubmitted unchanged keeps the level-2 reviewer out of level 3', async () => {
      const editorProp = await c.b.person(
        await c.b.user({ roles: [Role.EDITOR], departmentId: c.prop.id }),
      );
      const p = await flow.create(editorProp, [c.channels.propOnly.id]);
      expectOk(await flow.submit(editorProp, p));
      expectOk(await flow.approve(c.people.propHead, p)); // level 2
      expectOk(await flow.reject(c.people.prop, p)); // level 3 returns it
      expectOk(await flow.submit(editorProp, p)); // same revision, round 2
      const propDeptHead = await c.b.person(
        await c.b.user({ roles: [Role.DEPT_REVIEWER], departmentId: c.prop.id }),
      );
      expectOk(await flow.approve(propDeptHead, p)); // a different level-2 reviewer
      const res = await flow.approve(c.people.propHead, p);
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('SELF_REVIEW');
      // The level-3 reviewer of round 1 may decide again at level 3: same level, same person.
      expect((await flow.approve(c.people.prop, p)).body.state).toBe('approved');
    });

    it('a channel deactivated during review stops the final approval with a reason', async () => {
      const ch = await c.b.channel({ departmentId: c.school.id });
      const p = await flow.at(c, 'pending_final_review', { channelIds: [ch.id] });
      await request(t.http)
        .delete(`/api/v1/channels/${ch.id}`)
        .set(bearer(t.adminToken))
        .expect(200);
      const res = await flow.approve(c.people.prop, p);
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('CHANNEL_NOT_ALLOWED');
      expect((await flow.get(c.people.auditor, p.id)).body.state).toBe('pending_final_review');
      expect((await flow.reject(c.people.prop, p, '频道已停用')).body.state).toBe('returned');
    });

    it('an author who is no longer an editor cannot edit or submit', async () => {
      const writer = await c.b.person(
        await c.b.user({ roles: [Role.EDITOR], departmentId: c.school.id }),
      );
      const p = await flow.at(c, 'draft', { author: writer });
      await request(t.http)
        .patch(`/api/v1/users/${writer.id}`)
        .set(bearer(t.adminToken))
        .send({ roles: ['auditor'] })
        .expect(200);
      expect((await flow.submit(writer, p)).status).toBe(403);
      const edit = await request(t.http)
        .patch(`/api/v1/posts/${p.id}`)
        .set(bearer(writer.token))
        .send({ title: '改' });
      expect(edit.status).toBe(403);
    });

    it('tells each caller what it may do now', async () => {
      const p = await flow.create(c.people.editor, [c.channels.schoolSite.id]);
      expect((await flow.get(c.people.editor, p.id)).body.allowedActions.sort()).toEqual([
        'archive',
        'edit',
        'submit',
      ]);
      expect((await flow.get(c.people.head, p.id)).body.allowedActions).toEqual([]);
      expectOk(await flow.submit(c.people.editor, p));
      expect((await flow.get(c.people.head, p.id)).body.allowedActions.sort()).toEqual([
        'approve',
        'reject',
      ]);
      expect((await flow.get(c.people.prop, p.id)).body.allowedActions).toEqual([]);
      expect((await flow.get(c.people.editor, p.id)).body.allowedActions).toEqual(['withdraw']);
    });
  });

  describe('revisions', () => {
    it('a decision on a stale revision is 409 STALE_REVISION and changes nothing', async () => {
      const p = await flow.create(c.people.editor, [c.channels.schoolSite.id]);
      const edited = await request(t.http)
        .patch(`/api/v1/posts/${p.id}`)
        .set(bearer(c.people.editor.token))
        .send({ title: '新标题' });
      expect(edited.body.currentRevision.number).toBe(2);
      const stale = await flow.submit(c.people.editor, p);
      expect(stale.status).toBe(409);
      expect(stale.body.code).toBe('STALE_REVISION');
      expect((await flow.get(c.people.editor, p.id)).body.state).toBe('draft');
      expectOk(await flow.submit(c.people.editor, edited.body));
      const staleApprove = await flow.approve(c.people.head, p);
      expect(staleApprove.status).toBe(409);
      expect(staleApprove.body.code).toBe('STALE_REVISION');
    });

    it('content cannot change under review (409 INVALID_STATE)', async () => {
      const p = await flow.create(c.people.editor, [c.channels.schoolSite.id]);
      expectOk(await flow.submit(c.people.editor, p));
      const res = await request(t.http)
        .patch(`/api/v1/posts/${p.id}`)
        .set(bearer(c.people.editor.token))
        .send({ body: '<p>偷偷改</p>' });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('INVALID_STATE');
      const now = await flow.get(c.people.editor, p.id);
      expect(now.body.currentRevision.number).toBe(1);
    });

    it('after a return the author revises and resubmits; review starts again at level 2', async () => {
      const p = await flow.at(c, 'returned', { returnedAt: 3, reason: '图片需授权' });
      const revised = await request(t.http)
        .patch(`/api/v1/posts/${p.id}`)
        .set(bearer(c.people.editor.token))
        .send({ body: '<p>换了图片</p>' });
      expect(revised.status).toBe(200);
      expect(revised.body.currentRevision.number).toBe(2);
      expect(revised.body.state).toBe('returned');
      const s = await flow.submit(c.people.editor, revised.body);
      expect(s.body.state).toBe('pending_dept_review');
      // The head who approved round 1 may approve again at level 2, and the level-3
      // reviewer now binds to revision 2's hash.
      expectOk(await flow.approve(c.people.head2, revised.body));
      const done = await flow.approve(c.people.prop, revised.body);
      expect(done.body.state).toBe('approved');
      expect(done.body.publications[0].contentHash).toBe(revised.body.currentRevision.contentHash);
    });

    it('sanitises the body, hashes canonically, and lists and diffs revisions', async () => {
      const p = await flow.create(c.people.editor, [c.channels.schoolSite.id], {
        body: '<p onclick="x()">你好<script>alert(1)</script><a href="javascript:alert(1)">链接</a></p>',
      });
      expect(p.currentRevision.body).not.toMatch(/script|onclick|javascript/);
      expect(p.currentRevision.contentHash).toMatch(/^[0-9a-f]{64}$/);
      const same = await request(t.http)
        .patch(`/api/v1/posts/${p.id}`)
        .set(bearer(c.people.editor.token))
        .send({ title: '校园新闻' });
      expect(same.body.currentRevision.number).toBe(1); // nothing changed, no new revision
      await request(t.http)
        .patch(`/api/v1/posts/${p.id}`)
        .set(bearer(c.people.editor.token))
        .send({ title: '校园要闻' })
        .expect(200);
      const list = await request(t.http)
        .get(`/api/v1/posts/${p.id}/revisions`)
        .set(bearer(c.people.editor.token));
      expect(list.body.items.map((r: { number: number }) => r.number)).toEqual([1, 2]);
      const r1 = await request(t.http)
        .get(`/api/v1/posts/${p.id}/revisions/1`)
        .set(bearer(c.people.editor.token));
      expect(r1.body.title).toBe('校园新闻');
      const diff = await request(t.http)
        .get(`/api/v1/posts/${p.id}/diff?from=1&to=2`)
        .set(bearer(c.people.editor.token));
      expect(diff.status).toBe(200);
      expect(diff.body.changed).toEqual(['title']);
      expect(diff.body.fields.title).toEqual(
        expect.arrayContaining([
          { op: 'delete', text: '新' },
          { op: 'insert', text: '要' },
        ]),
      );
      const missing = await request(t.http)
        .get(`/api/v1/posts/${p.id}/revisions/9`)
        .set(bearer(c.people.editor.token));
      expect(missing.status).toBe(404);
    });

    it('refuses null for a required field on PATCH, and null clears an optional one', async () => {
      const p = await flow.create(c.people.editor, [c.channels.schoolSite.id]);
      for (const field of ['title', 'body', 'channelIds']) {
        const res = await request(t.http)
          .patch(`/api/v1/posts/${p.id}`)
          .set(bearer(c.people.editor.token))
          .send({ [field]: null });
        expect(res.status).toBe(400);
        expect(res.body.details[0].field).toBe(field);
      }
      const cleared = await request(t.http)
        .patch(`/api/v1/posts/${p.id}`)
        .set(bearer(c.people.editor.token))
        .send({ summary: null });
      expect(cleared.status).toBe(200);
      expect(cleared.body.currentRevision).toMatchObject({ number: 2, summary: null });
    });

    it('enforces the content limits with field errors', async () => {
      const cases = [
        { title: '标'.repeat(65) },
        { summary: '摘'.repeat(121) },
        { body: 'x'.repeat(200_001) },
        { coverImageUrl: 'javascript:alert(1)' },
        { publishAt: '2001-01-01T00:00:00Z' },
      ];
      for (const overrides of cases) {
        const res = await request(t.http)
          .post('/api/v1/posts')
          .set(bearer(c.people.editor.token))
          .send({
            title: 't',
            body: '<p>b</p>',
            channelIds: [c.channels.schoolSite.id],
            ...overrides,
          });
        expect(res.status).toBe(400);
        expect(res.body.details[0].field).toBe(Object.keys(overrides)[0]);
      }
    });
  });

  describe('concurrency', () => {
    it('of 50 concurrent final approvals exactly one succeeds; one event; the chain verifies', async () => {
      const p = await flow.at(c, 'pending_final_review');
      const results = await Promise.all(
        Array.from({ length: 50 }, () => flow.approve(c.people.prop, p)),
      );
      const ok = results.filter((r) => r.status === 200);
      const conflicts = results.filter((r) => r.status === 409);
      expect(ok).toHaveLength(1);
      expect(conflicts).toHaveLength(49);
      expect(new Set(conflicts.map((r) => r.body.code))).toEqual(new Set(['INVALID_STATE']));
      const events = await request(t.http)
        .get(`/api/v1/audit/events?entityId=${p.id}&action=post.approved`)
        .set(bearer(c.people.auditor.token));
      expect(events.body.items).toHaveLength(2); // level 2 and this one
      const post = (await flow.get(c.people.auditor, p.id)).body;
      expect(post.publications).toHaveLength(1);
      expect(post.decisions.filter((d: { level: number }) => d.level === 3)).toHaveLength(1);
      expect((await verifyChain()).ok).toBe(true);
    });
  });

  describe('reading', () => {
    it('each role sees what it may: editors their own, heads their department, propaganda and auditors all, admins none', async () => {
      const mine = await flow.create(c.people.editor, [c.channels.schoolSite.id]);
      const theirs = await flow.create(c.people.otherEditor, [c.channels.otherSite.id]);
      const ids = async (token: string) =>
        (
          (await request(t.http).get('/api/v1/posts?pageSize=200').set(bearer(token))).body
            .items as { id: string }[]
        ).map((x) => x.id);
      expect(await ids(c.people.editor.token)).toContain(mine.id);
      expect(await ids(c.people.editor.token)).not.toContain(theirs.id);
      expect(await ids(c.people.editor2.token)).not.toContain(mine.id);
      expect(await ids(c.people.head.token)).toContain(mine.id);
      expect(await ids(c.people.head.token)).not.toContain(theirs.id);
      expect(await ids(c.people.prop.token)).toEqual(expect.arrayContaining([mine.id, theirs.id]));
      expect(await ids(c.people.auditor.token)).toEqual(
        expect.arrayContaining([mine.id, theirs.id]),
      );
      expect(await ids(t.adminToken)).toEqual([]);
    });

    it('filters by state, department, channel, author, title and creation time', async () => {
      const tag = `筛选${Date.now()}`;
      const a = await flow.create(c.people.editor, [c.channels.schoolSite.id], {
        title: `${tag} 甲`,
      });
      const b = await flow.create(c.people.editor, [c.channels.mainAccount.id], {
        title: `${tag} 乙`,
      });
      expectOk(await flow.submit(c.people.editor, b));
      const q = async (query: string) =>
        (
          (await request(t.http).get(`/api/v1/posts?${query}`).set(bearer(c.people.auditor.token)))
            .body.items as { id: string }[]
        ).map((x) => x.id);
      const qs = `q=${encodeURIComponent(tag)}`;
      expect((await q(qs)).sort()).toEqual([a.id, b.id].sort());
      expect(await q(`${qs}&state=pending_dept_review`)).toEqual([b.id]);
      expect(await q(`${qs}&channelId=${c.channels.schoolSite.id}`)).toEqual([a.id]);
      expect(
        (await q(`${qs}&departmentId=${c.school.id}&authorId=${c.people.editor.id}`)).length,
      ).toBe(2);
      expect(await q(`${qs}&createdFrom=2999-01-01T00:00:00Z`)).toEqual([]);
      const pct = await flow.create(c.people.editor, [c.channels.schoolSite.id], {
        title: `${tag} 增长50%_完成`,
      });
      expect(await q(`q=${encodeURIComponent(`${tag} 增长50%_`)}`)).toEqual([pct.id]);
      expect(await q(`q=${encodeURIComponent(`${tag}%甲`)}`)).toEqual([]);
      expect(
        (
          await request(t.http)
            .get('/api/v1/posts?state=nonsense')
            .set(bearer(c.people.auditor.token))
        ).status,
      ).toBe(400);
    });

    it('the inbox holds what waits for the caller, oldest first, with waiting time and counts', async () => {
      const p1 = await flow.create(c.people.editor, [c.channels.schoolSite.id]);
      expectOk(await flow.submit(c.people.editor, p1));
      const p2 = await flow.create(c.people.editor, [c.channels.schoolSite.id]);
      expectOk(await flow.submit(c.people.editor, p2));
      const inbox = (
        await request(t.http)
          .get('/api/v1/review/inbox?pageSize=200&count=true')
          .set(bearer(c.people.head.token))
      ).body;
      const ids = inbox.items.map((x: { id: string }) => x.id);
      expect(ids.indexOf(p1.id)).toBeLessThan(ids.indexOf(p2.id));
      expect(inbox.items[0]).toMatchObject({ level: 2, waitingSeconds: expect.any(Number) });
      expect(inbox.counts.pending_dept_review).toBe(inbox.total);
      expect(inbox.items.every((x: { state: string }) => x.state === 'pending_dept_review')).toBe(
        true,
      );
      const other = (
        await request(t.http).get('/api/v1/review/inbox').set(bearer(c.people.otherHead.token))
      ).body;
      expect(other.items.map((x: { id: string }) => x.id)).not.toContain(p1.id);
      expectOk(
        await flow.approve(
          c.people.propHead.departmentId === c.school.id ? c.people.propHead : c.people.head,
          p1,
        ),
      );
      const prop = (
        await request(t.http)
          .get('/api/v1/review/inbox?pageSize=200')
          .set(bearer(c.people.prop.token))
      ).body;
      expect(prop.items.map((x: { id: string }) => x.id)).toContain(p1.id);
      expect(prop.items.map((x: { id: string }) => x.id)).not.toContain(p2.id);
      const editorInbox = (
        await request(t.http)
          .get('/api/v1/review/inbox?count=true')
          .set(bearer(c.people.editor.token))
      ).body;
      expect(editorInbox).toMatchObject({ items: [], total: 0, nextCursor: null, counts: {} });
    });

    it('history is the post’s 审核登记表: every act with actor, role, revision and hash', async () => {
      const p = await flow.at(c, 'returned', { reason: '需补充来源' });
      await request(t.http)
        .patch(`/api/v1/posts/${p.id}`)
        .set(bearer(c.people.editor.token))
        .send({ summary: '补充了来源' })
        .expect(200);
      const h = (
        await request(t.http)
          .get(`/api/v1/posts/${p.id}/history`)
          .set(bearer(c.people.auditor.token))
      ).body;
      expect(h.events.map((e: { action: string }) => e.action)).toEqual([
        'post.created',
        'post.submitted',
        'post.rejected',
        'post.revised',
      ]);
      const rejected = h.events[2];
      expect(rejected).toMatchObject({
        fromState: 'pending_dept_review',
        toState: 'returned',
        comment: '需补充来源',
        revisionNumber: 1,
        contentHash: p.currentRevision.contentHash,
        actor: { id: c.people.head.id, username: c.people.head.username, roles: ['dept_reviewer'] },
      });
      expect(h.events[1].details.attestation).toEqual(ATTESTED);
      expect(h.events[3].revisionNumber).toBe(2);
    });
  });
});
