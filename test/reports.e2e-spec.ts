import * as ExcelJS from 'exceljs';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import {
  PUBLICATION_COLUMNS,
  ReportExportsService,
} from 'src/modules/reports/report-exports.service';
import { bearer, startApp, TestApp } from 'test/harness';
import { BuiltPost, Builders } from 'test/support/builders';
import { CsvReader } from 'test/support/csv-reader';
import { buildCampus, Campus, expectOk, Flow, PostBody } from 'test/workflow';

type Person = Campus['people'][keyof Campus['people']];
type Cell = string | number | null;
type Batch = 'A' | 'B';
type PostView = Omit<PostBody, 'publications'> & {
  publications: { id: string; channelId: string; status: string; contentHash: string }[];
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Reading what the exports wrote, without the gateway's own code

function parseCsv(buf: Buffer): { bom: boolean; rows: string[][]; text: string } {
  const bom = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
  const text = buf.subarray(bom ? 3 : 0).toString('utf8');
  const rows: string[][] = [];
  const r = new CsvReader((row) => rows.push(row));
  r.push(text);
  r.end();
  return { bom, rows, text };
}

async function parseXlsx(buf: Buffer, width: number): Promise<Cell[][]> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(buf as unknown as ArrayBuffer);
  const rows: Cell[][] = [];
  wb.worksheets[0].eachRow({ includeEmpty: false }, (row) => {
    const values = row.values as (Cell | undefined)[];
    rows.push(Array.from({ length: width }, (_, i) => values[i + 1] ?? null));
  });
  return rows;
}

/** The body as bytes, whatever its type. */
const binary = (res: request.Response, cb: (err: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  const stream = res as unknown as NodeJS.ReadableStream;
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => cb(null, Buffer.concat(chunks)));
};

/** What a spreadsheet would get from a CSV cell the gateway guarded against formulas. */
const guarded = (s: string) => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);

function percentileOf(values: number[], p: number): number | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const pos = ((s.length - 1) * p) / 100;
  const below = Math.floor(pos);
  const frac = pos - below;
  return frac === 0 ? s[below] : s[below] * (1 - frac) + s[below + 1] * frac;
}

// ---------------------------------------------------------------------------------------------
// What the test did, written down as it went

interface PostRecord {
  id: string;
  departmentId: string;
  batch: Batch;
  state: string;
  channelIds: string[];
  publications: Map<string, { id: string; channelId: string; status: string }>;
}

interface DecisionRecord {
  postId: string;
  departmentId: string;
  batch: Batch;
  level: 1 | 2 | 3;
  outcome: 'approve' | 'reject';
  reason: string | null;
  reviewer: string;
  /** On a submission: the screening warnings the test wrote into the post, by category. */
  warnings?: Record<string, number>;
}

class History {
  readonly posts = new Map<string, PostRecord>();
  readonly decisions: DecisionRecord[] = [];
  batch: Batch = 'A';

  /** The history is written through the services (test/support/builders.ts), read over HTTP. */
  constructor(
    private readonly b: Builders,
    private readonly flow: Flow,
  ) {}

  async create(author: Person, channelIds: string[], overrides: Record<string, unknown> = {}) {
    const p = (await this.b.draft(author, { channelIds, ...overrides })) as unknown as PostBody;
    this.posts.set(p.id, {
      id: p.id,
      departmentId: author.departmentId,
      batch: this.batch,
      state: p.state,
      channelIds: p.currentRevision.channelIds,
      publications: new Map(),
    });
    return p;
  }

  async submit(author: Person, p: PostBody, warnings: Record<string, number> = {}) {
    const view = await this.b.submit(p, author);
    const body = this.track(view);
    const count = Object.values(warnings).reduce((a, b) => a + b, 0);
    expect(view.screening?.hitCount).toBe(count);
    this.decided(p.id, 1, 'approve', null, author);
    this.decisions[this.decisions.length - 1].warnings = warnings;
    return body;
  }

  async approve(who: Person, p: PostBody, level: 2 | 3) {
    const body = this.track(await this.b.approve(p, who));
    this.decided(p.id, level, 'approve', null, who);
    return body;
  }

  async reject(who: Person, p: PostBody, level: 2 | 3, reason: string) {
    const body = this.track(await this.b.reject(p, who, reason));
    this.decided(p.id, level, 'reject', reason.trim(), who);
    return body;
  }

  async edit(author: Person, p: PostBody, patch: Record<string, unknown>) {
    return this.track(await this.b.edit(p, author, patch));
  }

  async act(
    who: Person,
    p: PostBody,
    action: 'withdraw' | 'archive' | 'retract',
    body: object = {},
  ) {
    return this.track(await this.b.act(p, action, who, body));
  }

