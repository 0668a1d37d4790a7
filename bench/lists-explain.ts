/**
 * List plans and timings at scale (not a test).
 *
 *   npm run build && NODE_PATH=dist node dist/bench/lists-explain.js
 *
 * Recreates a database, seeds BENCH_POSTS posts (default 100000) with revisions,
 * channels and the search index, and BENCH_AUDIT audit events (default 1000000,
 * MySQL/MariaDB only), then for each list query prints the plan (MariaDB
 * `ANALYZE`: estimated and actual rows per table; SQLite `EXPLAIN QUERY PLAN`)
 * and p50/p99 over BENCH_RUNS sequential runs, plus p99 at concurrency 32.
 *
 *   BENCH_DB  mysql://root@127.0.0.1:3306/sanshen_lists (default; dropped and recreated)
 *             or sqlite:/path/to/file.db
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createConnection } from 'mysql2/promise';
import { DataSource, Logger as OrmLogger } from 'typeorm';
import type { AuthUser } from 'src/common/auth-user';
import { Role } from 'src/common/roles';
import { dataSourceOptions } from 'src/database/data-source-options';
import { ListAuditEventsQuery } from 'src/modules/audit/dto/list-audit-events.query';
import { AuditQueryService } from 'src/modules/audit/audit-query.service';
import { AuditEvent } from 'src/modules/audit/audit-event.entity';
import { ListPostsQuery } from 'src/modules/posts/dto/post.dto';
import { listPosts } from 'src/modules/posts/post-list.query';
import { indexPostTexts } from 'src/modules/posts/post-search';
import { inboxPosts } from 'src/modules/review/inbox.query';
import { InboxQuery } from 'src/modules/review/dto/decision.dto';

const env = process.env;
const DB = env.BENCH_DB || 'mysql://root@127.0.0.1:3306/sanshen_lists';
const POSTS = Number(env.BENCH_POSTS || 100_000);
const AUDIT = Number(env.BENCH_AUDIT || 1_000_000);
const RUNS = Number(env.BENCH_RUNS || 50);
const mysql = DB.startsWith('mysql:');

const WORDS = [
  '学校',
  '运动会',
  '学术',
  '讲座',
  '招生',
  '毕业',
  '典礼',
  '科研',
  '创新',
  '志愿',
  '服务',
  '图书馆',
  '开放',
  '食堂',
  '校园',
  '文化节',
  '国际',
  '交流',
  '会议',
  '报告',
  '通知',
  '新闻',
  '实验室',
  '获奖',
  '比赛',
  '春季',
  '秋季',
  '学院',
  '师生',
  '党建',
  '青年',
  '社团',
  '招聘',
  '讲堂',
  '论坛',
  'AI',
  'Open Day',
  '数学',
  '物理',
  '化学',
  '生物',
  '医学',
  '艺术',
  '音乐',
  '体育',
  '建校',
  '周年',
  '庆典',
];
let seed = 42;
const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
const words = (n: number) => Array.from({ length: n }, () => pick(WORDS)).join('');

const captured: { sql: string; params: unknown[] }[] = [];
const capture: OrmLogger = {
  logQuery: (sql, params) => void captured.push({ sql, params: (params ?? []) as unknown[] }),
  logQueryError: () => undefined,
  logQuerySlow: () => undefined,
  logSchemaBuild: () => undefined,
  logMigration: () => undefined,
  log: () => undefined,
};

async function open(): Promise<DataSource> {
  if (mysql) {
    const u = new URL(DB);
    const name = u.pathname.slice(1);
    u.pathname = '/';
    const c = await createConnection(u.toString());
    await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await c.end();
    return new DataSource({
      ...dataSourceOptions({ type: 'mysql', url: DB } as never),
      logging: true,
      logger: capture,
    } as never);
  }
  const path = DB.slice('sqlite:'.length);
  rmSync(path, { force: true });
  return new DataSource({
    ...dataSourceOptions({ type: 'sqlite', path } as never),
    logging: true,
    logger: capture,
  } as never);
}

/** As TypeORM writes them to SQLite: UTC 'YYYY-MM-DD HH:MM:SS.SSS', booleans as 0/1. */
const sqliteValue = (v: unknown) =>
  v instanceof Date
    ? v.toISOString().replace('T', ' ').slice(0, 23)
    : typeof v === 'boolean'
      ? Number(v)
      : v;

async function insert(ds: DataSource, table: string, rows: Record<string, unknown>[]) {
  if (!rows.length) return;
  const cols = Object.keys(rows[0]);
  const per = Math.floor(4000 / cols.length);
  for (let i = 0; i < rows.length; i += per) {
    const chunk = rows.slice(i, i + per);
    await ds.query(
      `INSERT INTO ${table} (${cols.join(', ')}) VALUES ${chunk
        .map(() => `(${cols.map(() => '?').join(', ')})`)
        .join(', ')}`,
      chunk.flatMap((r) => cols.map((c) => (mysql ? r[c] : sqliteValue(r[c])))),
    );
  }
}

const user = (id: string, departmentId: string, roles: Role[]): AuthUser => ({
  id,
  username: id,
  displayName: id,
  departmentId,
  roles,
  sessionId: 'bench',
});

