import request from 'supertest';
import { DataSource } from 'typeorm';
import { bearer, startApp, TestApp, USING_MYSQL } from 'test/harness';
import { buildCampus, Campus, expectOk, Flow } from 'test/workflow';

type Person = Campus['people']['editor'];

interface HitBody {
  term: string;
  category: string;
  level: string;
  field: string;
  start: number;
  end: number;
}

describe('sensitive-term screening (敏感词)', () => {
  let t: TestApp;
  let c: Campus;
  let flow: Flow;

  beforeAll(async () => {
    t = await startApp({ PUBLISH_WORKERS_IN_API: 'false' });
    c = await buildCampus(t);
    flow = new Flow(t);
    for (const term of [
      { term: '赌博网站', category: 'illegal', level: 'block' },
      { term: 'casino88', category: 'ads', level: 'block' },
      { term: '大法', category: 'political', level: 'block' },
      { term: '大法官', category: 'political', level: 'block', allow: true },
      { term: '内部资料', category: 'confidential', level: 'warn' },
    ]) {
      expectOk(await addTerm(term));
    }
  });
  afterAll(() => t.close());

  const addTerm = (body: object, who: Person = c.people.prop) =>
    request(t.http).post('/api/v1/screening/terms').set(bearer(who.token)).send(body);

  const importList = (text: string, who: Person = c.people.prop) =>
    request(t.http)
      .post('/api/v1/screening/terms/import')
      .set(bearer(who.token))
      .set('Content-Type', 'text/plain; charset=utf-8')
      .send(text);

  const check = (body: object, who: Person = c.people.editor) =>
    request(t.http).post('/api/v1/screening/check').set(bearer(who.token)).send(body);

  const events = async (action: string) =>
    (
      await request(t.http)
        .get(`/api/v1/audit/events?action=${action}&limit=500`)
        .set(bearer(c.people.auditor.token))
    ).body.items as {
      action: string;
      entityId: string | null;
      details: Record<string, unknown> | null;
    }[];

  const verifyChain = async () =>
    (await request(t.http).get('/api/v1/audit/verify').set(bearer(c.people.auditor.token))).body;

  /** A draft carrying the given text, submitted: the submit response. */
  const submitWith = async (content: { title?: string; summary?: string; body?: string }) => {
    const p = await flow.create(c.people.editor, [c.channels.schoolSite.id], content);
    return { post: p, res: await flow.submit(c.people.editor, p) };
  };

  describe('a block term refuses the submission', () => {
    it.each([
      ['as written, in the title', { title: '警惕赌博网站' }],
      ['in traditional characters', { summary: '遠離賭博網站' }],
      [
        'with spaces, symbols and zero-width characters between',
        { body: '<p>赌 博*网\u200b站</p>' },
      ],
      ['written full-width', { body: '<p>访问 ＣＡＳＩＮＯ８８ 领奖</p>' }],
      ['in upper case across markup', { body: '<p><b>CASI</b>no-88</p>' }],
    ])('%s: 422 SENSITIVE_CONTENT and the post stays a draft', async (_, content) => {
      const { post, res } = await submitWith(content);
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('SENSITIVE_CONTENT');
      const hits = res.body.details.hits as HitBody[];
      expect(hits.some((h) => h.level === 'block')).toBe(true);
      const after = await flow.get(c.people.editor, post.id);
      expect(after.body).toMatchObject({ state: 'draft', version: post.version, screening: null });
      expect(after.body.decisions).toEqual([]);
      const history = await request(t.http)
        .get(`/api/v1/posts/${post.id}/history`)
        .set(bearer(c.people.editor.token));
      expect(history.body.events.map((e: { action: string }) => e.action)).toEqual([
        'post.created',
      ]);
    });

    it('names the field and the offsets of each hit, body offsets in its text form', async () => {
      const { res } = await submitWith({
        title: '标题',
        body: '<p>第一段</p><p>远离<b>赌博</b>网站</p>',
      });
      expect(res.status).toBe(422);
      expect(res.body.details.hits).toEqual([
        { term: '赌博网站', category: 'illegal', level: 'block', field: 'body', start: 6, end: 10 },
      ]);
      // bodyText: "第一段\n远离赌博网站"
      expect('第一段\n远离赌博网站'.slice(6, 10)).toBe('赌博网站');
    });

    it('an allow-listed phrase containing a term is not flagged; the term alone still is', async () => {
      const ok = await submitWith({ body: '<p>最高人民法院大法官出席</p>' });
      expect(ok.res.status).toBe(200);
      expect(ok.res.body.screening).toMatchObject({ hits: [], hitCount: 0 });
      const bad = await submitWith({ body: '<p>大法好</p>' });
      expect(bad.res.status).toBe(422);
      expect(bad.res.body.details.hits).toEqual([
        expect.objectContaining({ term: '大法', field: 'body', start: 0, end: 2 }),
      ]);
    });
  });

  describe('a warn term lets the submission through, on record', () => {
    it('shows the warnings on the post, in the inbox and in the post.submitted event', async () => {
      const { post, res } = await submitWith({ title: '一份內部資料', summary: '摘要' });
      expect(res.status).toBe(200);
      expect(res.body.state).toBe('pending_dept_review');
      const expected = {
        revisionId: post.currentRevision.id,
        round: 1,
        hitCount: 1,
        hits: [
          {
            term: '内部资料',
            category: 'confidential',
            level: 'warn',
            field: 'title',
            start: 2,
            end: 6,
          },
        ],
        checkedAt: expect.any(String),
      };
      expect(res.body.screening).toEqual(expected);
      expect((await flow.get(c.people.head, post.id)).body.screening).toEqual(expected);

      const inbox = await request(t.http)
        .get('/api/v1/review/inbox?pageSize=200')
        .set(bearer(c.people.head.token));
      const item = inbox.body.items.find((i: { id: string }) => i.id === post.id);
      expect(item).toMatchObject({ screeningWarnings: 1, screening: expected });
      const clean = inbox.body.items.find((i: { id: string }) => i.id !== post.id);
      expect(clean).toMatchObject({ screeningWarnings: 0 });

      const submitted = (await events('post.submitted')).find((e) => e.entityId === post.id)!;
      expect(submitted.details!.screening).toEqual({
        hitCount: 1,
        hits: expected.hits,
      });
    });

    it('a resubmission is screened afresh: the post shows its latest round', async () => {
      const { post } = await submitWith({ title: '内部资料汇编' });
      expectOk(await flow.reject(c.people.head, post, '请删去内部资料'));
      const edited = await request(t.http)
        .patch(`/api/v1/posts/${post.id}`)
        .set(bearer(c.people.editor.token))
        .send({ title: '公开资料汇编' });
      expectOk(edited);
      const again = await flow.submit(c.people.editor, edited.body);
      expect(again.status).toBe(200);
      expect(again.body.screening).toMatchObject({
        round: 2,
        revisionId: edited.body.currentRevision.id,
        hits: [],
      });
    });
  });

  describe('POST /screening/check', () => {
    it('works for an editor, with body offsets in the text form', async () => {
      const res = await check({
        title: '赌博网站',
        summary: null,
        body: '<p>一</p><p>看看&nbsp;内部 资料</p>',
      });
      expect(res.status).toBe(200);
      expect(res.body.hits).toEqual([
        { term: '赌博网站', category: 'illegal', level: 'block', field: 'title', start: 0, end: 4 },
        {
          term: '内部资料',
          category: 'confidential',
          level: 'warn',
          field: 'body',
          start: 5,
          end: 10,
        },
      ]);
      expect(res.body.total).toBe(2);
    });

    it('answers no hits for clean text, and 400 for unknown fields', async () => {
      expect((await check({ body: '<p>校运会圆满落幕</p>' })).body).toEqual({ hits: [], total: 0 });
      const bad = await check({ text: '赌博网站' });
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('VALIDATION_FAILED');
    });
  });

  describe('managing terms', () => {
    it('propaganda reviewers create, list, update and delete; each change is audited', async () => {
      const created = await addTerm({ term: ' 测试词甲 ', category: 'test', level: 'warn' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        id: expect.any(String),
        term: '测试词甲',
        normalizedTerm: '测试词甲',
        category: 'test',
        level: 'warn',
        allow: false,
        createdBy: c.people.prop.id,
      });
      const id = created.body.id as string;
      expect((await check({ title: '测试词甲' })).body.hits[0]).toMatchObject({ level: 'warn' });

      const list = await request(t.http)
        .get('/api/v1/screening/terms?q=測試&category=test&level=warn&allow=false')
        .set(bearer(c.people.prop.token));
      expect(list.status).toBe(200);
      expect(list.body).toMatchObject({ total: 1, page: 1, items: [{ id }] });

      const patched = await request(t.http)
        .patch(`/api/v1/screening/terms/${id}`)
        .set(bearer(c.people.prop.token))
        .send({ level: 'block' });
      expect(patched.status).toBe(200);
      expect(patched.body.level).toBe('block');
      expect((await check({ title: '测试词甲' })).body.hits[0]).toMatchObject({ level: 'block' });

      const deleted = await request(t.http)
        .delete(`/api/v1/screening/terms/${id}`)
        .set(bearer(c.people.prop.token));
      expect(deleted.status).toBe(200);
      expect((await check({ title: '测试词甲' })).body.hits).toEqual([]);
      expect(
        (
          await request(t.http)
            .get(`/api/v1/screening/terms/${id}`)
            .set(bearer(c.people.prop.token))
        ).status,
      ).toBe(404);

      const trail = (
        await request(t.http)
          .get(`/api/v1/audit/events?entityType=screening_term&entityId=${id}&order=asc`)
          .set(bearer(c.people.auditor.token))
      ).body.items.map((e: { action: string }) => e.action);
      expect(trail).toEqual([
        'screening.term_created',
        'screening.term_updated',
        'screening.term_deleted',
      ]);
      expect(await verifyChain()).toMatchObject({ ok: true });
    });

    it('refuses a term that normalises like an existing one: 409 DUPLICATE', async () => {
      const res = await addTerm({ term: '賭 博 網 站', category: 'illegal', level: 'warn' });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('DUPLICATE');
      expect(res.body.details).toMatchObject({ field: 'term', normalizedTerm: '赌博网站' });
    });

    it('tells apart terms a loose collation would confuse (kana, astral characters)', async () => {
      expect((await addTerm({ term: 'てすと', category: 'kana', level: 'warn' })).status).toBe(201);
      expect((await addTerm({ term: 'テスト', category: 'kana', level: 'warn' })).status).toBe(201);
      expect((await addTerm({ term: '𠀀𠀁', category: 'astral', level: 'warn' })).status).toBe(201);
      expect((await addTerm({ term: '𠀂𠀃', category: 'astral', level: 'warn' })).status).toBe(201);
      const hits = (await check({ title: 'テスト 𠀂𠀃' })).body.hits as HitBody[];
      expect(hits.map((h) => h.term)).toEqual(['テスト', '𠀂𠀃']);
    });

    it('refuses bad input and unknown fields with 400', async () => {
      for (const body of [
        { term: '某词', category: 'x', level: 'block', colour: 'red' },
        { term: '某词', category: 'x', level: 'stop' },
        { term: '某词', category: 'bad category', level: 'block' },
        { term: '', category: 'x', level: 'block' },
        { term: '！？…', category: 'x', level: 'block' },
        { category: 'x', level: 'block' },
      ]) {
        const res = await addTerm(body);
        expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
      }
      const someId = (
        await request(t.http).get('/api/v1/screening/terms').set(bearer(c.people.prop.token))
      ).body.items[0].id;
      const patch = await request(t.http)
        .patch(`/api/v1/screening/terms/${someId}`)
        .set(bearer(c.people.prop.token))
        .send({ weight: 3 });
      expect([patch.status, patch.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    });

    it('is for propaganda reviewers only: editors, department heads, auditors and admins get 403', async () => {
      const someId = (
        await request(t.http).get('/api/v1/screening/terms').set(bearer(c.people.prop.token))
      ).body.items[0].id;
      for (const who of [c.people.editor, c.people.head, c.people.auditor]) {
        const calls = [
          request(t.http).get('/api/v1/screening/terms').set(bearer(who.token)),
          request(t.http).get(`/api/v1/screening/terms/${someId}`).set(bearer(who.token)),
          addTerm({ term: '越权词', category: 'x', level: 'block' }, who),
          request(t.http)
            .patch(`/api/v1/screening/terms/${someId}`)
            .set(bearer(who.token))
            .send({ level: 'warn' }),
          request(t.http).delete(`/api/v1/screening/terms/${someId}`).set(bearer(who.token)),
          importList('越权词\n', who),
        ];
        for (const res of await Promise.all(calls)) {
          expect([res.status, res.body.code]).toEqual([403, 'FORBIDDEN']);
        }
      }
      const admin = await request(t.http).get('/api/v1/screening/terms').set(bearer(t.adminToken));
      expect(admin.status).toBe(403);
      expect((await check({ title: '越权词' })).body.hits).toEqual([]);
    });
  });

  describe('POST /screening/terms/import', () => {
    it('imports 20 000 lines in one transaction with one audit event', async () => {
      const lines = ['# 导入测试词库', ''];
      for (let i = 0; i < 20_000; i++) {
        lines.push(
          `导入词${i.toString(36)}号,${i % 2 ? 'imported' : ''},${i % 3 ? 'block' : 'warn'}`,
        );
      }
      const before = await verifyChain();
      const started = Date.now();
      const res = await importList(lines.join('\n'));
      const ms = Date.now() - started;
      process.stdout.write(
        `screening import of 20000 lines on ${USING_MYSQL ? 'MySQL' : 'SQLite'}: ${ms} ms\n`,
      );
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        imported: 20_000,
        updated: 0,
        skipped: 0,
        errors: [],
        errorCount: 0,
      });
      expect(ms).toBeLessThan(15_000);

      const imports = await events('screening.terms_imported');
      expect(imports).toHaveLength(1);
      expect(imports[0].details).toMatchObject({
        imported: 20_000,
        updated: 0,
        skipped: 0,
        errors: 0,
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      expect(await verifyChain()).toMatchObject({ ok: true, checked: before.checked + 1 });

      // In force as soon as the import answers.
      const { res: refused } = await submitWith({ title: '导入词ab号' });
      expect(refused.status).toBe(422);
      const hit = (await check({ title: '导入词0号 导入词1号' })).body.hits;
      expect(hit.map((h: HitBody) => [h.term, h.category, h.level])).toEqual([
        ['导入词0号', 'general', 'warn'],
        ['导入词1号', 'imported', 'block'],
      ]);

      // Again, with two changed: existing terms are updated or skipped, not duplicated.
      lines[2] = '导入词0号,general,block';
      lines[3] = '导入词1号,renamed,block';
      const again = await importList(lines.join('\n'));
      expect(again.body).toEqual({
        imported: 0,
        updated: 2,
        skipped: 19_998,
        errors: [],
        errorCount: 0,
      });
      expect(await events('screening.terms_imported')).toHaveLength(2);
      const total = await request(t.http)
        .get('/api/v1/screening/terms?category=imported&pageSize=1')
        .set(bearer(c.people.prop.token));
      expect(total.body.total).toBe(9_999);
    });

    it('reports bad lines with their line numbers and imports the rest', async () => {
      const res = await importList(
        [
          '# comment',
          '坏行测试甲,c1,block',
          '坏行测试乙,c1,danger',
          '   ',
          ',c1',
          '坏行测试丙,not a category',
          '坏行测试甲,c1',
          '坏行 测试 甲,c1',
          '坏行测试丁,c1,warn,extra',
          '坏行測試甲,c2,warn',
          '賭博網站,illegal,block',
        ].join('\r\n'),
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ imported: 1, updated: 0, skipped: 3, errorCount: 5 });
      expect(res.body.errors.map((e: { line: number }) => e.line)).toEqual([3, 5, 6, 9, 10]);
      expect(res.body.errors[0].reason).toMatch(/level/);
    });

    it('wants text/plain: JSON answers 415', async () => {
      const res = await request(t.http)
        .post('/api/v1/screening/terms/import')
        .set(bearer(c.people.prop.token))
        .send({ terms: ['某词'] });
      expect([res.status, res.body.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    });
  });

  it("picks up another process's change within a few seconds", async () => {
    // As another gateway process would: a committed change and a version bump, behind our back.
    const ds = t.app.get(DataSource);
    const now = new Date().toISOString().replace('T', ' ').slice(0, 23);
    await ds.transaction(async (m) => {
      await m.query(
        `INSERT INTO screening_terms (id, term, normalizedTerm, category, level, ${USING_MYSQL ? '`allow`' : '"allow"'}, createdBy, createdAt, updatedAt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          '00000000-0000-4000-8000-000000000001',
          '别处添加',
          '别处添加',
          'general',
          'block',
          0,
          c.people.prop.id,
          now,
          now,
        ],
      );
      await m.query('UPDATE screening_state SET version = version + 1 WHERE id = 1');
    });
    const deadline = Date.now() + 8000;
    let hits: HitBody[] = [];
    while (Date.now() < deadline) {
      hits = (await check({ title: '别处添加' })).body.hits;
      if (hits.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(hits).toEqual([expect.objectContaining({ term: '别处添加', level: 'block' })]);
  });
});