  /** Stands in for the publisher: one attempt on each of the post's publications to `channelId`. */
  async attempt(p: PostBody, channelId: string, expected: string) {
    const rec = this.posts.get(p.id)!;
    const pub = rec.publications.get(channelId)!;
    await this.b.attempt(pub.id);
    const now = (await this.flow.get(this.people.auditor, p.id)).body as PostView;
    const status = now.publications.find((x) => x.id === pub.id)!.status;
    expect(status).toBe(expected);
    pub.status = status;
    rec.state = now.state;
  }

  people!: Campus['people'];

  private decided(
    postId: string,
    level: 1 | 2 | 3,
    outcome: 'approve' | 'reject',
    reason: string | null,
    who: Person,
  ) {
    const rec = this.posts.get(postId)!;
    this.decisions.push({
      postId,
      departmentId: rec.departmentId,
      batch: rec.batch,
      level,
      outcome,
      reason,
      reviewer: who.username,
    });
  }

  private track(view: BuiltPost): PostBody {
    const b = view as unknown as PostView;
    const rec = this.posts.get(b.id)!;
    rec.state = b.state;
    rec.channelIds = b.currentRevision.channelIds;
    for (const pub of b.publications) {
      rec.publications.set(pub.channelId, {
        id: pub.id,
        channelId: pub.channelId,
        status: pub.status,
      });
    }
    return b;
  }
}

interface Expected {
  total: number;
  byState: Record<string, number>;
  byDepartment: Record<string, number>;
  byChannel: Record<string, number>;
  levels: Record<1 | 2 | 3, { approvals: number; returns: number }>;
  reasons: { reason: string; count: number }[];
  publications: Record<string, number>;
  screening: Summary['screening'];
}

/** The summary the test expects, counted from what it did. */
function expectedSummary(h: History, f: { batch?: Batch; departmentId?: string }): Expected {
  const inScope = (x: { batch: Batch; departmentId: string }) =>
    (!f.batch || x.batch === f.batch) && (!f.departmentId || x.departmentId === f.departmentId);
  const posts = [...h.posts.values()].filter(inScope);
  const count = <T>(items: T[], key: (x: T) => string) =>
    items.reduce<Record<string, number>>((acc, x) => {
      acc[key(x)] = (acc[key(x)] ?? 0) + 1;
      return acc;
    }, {});
  const decisions = h.decisions.filter(inScope);
  const levels = {
    1: { approvals: 0, returns: 0 },
    2: { approvals: 0, returns: 0 },
    3: { approvals: 0, returns: 0 },
  };
  for (const d of decisions) levels[d.level][d.outcome === 'approve' ? 'approvals' : 'returns']++;
  const reasonCounts = count(
    decisions.filter((d) => d.outcome === 'reject'),
    (d) => d.reason!,
  );
  const reasons = Object.entries(reasonCounts)
    .map(([reason, n]) => ({ reason, count: n }))
    .sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : 1))
    .slice(0, 10);
  const submissions = decisions.filter((d) => d.level === 1);
  const warned = submissions.filter((d) => Object.keys(d.warnings ?? {}).length);
  const hitsByCategory: Record<string, number> = {};
  for (const d of warned) {
    for (const [k, n] of Object.entries(d.warnings!))
      hitsByCategory[k] = (hitsByCategory[k] ?? 0) + n;
  }
  return {
    screening: {
      submissions: submissions.length,
      flaggedSubmissions: warned.length,
      hits: Object.values(hitsByCategory).reduce((a, b) => a + b, 0),
      hitsByCategory,
    },
    total: posts.length,
    byState: count(posts, (p) => p.state),
    byDepartment: count(posts, (p) => p.departmentId),
    byChannel: count(
      posts.flatMap((p) => p.channelIds),
      (c) => c,
    ),
    levels,
    reasons,
    publications: count(
      posts.flatMap((p) => [...p.publications.values()]),
      (x) => x.status,
    ),
  };
}

interface Summary {
  filter: { from: string | null; to: string | null; department: { id: string } | null };
  posts: {
    total: number;
    byState: Record<string, number>;
    byDepartment: { departmentId: string; name: string; count: number }[];
    byChannel: { channelId: string; name: string; count: number }[];
  };
  reviews: {
    byLevel: {
      level: 1 | 2 | 3;
      approvals: number;
      returns: number;
      total: number;
      returnRate: number | null;
    }[];
    overall: { approvals: number; returns: number; total: number; returnRate: number | null };
    topReturnReasons: { reason: string; count: number }[];
    waiting: Record<
      'level2' | 'level3',
      { count: number; medianSeconds: number | null; p90Seconds: number | null }
    >;
  };
  screening: {
    submissions: number;
    flaggedSubmissions: number;
    hits: number;
    hitsByCategory: Record<string, number>;
  };
  publications: {
    total: number;
    byStatus: Record<string, number>;
    failed: number;
    retracted: number;
  };
}