async function seed_(ds: DataSource) {
  const now = Date.now();
  const at = (ms: number) => new Date(ms);
  const depts = Array.from({ length: 20 }, (_, i) => ({
    id: randomUUID(),
    name: `院系${i}`,
    code: `D${i}`,
    isPropaganda: i === 0,
    active: true,
    createdAt: at(now),
    updatedAt: at(now),
  }));
  await insert(ds, 'departments', depts);
  const people: Record<string, unknown>[] = [];
  const mk = (dept: string, roles: Role[]) => {
    const id = randomUUID();
    people.push({
      id,
      username: id,
      displayName: id,
      passwordHash: 'x',
      roles: roles.join(','),
      departmentId: dept,
      active: true,
      createdAt: at(now),
      updatedAt: at(now),
    });
    return id;
  };
  const editors = depts.map((d) => Array.from({ length: 5 }, () => mk(d.id, [Role.EDITOR])));
  const head = mk(depts[1].id, [Role.DEPT_REVIEWER]);
  // Propaganda reviewer who also heads the propaganda department: the oldest final-review posts
  // were approved by this person at level 2, so the inbox must skip them.
  const propHead = mk(depts[0].id, [Role.PROPAGANDA_REVIEWER, Role.DEPT_REVIEWER]);
  const prop = mk(depts[0].id, [Role.PROPAGANDA_REVIEWER]);
  await insert(ds, 'users', people);
  const channels = depts.map((d, i) => ({
    id: randomUUID(),
    name: `渠道${i}`,
    platform: 'website',
    departmentId: d.id,
    acceptsSubmissions: i === 0,
    active: true,
    config: '{}',
    credentials: null,
    createdAt: at(now),
    updatedAt: at(now),
  }));
  await insert(ds, 'channels', channels);

  const t0 = Date.now();
  const BATCH = 1000;
  for (let b = 0; b < POSTS; b += BATCH) {
    const posts: Record<string, unknown>[] = [];
    const revs: Record<string, unknown>[] = [];
    const pcs: Record<string, unknown>[] = [];
    const texts: { postId: string; title: string; summary: string | null }[] = [];
    for (let i = b; i < Math.min(POSTS, b + BATCH); i++) {
      const d = Math.floor(rnd() * depts.length);
      const id = randomUUID();
      const revId = randomUUID();
      const created = now - (POSTS - i) * 60_000;
      const r = rnd();
      const state =
        r < 0.2
          ? 'draft'
          : r < 0.3
            ? 'pending_dept_review'
            : r < 0.7
              ? 'pending_final_review'
              : r < 0.95
                ? 'published'
                : 'returned';
      const title = `${words(2 + Math.floor(rnd() * 3))}${i % 1000}`.slice(0, 64);
      const summary = rnd() < 0.7 ? words(3 + Math.floor(rnd() * 4)).slice(0, 120) : null;
      posts.push({
        id,
        authorId: pick(editors[d]),
        departmentId: depts[d].id,
        state,
        version: 1,
        round: 1,
        currentRevisionId: revId,
        currentRevisionNumber: 1,
        title,
        publishAt: null,
        deptApproverId: state === 'pending_final_review' ? (i < POSTS / 4 ? propHead : head) : null,
        stateChangedAt: at(created + 1000),
        createdAt: at(created),
        updatedAt: at(created),
      });
      revs.push({
        id: revId,
        postId: id,
        number: 1,
        title,
        summary,
        body: '<p>正文</p>',
        coverImageUrl: null,
        channelIds: JSON.stringify([channels[d].id]),
        publishAt: null,
        contentHash: 'x'.repeat(64),
        createdBy: posts[posts.length - 1].authorId,
        createdAt: at(created),
      });
      pcs.push({ postId: id, channelId: channels[d].id });
      texts.push({ postId: id, title, summary });
    }
    await ds.transaction(async (m) => {
      await insert(ds, 'posts', posts);
      await insert(ds, 'post_revisions', revs);
      await insert(ds, 'post_channels', pcs);
      await indexPostTexts(m, texts);
    });
    if ((b / BATCH) % 10 === 0) process.stdout.write(`\rposts ${b + BATCH}/${POSTS}`);
  }
  console.log(`\nseeded ${POSTS} posts in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  if (mysql && AUDIT > 0) {
    const t1 = Date.now();
    const actions = [
      'post.created',
      'post.submitted',
      'post.approved',
      'auth.login',
      'post.revised',
    ];
    await ds.query(
      `INSERT INTO audit_events (id, createdAt, actorId, action, entityType, entityId, prevHash, hash)
       SELECT s.seq, CONCAT(LEFT(DATE_FORMAT(NOW(3) - INTERVAL (${AUDIT} - s.seq) SECOND, '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z'),
              ?, ELT(1 + s.seq % 5, ${actions.map((a) => `'${a}'`).join(', ')}),
              IF(s.seq % 5 = 3, 'user', 'post'), CONCAT('e', s.seq % 50000), 'x', 'x'
       FROM seq_1_to_${AUDIT} s`,
      [editors[1][0]],
    );
    console.log(`seeded ${AUDIT} audit events in ${((Date.now() - t1) / 1000).toFixed(0)} s`);
  }
  await ds.query(mysql ? 'ANALYZE TABLE posts, post_search_grams, audit_events' : 'ANALYZE');
  return { editor: editors[1][0], depts, head, propHead, prop, channels };
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

async function plan(ds: DataSource, sql: string, params: unknown[]): Promise<string> {
  if (mysql) {
    const rows = (await ds.query(`ANALYZE ${sql}`, params)) as Record<string, unknown>[];
    return rows
      .map(
        (r) =>
          `    ${String(r.select_type).padEnd(12)} ${String(r.table).padEnd(14)} ${String(r.type).padEnd(7)} key=${String(r.key)} rows=${String(r.rows)} r_rows=${String(r.r_rows)} ${String(r.Extra ?? '')}`,
      )
      .join('\n');
  }
  const rows = (await ds.query(`EXPLAIN QUERY PLAN ${sql}`, params)) as { detail: string }[];
  return rows.map((r) => `    ${r.detail}`).join('\n');
}

async function measure(ds: DataSource, name: string, run: () => Promise<unknown>) {
  captured.length = 0;
  await run();
  const queries = captured.filter((c) => /^\s*SELECT/i.test(c.sql));
  console.log(`\n== ${name}`);
  for (const q of queries) console.log(await plan(ds, q.sql, q.params));
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  const conc: number[] = [];
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let i = 0; i < 4; i++) {
        const t = performance.now();
        await run();
        conc.push(performance.now() - t);
      }
    }),
  );
  captured.length = 0;
  const f = (x: number) => x.toFixed(1).padStart(6);
  console.log(
    `  sequential p50 ${f(pct(times, 0.5))} ms  p99 ${f(pct(times, 0.99))} ms | concurrency 32: p50 ${f(pct(conc, 0.5))} ms  p99 ${f(pct(conc, 0.99))} ms`,
  );
}

async function main() {
  const ds = await open();
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  const s = await seed_(ds);
  const m = ds.manager;
  const auditor = user(randomUUID(), s.depts[0].id, [Role.AUDITOR]);
  const head = user(s.head, s.depts[1].id, [Role.DEPT_REVIEWER]);
  const propHead = user(s.propHead, s.depts[0].id, [Role.PROPAGANDA_REVIEWER, Role.DEPT_REVIEWER]);
  const editor = user(s.editor, s.depts[1].id, [Role.EDITOR]);
  const posts = (q: Partial<ListPostsQuery>, who: AuthUser) => () =>
    listPosts(m, Object.assign(new ListPostsQuery(), { pageSize: 50 }, q), who);
  const second = async (q: Partial<ListPostsQuery>, who: AuthUser) => {
    const first = await posts(q, who)();
    return posts({ ...q, cursor: first.nextCursor ?? undefined }, who);
  };

  await measure(ds, 'posts: first page (auditor)', posts({}, auditor));
  await measure(ds, 'posts: page 2 by cursor (auditor)', await second({}, auditor));
  await measure(
    ds,
    'posts: state=pending_final_review',
    posts({ state: 'pending_final_review' }, auditor),
  );
  await measure(ds, 'posts: department reviewer (dept OR own)', posts({}, head));
  await measure(ds, 'posts: editor, own drafts', posts({ state: 'draft' }, editor));
  await measure(ds, 'posts: channelId', posts({ channelId: s.channels[5].id }, auditor));
  await measure(ds, 'posts: q=运动会 (3 chars)', posts({ q: '运动会' }, auditor));
  await measure(ds, 'posts: q=讲座 (2 chars)', posts({ q: '讲座' }, auditor));
  await measure(ds, 'posts: q=艺 (1 char)', posts({ q: '艺' }, auditor));
  await measure(ds, 'posts: q=春季运动会 (rare combination)', posts({ q: '春季运动会' }, auditor));
  await measure(ds, 'posts: q=open day (Latin)', posts({ q: 'open day' }, auditor));
  await measure(ds, 'posts: first page with count=true', posts({ count: true }, auditor));
  const inbox = (who: AuthUser) => () =>
    inboxPosts(m, Object.assign(new InboxQuery(), { pageSize: 50 }), who);
  await measure(ds, 'inbox: department reviewer', inbox(head));
  await measure(
    ds,
    'inbox: propaganda reviewer who skips 25k own level-2 approvals',
    inbox(propHead),
  );
  if (mysql && AUDIT > 0) {
    const audit = new AuditQueryService(ds.getRepository(AuditEvent));
    const events = (q: Partial<ListAuditEventsQuery>) => () =>
      audit.list(Object.assign(new ListAuditEventsQuery(), { pageSize: 50 }, q));
    await measure(ds, 'audit: newest first', events({}));
    await measure(ds, 'audit: action=post.approved', events({ action: 'post.approved' }));
    await measure(ds, 'audit: entityType=user', events({ entityType: 'user' }));
    await measure(ds, 'audit: entity e123', events({ entityType: 'post', entityId: 'e123' }));
  }
  await ds.destroy();
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
