import request from 'supertest';
import { DataSource } from 'typeorm';
import { Role } from 'src/common/roles';
import { bearer, startApp, TestApp } from 'test/harness';
import { buildCampus, Campus, expectOk, Flow } from 'test/workflow';

type Page = { items: { id: string }[]; nextCursor: string | null; pageSize: number };

describe('lists: keyset paging, counts on request, text search', () => {
  let t: TestApp;
  let c: Campus;
  let flow: Flow;
  let db: DataSource;

  beforeAll(async () => {
    t = await startApp({ PUBLISH_WORKERS_IN_API: 'false' });
    c = await buildCampus(t);
    flow = new Flow(t);
    db = t.app.get(DataSource);
  });
  afterAll(() => t.close());

  const get = (token: string, url: string) =>
    request(t.http).get(`/api/v1/${url}`).set(bearer(token));

  /** Every page of a list after the first, following nextCursor; fails on a repeated id. */
  async function walk(token: string, url: string, pageSize: number): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const sep = url.includes('?') ? '&' : '?';
      const res = await get(
        token,
        `${url}${sep}pageSize=${pageSize}${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.status).toBe(200);
      const body = res.body as Page & { total?: number };
      expect(body.pageSize).toBe(pageSize);
      expect(body.total).toBeUndefined();
      expect(body.items.length).toBeLessThanOrEqual(pageSize);
      ids.push(...body.items.map((i) => String(i.id)));
      if (!body.nextCursor) break;
      expect(body.items).toHaveLength(pageSize);
      cursor = body.nextCursor;
    }
    expect(new Set(ids).size).toBe(ids.length);
    return ids;
  }

  /** The same list in one page, with its exact count. */
  async function whole(token: string, url: string): Promise<string[]> {
    const sep = url.includes('?') ? '&' : '?';
    const res = await get(token, `${url}${sep}pageSize=200&count=true`);
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.total).toBe(res.body.items.length);
    return (res.body as Page).items.map((i) => String(i.id));
  }

  const sameTime = async (table: string, column: string, ids: string[]) => {
    const at = new Date(Date.now() - 60_000);
    for (const id of ids) {
      await db
        .createQueryBuilder()
        .update(table)
        .set({ [column]: at })
        .where({ id })
        .execute();
      // The search index carries each post's createdAt (which the application never changes).
      if (column === 'createdAt') {
        await db
          .createQueryBuilder()
          .update('post_search_grams')
          .set({ createdAt: at })
          .where({ postId: id })
          .execute();
      }
    }
  };

  it('walks the posts page by page with no repeats or gaps, for each kind of caller', async () => {
    const tag = '翻页';
    const mine = [];
    for (let i = 0; i < 13; i++) {
      mine.push(
        await flow.create(c.people.editor, [c.channels.schoolSite.id], { title: `${tag}${i}` }),
      );
    }
    // Ties on the timestamp are ordered by id.
    await sameTime(
      'posts',
      'createdAt',
      mine.slice(3, 8).map((p) => p.id),
    );
    for (let i = 0; i < 4; i++) await flow.create(c.people.otherEditor, [c.channels.otherSite.id]);
    for (const who of [c.people.auditor, c.people.head, c.people.editor, c.people.propHead]) {
      for (const url of ['posts', `posts?q=${encodeURIComponent(tag)}`, 'posts?state=draft']) {
        const all = await whole(who.token, url);
        expect(await walk(who.token, url, 4)).toEqual(all);
      }
    }
    const byAuditor = await whole(c.people.auditor.token, `posts?q=${encodeURIComponent(tag)}`);
    expect(byAuditor.sort()).toEqual(mine.map((p) => p.id).sort());
    const head = await whole(c.people.head.token, 'posts');
    expect(head).toEqual(expect.arrayContaining(mine.map((p) => p.id)));
    const dated = (await get(c.people.auditor.token, 'posts?pageSize=200')).body.items.map(
      (p: { createdAt: string; id: string }) => [p.createdAt, p.id],
    );
    const sorted = [...dated].sort((a, b) =>
      a[0] === b[0] ? (a[1] < b[1] ? 1 : -1) : a[0] < b[0] ? 1 : -1,
    );
    expect(dated).toEqual(sorted);
  });

  it('walks the inbox oldest first, with counts per state and a total on request', async () => {
    const propEditor = await c.org.user([Role.EDITOR], c.prop.id);
    const school = [];
    for (let i = 0; i < 7; i++) {
      const p = await flow.create(c.people.editor, [c.channels.schoolSite.id]);
      expectOk(await flow.submit(c.people.editor, p));
      school.push(p);
    }
    for (const p of school.slice(0, 4)) expectOk(await flow.approve(c.people.head, p));
    for (let i = 0; i < 3; i++) {
      const p = await flow.create(propEditor, [c.channels.propOnly.id]);
      expectOk(await flow.submit(propEditor, p));
    }
    await sameTime(
      'posts',
      'stateChangedAt',
      school.slice(0, 3).map((p) => p.id),
    );
    for (const who of [c.people.head, c.people.prop, c.people.propHead]) {
      const all = await whole(who.token, 'review/inbox');
      expect(await walk(who.token, 'review/inbox', 2)).toEqual(all);
      const first = (await get(who.token, 'review/inbox?pageSize=200&count=true')).body;
      const counts = Object.values(first.counts as Record<string, number>);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(first.total);
      const waits = first.items.map((i: { stateChangedAt: string }) => i.stateChangedAt);
      expect(waits).toEqual([...waits].sort());
    }
    const propHead = (await get(c.people.propHead.token, 'review/inbox?pageSize=200')).body;
    expect(propHead.counts).toEqual({ pending_dept_review: 3, pending_final_review: 4 });
    expect(propHead.items[0]).toMatchObject({
      level: expect.any(Number),
      waitingSeconds: expect.any(Number),
      author: { id: expect.any(String) },
      screeningWarnings: 0,
    });
  });

  it('walks publications and audit events', async () => {
    for (let i = 0; i < 4; i++)
      await flow.approved(c, [c.channels.schoolSite.id, c.channels.mainAccount.id]);
    const pubs = await whole(c.people.prop.token, 'publications');
    expect(pubs.length).toBeGreaterThanOrEqual(8);
    expect(await walk(c.people.prop.token, 'publications', 3)).toEqual(pubs);
    const status = await whole(c.people.prop.token, 'publications?status=queued');
    expect(await walk(c.people.prop.token, 'publications?status=queued', 3)).toEqual(status);

    const events = await whole(c.people.auditor.token, 'audit/events?entityType=post');
    expect(events.length).toBeGreaterThan(20);
    expect(await walk(c.people.auditor.token, 'audit/events?entityType=post', 7)).toEqual(events);
    const asc = await walk(c.people.auditor.token, 'audit/events?entityType=post&order=asc', 9);
    expect(asc).toEqual([...events].reverse());
    // A bare event id, as cursors were before, still works.
    const legacy = await get(c.people.auditor.token, `audit/events?cursor=${events[1]}&limit=1`);
    expect(legacy.body.items.map((e: { id: number }) => String(e.id))).toEqual([events[2]]);
  });

  it.each(['posts', 'review/inbox', 'publications', 'audit/events'])(
    'refuses a cursor it did not hand out on %s (400)',
    async (url) => {
      const bad = [
        'not a cursor!',
        Buffer.from('{"a":1}').toString('base64url'),
        Buffer.from('["yesterday","x"]').toString('base64url'),
        Buffer.from('[1,2,3]').toString('base64url'),
        Buffer.from('nonsense').toString('base64url'),
      ];
      for (const cursor of bad) {
        const res = await get(
          c.people.propHead.token,
          `${url}?cursor=${encodeURIComponent(cursor)}`,
        );
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
      for (const q of ['pageSize=0', 'pageSize=201', 'count=maybe', 'page=2']) {
        const res = await get(c.people.propHead.token, `${url}?${q}`);
        expect([q, res.status]).toEqual([q, 400]);
      }
    },
  );

  describe('text search', () => {
    const search = async (q: string) => {
      const r = await get(c.people.auditor.token, `posts?pageSize=200&q=${encodeURIComponent(q)}`);
      if (r.status !== 200) throw new Error(JSON.stringify(r.body));
      return (r.body.items as { id: string }[]).map((p) => p.id).sort();
    };
    it('finds CJK text of one, two and three or more characters, in titles and summaries', async () => {
      const a = await flow.create(c.people.editor, [c.channels.schoolSite.id], {
        title: '犇淼鑫活动',
        summary: null,
      });
      const b = await flow.create(c.people.editor, [c.channels.schoolSite.id], {
        title: '犇淼',
        summary: '无关',
      });
      const d = await flow.create(c.people.editor, [c.channels.schoolSite.id], {
        title: '别的',
        summary: '提到鑫',
      });
      const e = await flow.create(c.people.otherEditor, [c.channels.otherSite.id], {
        title: 'Hello World 淼',
        summary: 'CaSe MiXeD',
      });
      const ids = (...ps: { id: string }[]) => ps.map((p) => p.id).sort();
      expect(await search('鑫')).toEqual(ids(a, d));
      expect(await search('淼')).toEqual(ids(a, b, e));
      expect(await search('犇淼')).toEqual(ids(a, b));
      expect(await search('淼鑫')).toEqual(ids(a));
      expect(await search('犇淼鑫活')).toEqual(ids(a));
      expect(await search('鑫犇')).toEqual([]);
      expect(await search('hello')).toEqual(ids(e));
      expect(await search('WORLD 淼')).toEqual(ids(e));
      expect(await search('o')).toEqual(ids(e));
      expect(await search('mixed')).toEqual(ids(e));
      expect(await search('d 淼 x')).toEqual([]);
      expect(await search('到鑫')).toEqual(ids(d));
    });

    it('after an edit finds the new title and summary, not the old', async () => {
      const p = await flow.create(c.people.editor, [c.channels.schoolSite.id], {
        title: '旧标题龘',
        summary: '旧摘要',
      });
      expect(await search('旧标题')).toEqual([p.id]);
      await request(t.http)
        .patch(`/api/v1/posts/${p.id}`)
        .set(bearer(c.people.editor.token))
        .send({ title: '新标题龘', summary: '新摘要' })
        .expect(200);
      expect(await search('旧标题')).toEqual([]);
      expect(await search('旧摘要')).toEqual([]);
      expect(await search('新标题')).toEqual([p.id]);
      expect(await search('新摘要')).toEqual([p.id]);
      expect(await search('龘')).toEqual([p.id]);
      expect(await search('旧')).toEqual([]);
    });

    it('the migration fills the index for posts that were there before it', async () => {
      const before = await search('犇淼');
      expect(before.length).toBe(2);
      // Undo back to before the search migration (later ones first), then apply them all again.
      const names = db.migrations.map((m) => m.name);
      const from = names.findIndex((n) => n?.startsWith('AddedListIndexesAndTextSearch'));
      for (let i = names.length - 1; i >= from; i--)
        await db.undoLastMigration({ transaction: 'each' });
      await db.runMigrations({ transaction: 'each' });
      expect(await search('犇淼')).toEqual(before);
      expect(await search('新标题')).toHaveLength(1);
      expect(await search('旧标题')).toEqual([]);
    });
  });
});