function expectSummaryToMatch(s: Summary, e: Expected) {
  expect(s.posts.total).toBe(e.total);
  for (const [state, n] of Object.entries(s.posts.byState))
    expect([state, n]).toEqual([state, e.byState[state] ?? 0]);
  expect(Object.fromEntries(s.posts.byDepartment.map((d) => [d.departmentId, d.count]))).toEqual(
    e.byDepartment,
  );
  expect(Object.fromEntries(s.posts.byChannel.map((c) => [c.channelId, c.count]))).toEqual(
    e.byChannel,
  );
  for (const level of [1, 2, 3] as const) {
    const got = s.reviews.byLevel.find((l) => l.level === level)!;
    const want = e.levels[level];
    const total = want.approvals + want.returns;
    expect(got).toEqual({
      level,
      approvals: want.approvals,
      returns: want.returns,
      total,
      returnRate: total ? want.returns / total : null,
    });
  }
  const approvals = e.levels[2].approvals + e.levels[3].approvals;
  const returns = e.levels[2].returns + e.levels[3].returns;
  expect(s.reviews.overall).toEqual({
    approvals,
    returns,
    total: approvals + returns,
    returnRate: approvals + returns ? returns / (approvals + returns) : null,
  });
  expect(s.reviews.topReturnReasons).toEqual(e.reasons);
  expect(s.screening).toEqual(e.screening);
  const byStatus = Object.fromEntries(
    Object.entries(s.publications.byStatus).filter(([, n]) => n > 0),
  );
  expect(byStatus).toEqual(e.publications);
  const pubTotal = Object.values(e.publications).reduce((a, b) => a + b, 0);
  expect(s.publications.total).toBe(pubTotal);
  expect(s.publications.failed).toBe(e.publications.failed ?? 0);
  expect(s.publications.retracted).toBe(e.publications.retracted ?? 0);
}

// ---------------------------------------------------------------------------------------------

describe('reports', () => {
  let t: TestApp;
  let c: Campus;
  let h: History;
  let mid: string;
  const posts: Record<string, PostBody> = {};
  const SCRIPT_TITLE = '<script>alert("x")</script>';
  const FORMULA = '=HYPERLINK("http://evil.example/x","点我")';
  const MARKUP_REASON = '  <img src=x onerror=alert(1)>图片版权不明\u3000';
  const MULTILINE = '来源未注明，"数据"需核实\n请补充';

  const get = (who: Person | string, path: string) =>
    request(t.http)
      .get(`/api/v1/reports/${path}`)
      .set(bearer(typeof who === 'string' ? who : who.token));
  const file = (who: Person, path: string) => get(who, path).buffer(true).parse(binary);
  const summary = async (query = '') => {
    const res = await get(c.people.auditor, `summary${query}`);
    expect(res.status).toBe(200);
    return res.body as Summary;
  };

  beforeAll(async () => {
    t = await startApp({
      PUBLISH_WORKERS_IN_API: 'false',
      PUBLISH_MAX_ATTEMPTS: '1',
      PUBLISH_TIMEOUT_MS: '2000',
    });
    c = await buildCampus(t);
    const flow = new Flow(t);
    h = new History(c.b, flow);
    h.people = c.people;
    const p = c.people;
    const ch = c.channels;
    // A webhook nobody answers: its publication fails on the first attempt.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const deadHook = await c.b.channel({
      departmentId: c.school.id,
      platform: 'webhook',
      config: { url: `http://127.0.0.1:${port}/hook` },
    });

    // Two warning terms in the screening dictionary.
    for (const [term, category] of [
      ['内部资料', 'confidential'],
      ['小道消息', 'rumour'],
    ]) {
      expectOk(
        await request(t.http)
          .post('/api/v1/screening/terms')
          .set(bearer(p.prop.token))
          .send({ term, category, level: 'warn' }),
      );
    }

    // --- batch A ---------------------------------------------------------------------------
    // P1: straight through, published.
    let x = await h.create(p.editor, [ch.schoolSite.id], {
      title: '运动会圆满结束',
      body: '<p>据内部资料，另有内部资料称</p><p>小道消息不可信</p>',
    });
    x = await h.submit(p.editor, x, { confidential: 2, rumour: 1 });
    await sleep(40);
    x = await h.approve(p.head, x, 2);
    await sleep(15);
    x = await h.approve(p.prop, x, 3);
    await h.attempt(x, ch.schoolSite.id, 'published');
    posts.p1 = x;

    // P2: returned at level 2, then at level 3, approved on the third round.
    x = await h.create(p.editor2, [ch.schoolSite.id, ch.mainAccount.id], { title: '学术讲座预告' });
    x = await h.submit(p.editor2, x);
    await sleep(25);
    x = await h.reject(p.head, x, 2, '标题不准确');
    x = await h.edit(p.editor2, x, { title: '学术讲座预告（修订）' });
    x = await h.submit(p.editor2, x);
    await sleep(10);
    x = await h.approve(p.head2, x, 2);
    await sleep(60);
    x = await h.reject(p.prop2, x, 3, MARKUP_REASON);
    x = await h.edit(p.editor2, x, { body: '<p>图片已替换</p>' });
    x = await h.submit(p.editor2, x);
    await sleep(5);
    x = await h.approve(p.head, x, 2);
    await sleep(30);
    x = await h.approve(p.prop, x, 3);
    await h.attempt(x, ch.schoolSite.id, 'published');
    posts.p2 = x;

    // P3: another school, returned with the same reason (trailing blank).
    x = await h.create(p.otherEditor, [ch.otherSite.id]);
    x = await h.submit(p.otherEditor, x);
    await sleep(20);
    x = await h.reject(p.otherHead, x, 2, '标题不准确 ');
    posts.p3 = x;

    // P4: approved; its webhook never answers: failed.
    x = await h.create(p.editor, [deadHook.id]);
    x = await h.submit(p.editor, x);
    x = await h.approve(p.head, x, 2);
    x = await h.approve(p.prop2, x, 3);
    await h.attempt(x, deadHook.id, 'failed');
    posts.p4 = x;

    // P5: published, then retracted and taken down.
    x = await h.create(p.editor, [ch.schoolSite.id]);
    x = await h.submit(p.editor, x);
    await sleep(35);
    x = await h.approve(p.head2, x, 2);
    x = await h.approve(p.prop2, x, 3);
    await h.attempt(x, ch.schoolSite.id, 'published');
    x = await h.act(p.prop, x, 'retract', { reason: '信息有误，撤稿' });
    await h.attempt(x, ch.schoolSite.id, 'retracted');
    posts.p5 = x;

    // P6: a draft. P7: submitted, withdrawn, archived.
    posts.p6 = await h.create(p.editor2, [ch.schoolSite.id]);
    x = await h.create(p.otherEditor, [ch.otherSite.id]);
    x = await h.submit(p.otherEditor, x);
    x = await h.act(p.otherEditor, x, 'withdraw');
    posts.p7 = await h.act(p.otherEditor, x, 'archive');

    // P8: approved, then retracted before anything went out: cancelled.
    x = await h.create(p.editor, [ch.schoolSite.id]);
    x = await h.submit(p.editor, x);
    x = await h.approve(p.head, x, 2);
    x = await h.approve(p.propHead, x, 3);
    posts.p8 = await h.act(p.prop, x, 'retract', { reason: '时效已过' });

    // Eleven more returns with distinct reasons, so the top ten leaves some out.
    for (let i = 0; i < 11; i++) {
      x = await h.create(p.editor2, [ch.schoolSite.id]);
      x = await h.submit(p.editor2, x);
      await h.reject(i % 2 ? p.head : p.head2, x, 2, `其他原因 ${String(i).padStart(2, '0')}`);
    }

    await sleep(20);
    mid = new Date().toISOString();
    await sleep(20);
    h.batch = 'B';

    // --- batch B ---------------------------------------------------------------------------
    // P9: another school, returned at level 3 with a reason full of CSV specials.
    x = await h.create(p.otherEditor, [ch.otherSite.id, ch.mainAccount.id], {
      body: '<p>网传小道消息</p>',
    });
    x = await h.submit(p.otherEditor, x, { rumour: 1 });
    await sleep(45);
    x = await h.approve(p.otherHead, x, 2);
    await sleep(25);
    posts.p9 = await h.reject(p.prop, x, 3, MULTILINE);

    // P10: a title and a reason that try to be markup and a formula.
    x = await h.create(p.editor, [ch.schoolSite.id], { title: SCRIPT_TITLE });
    x = await h.submit(p.editor, x);
    await sleep(15);
    posts.p10 = await h.reject(p.head, x, 2, FORMULA);
  }, 120_000);
  afterAll(() => t.close());

  /** Level-2 and level-3 waits from the decisions as each post shows them. */
  async function expectedWaits(f: { batch?: Batch; departmentId?: string }) {
    const waits = { level2: [] as number[], level3: [] as number[] };
    for (const rec of h.posts.values()) {
      if (f.batch && rec.batch !== f.batch) continue;
      if (f.departmentId && rec.departmentId !== f.departmentId) continue;
      const view = await request(t.http)
        .get(`/api/v1/posts/${rec.id}`)
        .set(bearer(c.people.auditor.token));
      const ds = view.body.decisions as {
        round: number;
        level: number;
        outcome: string;
        createdAt: string;
      }[];
      for (const d of ds) {
        if (d.level === 1) continue;
        const opened = ds.find(
          (o) => o.round === d.round && o.level === d.level - 1 && o.outcome === 'approve',
        )!;
        const s = (Date.parse(d.createdAt) - Date.parse(opened.createdAt)) / 1000;
        (d.level === 2 ? waits.level2 : waits.level3).push(s);
      }
    }
    const stats = (v: number[]) => ({
      count: v.length,
      medianSeconds: percentileOf(v, 50),
      p90Seconds: percentileOf(v, 90),
    });
    return { level2: stats(waits.level2), level3: stats(waits.level3) };
  }

  function expectWaits(
    got: Summary['reviews']['waiting'],
    want: Awaited<ReturnType<typeof expectedWaits>>,
  ) {
    for (const level of ['level2', 'level3'] as const) {
      expect(got[level].count).toBe(want[level].count);
      for (const k of ['medianSeconds', 'p90Seconds'] as const) {
        if (want[level][k] === null) expect(got[level][k]).toBeNull();
        // The gateway gives seconds to the millisecond.
        else expect(Math.abs(got[level][k]! - want[level][k]!)).toBeLessThanOrEqual(0.0005 + 1e-9);
      }
    }
  }

  describe('GET /reports/summary', () => {
    it('counts the whole history as the test made it', async () => {
      const s = await summary();
      const e = expectedSummary(h, {});
      expectSummaryToMatch(s, e);
      // Spot checks of the ledger itself, so a mistake in it cannot hide a mistake in both.
      expect(s.posts.total).toBe(21);
      expect(s.reviews.byLevel.find((l) => l.level === 2)).toMatchObject({ returns: 14 });
      expect(s.reviews.topReturnReasons[0]).toEqual({ reason: '标题不准确', count: 2 });
      expect(s.reviews.topReturnReasons).toHaveLength(10);
      expect(s.reviews.topReturnReasons.map((r) => r.reason)).toContain(MARKUP_REASON.trim());
      expect(s.publications.byStatus).toMatchObject({
        published: 2,
        queued: 1,
        failed: 1,
        retracted: 1,
        cancelled: 1,
      });
      expect(s.filter).toEqual({ from: null, to: null, department: null });
      expectWaits(s.reviews.waiting, await expectedWaits({}));
      expect(s.reviews.waiting.level2.count).toBe(21);
      expect(s.reviews.waiting.level3.count).toBe(7);
      expect(s.reviews.waiting.level2.medianSeconds).toBeGreaterThan(0);
      expect(s.screening).toEqual({
        submissions: 22,
        flaggedSubmissions: 2,
        hits: 4,
        hitsByCategory: { confidential: 2, rumour: 2 },
      });
      const names = Object.fromEntries(s.posts.byChannel.map((x) => [x.channelId, x.name]));
      expect(names[c.channels.mainAccount.id]).toBe(c.channels.mainAccount.name);
    });

    it('counts only what happened in [from, to)', async () => {
      const after = await summary(`?from=${encodeURIComponent(mid)}`);
      expectSummaryToMatch(after, expectedSummary(h, { batch: 'B' }));
      expectWaits(after.reviews.waiting, await expectedWaits({ batch: 'B' }));
      expect(after.posts.total).toBe(2);
      expect(after.filter.from).toBe(mid);

      const before = await summary(`?to=${encodeURIComponent(mid)}`);
      expectSummaryToMatch(before, expectedSummary(h, { batch: 'A' }));
      expectWaits(before.reviews.waiting, await expectedWaits({ batch: 'A' }));

      // An offset is honoured: the same instant written in Beijing time.
      const bj = new Date(Date.parse(mid) + 8 * 3600_000).toISOString().replace('Z', '+08:00');
      expect((await summary(`?from=${encodeURIComponent(bj)}`)).posts.total).toBe(2);
      // Nothing in a window in the past.
      const empty = await summary('?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z');
      expect(empty.posts.total).toBe(0);
      expect(empty.reviews.overall).toEqual({
        approvals: 0,
        returns: 0,
        total: 0,
        returnRate: null,
      });
      expect(empty.reviews.waiting.level2).toEqual({
        count: 0,
        medianSeconds: null,
        p90Seconds: null,
      });
    });

    it('narrows to one department', async () => {
      const s = await summary(`?departmentId=${c.otherSchool.id}`);
      expectSummaryToMatch(s, expectedSummary(h, { departmentId: c.otherSchool.id }));
      expectWaits(s.reviews.waiting, await expectedWaits({ departmentId: c.otherSchool.id }));
      expect(s.filter.department).toMatchObject({ id: c.otherSchool.id, code: c.otherSchool.code });
      const both = await summary(
        `?departmentId=${c.otherSchool.id}&from=${encodeURIComponent(mid)}`,
      );
      expectSummaryToMatch(
        both,
        expectedSummary(h, { departmentId: c.otherSchool.id, batch: 'B' }),
      );
    });

    it('refuses bad input with 400', async () => {
      for (const q of [
        '?from=yesterday',
        '?to=2026-13-01',
        '?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z',
        '?format=pdf',
        '?colour=blue',
        `?departmentId=${randomUUID()}`,
      ]) {
        const res = await get(c.people.auditor, `summary${q}`);
        expect([q, res.status, res.body.code]).toEqual([q, 400, 'VALIDATION_FAILED']);
      }
      for (const path of [
        'publications?format=pdf',
        'publications?status=lost',
        'audit-events?from=x',
      ]) {
        const res = await get(c.people.auditor, path);
        expect([path, res.status]).toEqual([path, 400]);
      }
    });

    it('is for auditors and propaganda reviewers only', async () => {
      expect((await get(c.people.prop, 'summary')).status).toBe(200);
      const routes = [
        'summary',
        'summary?format=csv',
        'publications',
        'audit-events?format=xlsx',
        `posts/${posts.p1.id}/register`,
      ];
      for (const who of [c.people.editor.token, c.people.head.token, t.adminToken]) {
        for (const r of routes) {
          const res = await get(who, r);
          expect([r, res.status, res.body.code]).toEqual([r, 403, 'FORBIDDEN']);
        }
      }
      expect((await request(t.http).get('/api/v1/reports/summary')).status).toBe(401);
    });
  });

  describe('exports', () => {
    /** The summary table's cells, keyed by section and key. */
    function cellsOf(rows: Cell[][]) {
      const m = new Map<string, Cell[]>();
      for (const r of rows) m.set(`${r[0]}|${r[1]}`, r);
      return m;
    }

    function expectTableToMatch(rows: Cell[][], s: Summary, kind: 'csv' | 'xlsx') {
      expect(rows[0]).toEqual(['section', 'key', 'label', 'value']);
      const cells = cellsOf(rows.slice(1));
      const value = (section: string, key: string) => {
        const row = cells.get(`${section}|${key}`);
        if (!row) throw new Error(`no row ${section}|${key}`);
        const v = row[3];
        if (kind === 'xlsx') return v;
        return v === '' ? null : Number(v);
      };
      const label = (section: string, key: string) => cells.get(`${section}|${key}`)![2];
      expect(value('posts', 'total')).toBe(s.posts.total);
      for (const [state, n] of Object.entries(s.posts.byState))
        expect(value('posts.byState', state)).toBe(n);
      for (const d of s.posts.byDepartment) {
        expect(value('posts.byDepartment', d.departmentId)).toBe(d.count);
        expect(label('posts.byDepartment', d.departmentId)).toBe(d.name);
      }
      for (const ch of s.posts.byChannel)
        expect(value('posts.byChannel', ch.channelId)).toBe(ch.count);
      for (const l of s.reviews.byLevel) {
        for (const k of ['approvals', 'returns', 'total', 'returnRate'] as const) {
          expect(value(`reviews.level${l.level}`, k)).toBe(l[k]);
        }
      }
      for (const k of ['approvals', 'returns', 'total', 'returnRate'] as const) {
        expect(value('reviews.overall', k)).toBe(s.reviews.overall[k]);
      }
      s.reviews.topReturnReasons.forEach((r, i) => {
        expect(value('reviews.topReturnReasons', String(i + 1))).toBe(r.count);
        expect(label('reviews.topReturnReasons', String(i + 1))).toBe(
          kind === 'csv' ? guarded(r.reason) : r.reason,
        );
      });
      for (const level of ['level2', 'level3'] as const) {
        for (const k of ['count', 'medianSeconds', 'p90Seconds'] as const) {
          expect(value(`reviews.waiting.${level}`, k)).toBe(s.reviews.waiting[level][k]);
        }
      }
      for (const [status, n] of Object.entries(s.publications.byStatus)) {
        expect(value('publications.byStatus', status)).toBe(n);
      }
      for (const k of ['submissions', 'flaggedSubmissions', 'hits'] as const) {
        expect(value('screening', k)).toBe(s.screening[k]);
      }
      for (const [category, n] of Object.entries(s.screening.hitsByCategory)) {
        expect(value('screening.hitsByCategory', category)).toBe(n);
      }
      expect(value('publications', 'failed')).toBe(s.publications.failed);
      expect(value('publications', 'retracted')).toBe(s.publications.retracted);
      const sections = (name: string) => rows.filter((r) => r[0] === name).length;
      expect(sections('posts.byDepartment')).toBe(s.posts.byDepartment.length);
      expect(sections('posts.byChannel')).toBe(s.posts.byChannel.length);
      expect(sections('reviews.topReturnReasons')).toBe(s.reviews.topReturnReasons.length);
    }

    it('summary as CSV: UTF-8 with BOM, RFC 4180, formulas defused, the same numbers', async () => {
      const s = await summary();
      const res = await file(c.people.auditor, 'summary?format=csv');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['content-disposition']).toMatch(
        /^attachment; filename="sanshen-summary-\d{8}-\d{6}\.csv"/,
      );
      const { bom, rows, text } = parseCsv(res.body as Buffer);
      expect(bom).toBe(true);
      // (parseCsv accepts CRLF-terminated records only.)
      expect(text.endsWith('\r\n')).toBe(true);
      expectTableToMatch(rows, s, 'csv');
      // The formula reason went out quoted, its quotes doubled, behind an apostrophe.
      expect(text).toContain(`"'=HYPERLINK(""http://evil.example/x"",""点我"")"`);
      // Chinese survives the round trip (department names are Chinese).
      expect(text).toContain(c.school.name);
    });

    it('summary as XLSX: the same numbers, read back with exceljs', async () => {
      const s = await summary(`?departmentId=${c.school.id}`);
      const res = await file(c.people.prop, `summary?format=xlsx&departmentId=${c.school.id}`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe(
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      );
      expect(res.headers['content-disposition']).toMatch(/filename="sanshen-summary-.*\.xlsx"/);
      const rows = await parseXlsx(res.body as Buffer, 4);
      expectTableToMatch(rows, s, 'xlsx');
      expect(rows.some((r) => r[2] === FORMULA)).toBe(true);
    });

    type PubItem = {
      id: string;
      status: string;
      channel: { name: string };
      postTitle: string;
      contentHash: string;
      departmentId: string;
    };
    async function publicationList(query: string): Promise<PubItem[]> {
      const res = await request(t.http)
        .get(`/api/v1/publications?pageSize=200&${query}`)
        .set(bearer(c.people.auditor.token));
      expect(res.status).toBe(200);
      return res.body.items as PubItem[];
    }

    it.each([
      ['', 6],
      ['status=queued', 1],
      ['status=published', 2],
      ['departmentId=OTHER', 0],
      ['channelId=SITE', 4],
      ['from=MID', 0],
      ['to=MID', 6],
    ])('publications?%s as CSV and XLSX match GET /publications', async (query, n) => {
      const q = query
        .replace('OTHER', c.otherSchool.id)
        .replace('SITE', c.channels.schoolSite.id)
        .replace('MID', encodeURIComponent(mid));
      const list = await publicationList(q);
      expect(list).toHaveLength(n);
      const csv = await file(c.people.auditor, `publications?format=csv&${q}`);
      expect(csv.status).toBe(200);
      expect(csv.headers['content-disposition']).toMatch(/sanshen-publications-.*\.csv/);
      const xlsx = await file(c.people.auditor, `publications?format=xlsx&${q}`);
      expect(xlsx.status).toBe(200);
      const { rows: csvRows } = parseCsv(csv.body as Buffer);
      const header = csvRows[0] as string[];
      const xlsxRows = await parseXlsx(xlsx.body as Buffer, header.length);
      expect(xlsxRows[0]).toEqual(header);
      for (const rows of [csvRows, xlsxRows]) {
        const items = rows.slice(1).map((r) => Object.fromEntries(header.map((k, i) => [k, r[i]])));
        expect(items.map((i) => i.id).sort()).toEqual(list.map((p) => p.id).sort());
        for (const p of list) {
          const row = items.find((i) => i.id === p.id)!;
          expect(row).toMatchObject({
            status: p.status,
            channelName: p.channel.name,
            postTitle: p.postTitle,
            contentHash: p.contentHash,
            departmentId: p.departmentId,
          });
        }
      }
    });

    it('pages by keyset without losing or repeating a row, ties on time included', async () => {
      const exports = t.app.get(ReportExportsService);
      const read = async (pages: AsyncIterable<Cell[][]>) => {
        const out: Cell[][] = [];
        for await (const page of pages) out.push(...page);
        return out;
      };
      const whole = await read(exports.publicationPages({}));
      // P2's two publications were created in one transaction: the same createdAt.
      const at = whole.map((r) => r[PUBLICATION_COLUMNS.indexOf('createdAt')]);
      expect(new Set(at).size).toBeLessThan(at.length);
      for (const size of [1, 2, 4]) {
        expect(await read(exports.publicationPages({}, size))).toEqual(whole);
      }
      const events = await read(exports.auditEventPages({}));
      expect(await read(exports.auditEventPages({}, 7))).toEqual(events);
      const ids = events.map((r) => r[0] as number);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    });

    it('a failed publication carries its error in the export', async () => {
      const { rows } = parseCsv(
        (await file(c.people.auditor, 'publications?status=failed')).body as Buffer,
      );
      expect(rows).toHaveLength(2);
      const header = rows[0];
      const row = Object.fromEntries(header.map((k, i) => [k, rows[1][i]]));
      expect(row.postId).toBe(posts.p4.id);
      expect(row.lastError).not.toBe('');
      expect(row.attempts).toBe('1');
    });

    it('audit events as CSV and XLSX match GET /audit/events', async () => {
      const listed = await request(t.http)
        .get('/api/v1/audit/events?action=post.rejected&order=asc&limit=500')
        .set(bearer(c.people.auditor.token));
      const items = listed.body.items as {
        id: number;
        hash: string;
        comment: string;
        actorId: string;
      }[];
      const rejects = h.decisions.filter((d) => d.outcome === 'reject');
      expect(items).toHaveLength(rejects.length);
      const csv = await file(c.people.auditor, 'audit-events?action=post.rejected');
      const xlsx = await file(c.people.auditor, 'audit-events?action=post.rejected&format=xlsx');
      const { rows: csvRows } = parseCsv(csv.body as Buffer);
      const header = csvRows[0];
      const xlsxRows = await parseXlsx(xlsx.body as Buffer, header.length);
      for (const [kind, rows] of [
        ['csv', csvRows],
        ['xlsx', xlsxRows],
      ] as const) {
        const got = rows.slice(1).map((r) => Object.fromEntries(header.map((k, i) => [k, r[i]])));
        expect(got.map((r) => Number(r.id))).toEqual(items.map((i) => i.id));
        got.forEach((r, i) => {
          expect(r.hash).toBe(items[i].hash);
          expect(r.comment).toBe(kind === 'csv' ? guarded(items[i].comment) : items[i].comment);
          // Who returned it, as the test did it.
          expect(r.actorUsername).toBe(rejects[i].reviewer);
          expect(r.action).toBe('post.rejected');
        });
      }
    });

    it('the whole audit log exports, in chain order, and filters by time', async () => {
      const verify = await request(t.http)
        .get('/api/v1/audit/verify')
        .set(bearer(c.people.auditor.token));
      const { rows } = parseCsv((await file(c.people.auditor, 'audit-events')).body as Buffer);
      const ids = rows.slice(1).map((r) => Number(r[0]));
      expect(ids).toEqual(Array.from({ length: verify.body.checked }, (_, i) => i + 1));
      expect(rows[rows.length - 1][rows[0].indexOf('hash')]).toBe(verify.body.headHash);
      const later = parseCsv(
        (await file(c.people.auditor, `audit-events?from=${encodeURIComponent(mid)}`))
          .body as Buffer,
      ).rows.slice(1);
      const createdAt = rows[0].indexOf('createdAt');
      expect(later.length).toBe(rows.slice(1).filter((r) => r[createdAt] >= mid).length);
      expect(later.length).toBeGreaterThan(0);
      expect(later.length).toBeLessThan(ids.length);
    });
  });

  describe('GET /reports/posts/:id/register', () => {
    const register = async (id: string) => {
      const res = await get(c.people.auditor, `posts/${id}/register`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      return res.text;
    };

    it('lists the post, every revision, every review with its hash, the attestation and where it went', async () => {
      const html = await register(posts.p2.id);
      const view = (
        await request(t.http)
          .get(`/api/v1/posts/${posts.p2.id}`)
          .set(bearer(c.people.auditor.token))
      ).body;
      const revs = (
        await request(t.http)
          .get(`/api/v1/posts/${posts.p2.id}/revisions`)
          .set(bearer(c.people.auditor.token))
      ).body.items as { number: number; contentHash: string }[];
      expect(revs).toHaveLength(3);
      for (const r of revs) expect(html).toContain(r.contentHash);
      expect(html).toContain('@page');
      expect(html).toContain('size: A4');
      expect(html).toContain('学术讲座预告（修订）');
      expect(html).toContain(c.school.name);
      for (const who of [
        c.people.editor2,
        c.people.head,
        c.people.head2,
        c.people.prop,
        c.people.prop2,
      ]) {
        expect(html).toContain(who.username);
      }
      expect(html).toContain('标题不准确');
      // The reason that tried to be markup is shown as text.
      expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;图片版权不明');
      expect(html).not.toContain('<img src=x');
      expect((html.match(/✔ 已承诺/g) ?? []).length).toBe(3 * 4);
      expect(view.decisions).toHaveLength(8);
      expect((html.match(/<tr>/g) ?? []).length).toBeGreaterThanOrEqual(3 + 8 + 3 + 2);
      expect(html).toContain(c.channels.schoolSite.name);
      expect(html).toContain(c.channels.mainAccount.name);
      const published = view.publications.find((x: { status: string }) => x.status === 'published');
      expect(html).toContain(published.url);
      const verify = await request(t.http)
        .get('/api/v1/audit/verify')
        .set(bearer(c.people.auditor.token));
      expect(html).toContain(verify.body.headHash);
    });

    it('escapes a title that tries to be a script', async () => {
      const html = await register(posts.p10.id);
      expect(html).not.toContain('<script');
      expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
      expect(html).toContain('=HYPERLINK(&quot;http://evil.example/x&quot;,&quot;点我&quot;)');
      expect(html).toContain('尚未发布');
    });

    it('answers 404 for a post that does not exist', async () => {
      const res = await get(c.people.auditor, `posts/${randomUUID()}/register`);
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('NOT_FOUND');
    });
  });
});
