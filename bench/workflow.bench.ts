/**
 * Review workflow benchmark on MySQL/MariaDB + Redis (not a test).
 *
 *   npm run bench:workflow
 *
 * Measures, in one run on a freshly recreated database, against the built gateway
 * (`dist/src/main.js`) running as its own OS process (REDIS_URL set, PUBLISH_WORKERS_IN_API=false,
 * LOG_LEVEL=warn):
 *  - decisions over HTTP, per level — submit (一审), level-2 approve (二审), level-3 approve
 *    (三审) — at each concurrency (default 1, 8, 32): decisions/s, p50/p99 latency, gateway CPU
 *    ms per decision (/proc/<pid>/stat), SQL statements per decision (the server's `Questions`
 *    delta net of this bench's own reads, and the gateway's own count from a preloaded probe);
 *  - the raw ceiling in the same run: the same writes per decision through mysql2 directly, one
 *    transaction each (guarded UPDATE of the post, decision INSERT, audit head FOR UPDATE, chained
 *    audit INSERT, head UPDATE, COMMIT), tx/s, and the gateway/raw ratio per level and concurrency;
 *  - reads at BENCH_READ_POSTS posts (default 100,000): the post list (first page, by state, by
 *    `q`), the review inbox as a department and as a propaganda reviewer: p50/p99 and req/s.
 * Posts are inserted directly in SQL as the app would have written them (posts, revisions,
 * channels, the decisions and screenings of earlier levels, publications), one function per table.
 * Checks (exit 1): every decision answers 200, every read 200, the audit chain verifies.
 *
 * Environment:
 *   BENCH_MYSQL_URL        database to DROP and recreate (default
 *                          mysql://root@127.0.0.1:3306/sanshen_bench); its name must contain
 *                          "bench" unless BENCH_ALLOW_DROP=1
 *   BENCH_REDIS_URL        Redis of the gateway (default redis://127.0.0.1:6379); the run's queue
 *                          keys use their own prefix and are removed at the end
 *   BENCH_DURATION_S       measured seconds per decision phase (default 5)
 *   BENCH_WARMUP_S         unmeasured seconds before each phase (default 1)
 *   BENCH_CONCURRENCY      comma list (default "1,8,32")
 *   BENCH_POSTS_PER_LEVEL  posts prepared for the gateway's phases of each level (default 3000)
 *   BENCH_RAW_POSTS        posts the raw phases of each level cycle through (default 1000)
 *   BENCH_READ_POSTS       posts in the table for the reads (default 100000)
 *   BENCH_READ_S           measured seconds per read (default 4)
 *   BENCH_READ_CONCURRENCY (default 32)
 *   BENCH_QUERY            the `q` of the search read (default 运动会)
 *
 * Prints a table, then the figures as one JSON line (the last line of stdout).
 */
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger, LoggerService } from '@nestjs/common';
import { Redis } from 'ioredis';
import {
  createConnection,
  createPool,
  PoolConnection,
  ResultSetHeader,
  RowDataPacket,
} from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { canonicalJson } from 'src/common/canonical-json';
import { Role } from 'src/common/roles';
import { AuditEvent } from 'src/modules/audit/audit-event.entity';
import { chainHash } from 'src/modules/audit/audit-hash';
import { AuditService } from 'src/modules/audit/audit.service';
import { hashPassword } from 'src/modules/users/passwords';
import { contentHash } from 'src/modules/posts/content-hash';
import { normaliseContent } from 'src/modules/posts/post-content';
import { PostState } from 'src/modules/posts/post-state-machine';
import { gramsOf } from 'src/modules/posts/post-search';
import { DECISION_COLUMNS, POST_COLUMNS, REVISION_COLUMNS } from 'src/modules/posts/post-columns';
import { EVENT_COLUMNS } from 'src/modules/audit/audit-hash';
import { benchKeys, Gateway, gatewayEnv, SQL_PROBE } from './support/gateway';
import { errorKey, HttpClient } from './support/http';
import {
  Counters,
  diffCounters,
  globalStatus,
  insertRows,
  openDatabase,
  Queryable,
  recreateDatabase,
  serverInfo,
  tableColumns,
} from './support/mysql';
import { cpuSnapshot, CpuSnapshot } from './support/process';
import { obliterateQueues, redisVersion } from './support/redis';
import { intEnv, listEnv, numberEnv, per, perSecond, round, summarize } from './support/stats';

// ---------------------------------------------------------------- configuration

const env = process.env;
const MYSQL_URL = env.BENCH_MYSQL_URL || 'mysql://root@127.0.0.1:3306/sanshen_bench';
const REDIS_URL = env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';
const DURATION_MS = numberEnv('BENCH_DURATION_S', 5) * 1000;
const WARMUP_MS = numberEnv('BENCH_WARMUP_S', 1) * 1000;
const CONCURRENCY = listEnv('BENCH_CONCURRENCY', '1,8,32');
const POSTS_PER_LEVEL = intEnv('BENCH_POSTS_PER_LEVEL', 3000, 1);
const RAW_POSTS = intEnv('BENCH_RAW_POSTS', 1000, Math.max(...CONCURRENCY) * 2);
const READ_POSTS = intEnv('BENCH_READ_POSTS', 100_000, 0);
const READ_MS = numberEnv('BENCH_READ_S', 4) * 1000;
const READ_CONCURRENCY = intEnv('BENCH_READ_CONCURRENCY', 32, 1);
const QUERY = env.BENCH_QUERY || '运动会';
const PASSWORD = 'bench-password-1';
/** Posts per seeding transaction (all their rows in all tables). */
const SEED_BATCH = 2000;

// ---------------------------------------------------------------- the organisation

const DEPARTMENTS: [string, string][] = [
  ['计算机学院', 'CS'],
  ['外国语学院', 'FL'],
  ['机械工程学院', 'ME'],
  ['经济管理学院', 'EM'],
  ['化学化工学院', 'CH'],
  ['数学科学学院', 'MA'],
  ['物理学院', 'PH'],
  ['文学院', 'LI'],
  ['法学院', 'LA'],
  ['艺术学院', 'AR'],
];
const EDITORS_PER_DEPT = 3;
const REVIEWERS_PER_DEPT = 2;
const PROPAGANDA_REVIEWERS = 4;

interface Person {
  id: string;
  username: string;
  roles: Role[];
  departmentId: string;
  token?: string;
}

interface Dept {
  id: string;
  name: string;
  editors: Person[];
  reviewers: Person[];
  channelId: string;
}

interface Org {
  propagandaId: string;
  depts: Dept[];
  propaganda: Person[];
  /** Channels of the propaganda department that accept submissions from every department. */
  sharedChannels: string[];
  people: Person[];
}

async function createOrg(ds: DataSource): Promise<Org> {
  const now = new Date();
  const passwordHash = await hashPassword(PASSWORD);
  const propagandaId = randomUUID();
  const person = (username: string, roles: Role[], departmentId: string): Person => ({
    id: randomUUID(),
    username,
    roles,
    departmentId,
  });
  const depts: Dept[] = DEPARTMENTS.map(([name, code]) => {
    const id = randomUUID();
    return {
      id,
      name,
      editors: Array.from({ length: EDITORS_PER_DEPT }, (_, k) =>
        person(`editor_${code.toLowerCase()}_${k + 1}`, [Role.EDITOR], id),
      ),
      reviewers: Array.from({ length: REVIEWERS_PER_DEPT }, (_, k) =>
        person(`reviewer_${code.toLowerCase()}_${k + 1}`, [Role.DEPT_REVIEWER], id),
      ),
      channelId: randomUUID(),
    };
  });
  const propaganda = Array.from({ length: PROPAGANDA_REVIEWERS }, (_, k) =>
    person(`propaganda_${k + 1}`, [Role.PROPAGANDA_REVIEWER], propagandaId),
  );
  const sharedChannels = [randomUUID(), randomUUID()];
  const people = [...depts.flatMap((d) => [...d.editors, ...d.reviewers]), ...propaganda];
  await ds.transaction(async (m) => {
    await insertRows(
      m,
      'departments',
      ['id', 'name', 'code', 'isPropaganda', 'active', 'createdAt', 'updatedAt'],
      [
        [propagandaId, '宣传部', 'PROP', 1, 1, now, now],
        ...depts.map((d, i) => [d.id, d.name, DEPARTMENTS[i][1], 0, 1, now, now]),
      ],
    );
    await insertRows(
      m,
      'users',
      [
        'id',
        'username',
        'displayName',
        'passwordHash',
        'roles',
        'departmentId',
        'active',
        'createdAt',
        'updatedAt',
      ],
      people.map((p) => [
        p.id,
        p.username,
        `测试 ${p.username}`,
        passwordHash,
        p.roles.join(','),
        p.departmentId,
        1,
        now,
        now,
      ]),
    );
    const channel = (id: string, name: string, dept: string, accepts: boolean) => [
      id,
      name,
      'website',
      dept,
      accepts ? 1 : 0,
      1,
      '{}',
      null,
      now,
      now,
    ];
    await insertRows(
      m,
      'channels',
      [
        'id',
        'name',
        'platform',
        'departmentId',
        'acceptsSubmissions',
        'active',
        'config',
        'credentials',
        'createdAt',
        'updatedAt',
      ],
      [
        channel(sharedChannels[0], '大学新闻网', propagandaId, true),
        channel(sharedChannels[1], '大学官方网站', propagandaId, true),
        ...depts.map((d) => channel(d.channelId, `${d.name}网站`, d.id, false)),
      ],
    );
  });
  return { propagandaId, depts, propaganda, sharedChannels, people };
}

// ---------------------------------------------------------------- deterministic content

const TOPICS = [
  '学术报告会',
  '志愿服务活动',
  '创新创业大赛',
  '招生宣传',
  '毕业典礼',
  '实验室开放日',
  '读书分享会',
  '校园文化节',
  '科研成果发布',
  '国际交流周',
  '党史学习教育',
  '就业双选会',
  '心理健康讲座',
  '迎新晚会',
  '教学成果展',
];
/** One title in MARKER_EVERY carries it, so `q` finds a few hundred of 100,000. */
const MARKER = '秋季运动会';
const MARKER_EVERY = 250;

const PARAGRAPHS = [
  '为深入贯彻落实立德树人根本任务，进一步推进校园文化建设，学校于本周在图书馆报告厅举行主题教育活动。',
  '活动邀请了多位校内外专家围绕人工智能与高等教育的融合发展作专题报告，吸引了近千名师生参加。',
  '与会专家指出，新媒体平台已经成为高校思想政治教育的重要阵地，必须坚持正确导向，严把内容审核关。',
  '各学院负责人分别介绍了本单位在课程建设、实践育人和网络安全方面的经验做法。',
  '现场同学纷纷表示，将以更加饱满的热情投入学习和科研工作，在新时代新征程上展现青年学子的责任担当。',
  'The event closed with a panel on open science and responsible publishing in the digital age.',
];

interface Content {
  title: string;
  summary: string;
  body: string;
  coverImageUrl: string;
}

/** Already in the stored form (NFC, sanitised): the self-check at start proves it. */
function content(n: number, dept: string, bodyBytes: number): Content {
  const topic = n % MARKER_EVERY === 3 ? MARKER : TOPICS[n % TOPICS.length];
  let body = `<p><strong>第${n}期</strong> ${dept}新闻：本期编号 ${n}。</p>`;
  for (let k = 0; Buffer.byteLength(body) < bodyBytes; k++) {
    body += `<p>${PARAGRAPHS[(n + k) % PARAGRAPHS.length]}</p>`;
  }
  return {
    title: `${dept}${topic}：第${n}期`,
    summary: `${dept}举办${topic}，师生踊跃参与，现场气氛热烈（编号${n}）。`,
    body,
    coverImageUrl: `https://news.example.edu.cn/images/${n}.jpg`,
  };
}

// ---------------------------------------------------------------- posts as the app writes them

interface DecisionRow {
  id: string;
  level: 1 | 2 | 3;
  outcome: 'approve' | 'reject';
  reviewer: Person;
  comment: string | null;
  at: Date;
}

interface PublicationRow {
  id: string;
  channelId: string;
  status: string;
  operation: string;
  nextAttemptAt: Date | null;
  publishedAt: Date | null;
}

interface PostSpec {
  id: string;
  revisionId: string;
  author: Person;
  departmentId: string;
  state: PostState;
  version: number;
  round: number;
  content: Content;
  channelIds: string[];
  publishAt: Date | null;
  contentHash: string;
  deptApproverId: string | null;
  createdAt: Date;
  stateChangedAt: Date;
  decisions: DecisionRow[];
  publications: PublicationRow[];
}

/** What each state implies happened before: version, round, the decisions, the publications. */
const HISTORY: Record<
  PostState,
  { version: number; round: number; steps: ('L1' | 'L2' | 'L2-' | 'L3')[]; pubs?: string }
> = {
  draft: { version: 1, round: 0, steps: [] },
  archived: { version: 2, round: 0, steps: [] },
  pending_dept_review: { version: 2, round: 1, steps: ['L1'] },
  pending_final_review: { version: 3, round: 1, steps: ['L1', 'L2'] },
  returned: { version: 3, round: 1, steps: ['L1', 'L2-'] },
  approved: { version: 4, round: 1, steps: ['L1', 'L2', 'L3'], pubs: 'queued' },
  published: { version: 5, round: 1, steps: ['L1', 'L2', 'L3'], pubs: 'published' },
  retracted: { version: 6, round: 1, steps: ['L1', 'L2', 'L3'], pubs: 'retracted' },
};

const DAY = 86_400_000;
const RUN_START = Date.now();

function buildPost(
  org: Org,
  n: number,
  state: PostState,
  bodyBytes: number,
  ageMs: number,
): PostSpec {
  const dept = org.depts[n % org.depts.length];
  const author = dept.editors[Math.floor(n / org.depts.length) % dept.editors.length];
  const reviewer = dept.reviewers[n % dept.reviewers.length];
  const finalReviewer = org.propaganda[n % org.propaganda.length];
  const c = content(n, dept.name, bodyBytes);
  const channelIds = (
    n % 3 === 0 ? [dept.channelId] : [dept.channelId, org.sharedChannels[n % 2]]
  ).sort();
  const h = HISTORY[state];
  const createdAt = new Date(RUN_START - ageMs);
  // An approved post waits for its scheduled time: beyond the relay's horizon.
  const publishAt = state === 'approved' ? new Date(RUN_START + 30 * DAY + n * 1000) : null;
  const hash = contentHash({
    ...c,
    channelIds,
    publishAt: publishAt ? publishAt.toISOString() : null,
  });
  let t = createdAt.getTime();
  const next = () => new Date((t += 60_000 + (n % 7) * 1000));
  const decisions: DecisionRow[] = h.steps.map((s) => ({
    id: randomUUID(),
    level: s === 'L1' ? 1 : s === 'L3' ? 3 : 2,
    outcome: s === 'L2-' ? 'reject' : 'approve',
    reviewer: s === 'L1' ? author : s === 'L3' ? finalReviewer : reviewer,
    comment: s === 'L2-' ? '图片来源未注明，请补充后再提交。' : s === 'L1' ? null : '同意。',
    at: next(),
  }));
  const stateChangedAt = h.steps.length ? next() : state === 'draft' ? createdAt : next();
  const publications: PublicationRow[] = h.pubs
    ? channelIds.map((channelId) => ({
        id: randomUUID(),
        channelId,
        status: h.pubs!,
        operation: h.pubs === 'retracted' ? 'retract' : 'publish',
        nextAttemptAt: h.pubs === 'queued' ? publishAt : null,
        publishedAt: h.pubs === 'queued' ? null : stateChangedAt,
      }))
    : [];
  return {
    id: randomUUID(),
    revisionId: randomUUID(),
    author,
    departmentId: dept.id,
    state,
    version: h.version,
    round: h.round,
    content: c,
    channelIds,
    publishAt,
    contentHash: hash,
    deptApproverId: h.steps.includes('L2') ? reviewer.id : null,
    createdAt,
    stateChangedAt,
    decisions,
    publications,
  };
}

const ATTESTATION = {
  factual: true,
  sourced: true,
  noSensitiveContent: true,
  imagesLicensed: true,
};

interface SeedTable {
  table: string;
  columns: string[];
  rows: (p: PostSpec) => unknown[][];
  /** Rows per INSERT statement. */
  chunk?: number;
}

/**
 * One entry per table a post's rows go to. A new table (a search index, say) is one more entry,
 * or a function like `searchGramTable` that looks at the migrated schema first.
 */
const SEED_TABLES: SeedTable[] = [
  {
    table: 'posts',
    columns: [...POST_COLUMNS],
    rows: (p) => [
      [
        p.id,
        p.author.id,
        p.departmentId,
        p.state,
        p.version,
        p.round,
        p.revisionId,
        1,
        p.content.title,
        p.publishAt,
        p.deptApproverId,
        p.stateChangedAt,
        p.createdAt,
        p.stateChangedAt,
      ],
    ],
  },
  {
    table: 'post_revisions',
    columns: [...REVISION_COLUMNS],
    rows: (p) => [
      [
        p.revisionId,
        p.id,
        1,
        p.content.title,
        p.content.summary,
        p.content.body,
        p.content.coverImageUrl,
        JSON.stringify(p.channelIds),
        p.publishAt,
        p.contentHash,
        p.author.id,
        p.createdAt,
      ],
    ],
    chunk: 300,
  },
  {
    table: 'post_channels',
    columns: ['postId', 'channelId'],
    rows: (p) => p.channelIds.map((c) => [p.id, c]),
    chunk: 1000,
  },
  {
    table: 'decisions',
    columns: [...DECISION_COLUMNS],
    rows: (p) =>
      p.decisions.map((d) => [
        d.id,
        p.id,
        1,
        p.revisionId,
        1,
        p.contentHash,
        d.level,
        d.outcome,
        d.reviewer.id,
        d.reviewer.roles.join(','),
        d.comment,
        d.level === 1 ? JSON.stringify(ATTESTATION) : null,
        d.at,
      ]),
    chunk: 1000,
  },
  {
    // Every submission records its screening (no dictionary here: no hits).
    table: 'post_screenings',
    columns: ['id', 'postId', 'round', 'revisionId', 'decisionId', 'hitCount', 'hits', 'createdAt'],
    rows: (p) =>
      p.decisions
        .filter((d) => d.level === 1)
        .map((d) => [randomUUID(), p.id, 1, p.revisionId, d.id, 0, '[]', d.at]),
    chunk: 1000,
  },
  {
    table: 'publications',
    columns: [
      'id',
      'postId',
      'channelId',
      'revisionId',
      'contentHash',
      'status',
      'attempts',
      'nextAttemptAt',
      'operation',
      'publishedAt',
      'createdAt',
      'updatedAt',
    ],
    rows: (p) =>
      p.publications.map((x) => [
        x.id,
        p.id,
        x.channelId,
        p.revisionId,
        p.contentHash,
        x.status,
        x.status === 'queued' ? 0 : 1,
        x.nextAttemptAt,
        x.operation,
        x.publishedAt,
        p.decisions[p.decisions.length - 1].at,
        p.stateChangedAt,
      ]),
    chunk: 1000,
  },
];

/** Distinct bigrams (code points, lower-cased, no whitespace) of a post's title and summary. */
export function bigrams(p: PostSpec): string[] {
  const out = new Set<string>();
  for (const text of [p.content.title, p.content.summary]) {
    const cps = [...text.toLowerCase()];
    for (let i = 0; i + 1 < cps.length; i++) {
      const g = cps[i] + cps[i + 1];
      if (!/\s/.test(g)) out.add(g);
    }
  }
  return [...out];
}

/**
 * The text-search tables, filled as `indexPostText` fills them (`post_search_docs` with the lowered
 * text, `post_search_grams` with every character and adjacent pair), when the schema has them.
 */
async function searchTables(q: Queryable): Promise<{ tables: SeedTable[]; note: string }> {
  const docs = await tableColumns(q, 'post_search_docs');
  const grams = await tableColumns(q, 'post_search_grams');
  if (!docs || !grams) return { tables: [], note: 'no text-search tables' };
  const fold = (s: string) => s.toLowerCase();
  return {
    tables: [
      {
        table: 'post_search_docs',
        columns: ['postId', 'title', 'summary'],
        rows: (p) => [[p.id, fold(p.content.title), fold(p.content.summary)]],
      },
      {
        table: 'post_search_grams',
        columns: ['gram', 'createdAt', 'postId'],
        rows: (p) =>
          [...new Set([...gramsOf(p.content.title), ...gramsOf(p.content.summary)])].map((g) => [
            g,
            p.createdAt,
            p.id,
          ]),
        chunk: 2000,
      },
    ],
    note: 'text-search tables filled as indexPostText does',
  };
}

const cmp = (a: unknown, b: unknown) =>
  String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;

/** Seconds spent inserting into each table, for the report. */
const seedSeconds = new Map<string, number>();

async function seedPosts(ds: DataSource, tables: SeedTable[], specs: PostSpec[]): Promise<void> {
  for (let i = 0; i < specs.length; i += SEED_BATCH) {
    const batch = specs.slice(i, i + SEED_BATCH);
    await ds.transaction(async (m) => {
      // A bulk load of rows consistent by construction: the per-row foreign-key and unique
      // lookups would only slow it down (the indexes themselves are still maintained).
      await m.query('SET SESSION foreign_key_checks = 0, unique_checks = 0');
      try {
        for (const t of tables) {
          const t0 = performance.now();
          // In primary-key order (every table's key leads its columns): fewer page splits.
          const rows = batch
            .flatMap((p) => t.rows(p))
            .sort((a, b) => cmp(a[0], b[0]) || cmp(a[1], b[1]));
          await insertRows(m, t.table, t.columns, rows, t.chunk ?? 500);
          seedSeconds.set(
            t.table,
            (seedSeconds.get(t.table) ?? 0) + (performance.now() - t0) / 1000,
          );
        }
      } finally {
        await m.query('SET SESSION foreign_key_checks = 1, unique_checks = 1');
      }
    });
  }
}

/** The seeded rows must be what the app itself would have stored and hashed. */
function selfCheck(specs: PostSpec[]): string[] {
  const problems: string[] = [];
  for (const p of specs) {
    const n = normaliseContent({
      ...p.content,
      channelIds: p.channelIds,
      publishAt: p.publishAt,
    });
    if (n.hash !== p.contentHash) problems.push(`content hash of ${p.id} differs from the app's`);
    if (n.body !== p.content.body) problems.push(`body of ${p.id} changes when sanitised`);
    if (n.title !== p.content.title || n.summary !== p.content.summary)
      problems.push(`title/summary of ${p.id} change when normalised`);
    if (JSON.stringify(n.channelIds) !== JSON.stringify(p.channelIds))
      problems.push(`channel order of ${p.id} differs`);
  }
  return problems;
}

const BACKGROUND_STATES: [PostState, number][] = [
  ['draft', 8],
  ['pending_dept_review', 6],
  ['pending_final_review', 5],
  ['approved', 2],
  ['published', 62],
  ['returned', 7],
  ['retracted', 2],
  ['archived', 8],
];

function backgroundState(n: number): PostState {
  const total = BACKGROUND_STATES.reduce((a, [, w]) => a + w, 0);
  // A multiplicative hash spreads the states over departments and authors.
  let r = ((n * 2654435761) >>> 0) % total;
  for (const [s, w] of BACKGROUND_STATES) {
    if (r < w) return s;
    r -= w;
  }
  return 'published';
}

// ---------------------------------------------------------------- load driver

interface Drive {
  ops: number;
  seconds: number;
  latencies: number[];
  errors: Record<string, number>;
  exhausted: boolean;
}

const EXHAUSTED = Symbol('exhausted');
type Op = () => Promise<void | string | typeof EXHAUSTED>;

/**
 * `concurrency` loops, each one request after another, for `ms`. An op returns a string to
 * count as an error, EXHAUSTED when there is nothing left to do.
 */
async function drive(concurrency: number, ms: number, op: Op): Promise<Drive> {
  const start = performance.now();
  const deadline = start + ms;
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let exhausted = false;
  let ops = 0;
  const loop = async () => {
    while (!exhausted && performance.now() < deadline) {
      const t0 = performance.now();
      let r: Awaited<ReturnType<Op>>;
      try {
        r = await op();
      } catch (e) {
        r = e instanceof Error ? e.message.slice(0, 80) : String(e);
      }
      if (r === EXHAUSTED) {
        exhausted = true;
        break;
      }
      if (typeof r === 'string') errors[r] = (errors[r] ?? 0) + 1;
      else {
        ops++;
        latencies.push(performance.now() - t0);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { ops, seconds: (performance.now() - start) / 1000, latencies, errors, exhausted };
}

// ---------------------------------------------------------------- measurement

const STATUS = ['Questions', 'Com_commit', 'Innodb_row_lock_waits', 'Innodb_deadlocks'] as const;

interface Meter {
  /** A connection used for nothing but SHOW GLOBAL STATUS. */
  status: Queryable;
  /** Statements one status read adds to `Questions` (measured at start). */
  overhead: number;
  gateway: Gateway | null;
}

interface Window {
  status: Counters;
  gatewaySql: number | null;
  gatewayCpu: number | null;
  cpu: CpuSnapshot;
}

async function openWindow(m: Meter): Promise<Window> {
  const gatewaySql = m.gateway ? await m.gateway.sqlCount() : null;
  const gatewayCpu = m.gateway ? m.gateway.cpuSeconds() : null;
  const cpu = cpuSnapshot();
  return { status: await globalStatus(m.status, STATUS), gatewaySql, gatewayCpu, cpu };
}

interface Measured {
  /** Server-wide counters, net of this bench's own status reads. */
  db: Counters;
  gatewaySql: number | null;
  gatewayCpuSeconds: number | null;
  mysqldCpuSeconds: number | null;
  benchCpuSeconds: number;
  /** Busy cores of everything else on the machine meanwhile (other helpers, other tests). */
  otherCores: number | null;
}

async function closeWindow(m: Meter, w: Window, seconds: number): Promise<Measured> {
  const status = await globalStatus(m.status, STATUS);
  const cpu = cpuSnapshot();
  const gatewayCpu = m.gateway ? m.gateway.cpuSeconds() : null;
  const gatewaySql = m.gateway ? await m.gateway.sqlCount() : null;
  const db = diffCounters(w.status, status);
  db.Questions -= m.overhead;
  const gw = gatewayCpu !== null && w.gatewayCpu !== null ? gatewayCpu - w.gatewayCpu : null;
  const mysqld =
    cpu.mysqld !== null && w.cpu.mysqld !== null ? round(cpu.mysqld - w.cpu.mysqld, 2) : null;
  const bench = cpu.bench - w.cpu.bench;
  let otherCores: number | null = null;
  if (cpu.machine !== null && w.cpu.machine !== null) {
    const mine = (gw ?? 0) + bench + (mysqld ?? 0) + ((cpu.redis ?? 0) - (w.cpu.redis ?? 0));
    otherCores = round(Math.max(0, cpu.machine - w.cpu.machine - mine) / seconds, 2);
  }
  return {
    db,
    gatewaySql: gatewaySql !== null && w.gatewaySql !== null ? gatewaySql - w.gatewaySql : null,
    gatewayCpuSeconds: gw === null ? null : round(gw, 3),
    mysqldCpuSeconds: mysqld,
    benchCpuSeconds: round(bench, 2),
    otherCores,
  };
}

async function calibrate(status: Queryable): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < 5; i++) {
    const a = await globalStatus(status, STATUS);
    const b = await globalStatus(status, STATUS);
    min = Math.min(min, b.Questions - a.Questions);
  }
  return min;
}

interface PhaseFigures {
  kind: 'gateway' | 'raw';
  level: Level;
  concurrency: number;
  ops: number;
  seconds: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
  maxMs: number;
  errors: Record<string, number>;
  exhausted: boolean;
  /** Server `Questions` delta (net of the bench's reads) per op: includes other clients. */
  sqlPerOp: number | null;
  /** Statements the gateway (or the raw loop) itself sent, per op. */
  clientSqlPerOp: number | null;
  commitsPerOp: number | null;
  rowLockWaits: number;
  deadlocks: number;
  gatewayCpuMsPerOp: number | null;
  mysqldCpuMsPerOp: number | null;
  benchCpuSeconds: number;
  otherCores: number | null;
}

function figures(
  kind: PhaseFigures['kind'],
  level: Level,
  concurrency: number,
  d: Drive,
  m: Measured,
  clientSql: number | null,
): PhaseFigures {
  const lat = summarize(d.latencies);
  return {
    kind,
    level,
    concurrency,
    ops: d.ops,
    seconds: round(d.seconds, 3),
    perSecond: perSecond(d.ops, d.seconds),
    p50ms: lat.p50ms,
    p99ms: lat.p99ms,
    maxMs: lat.maxMs,
    errors: d.errors,
    exhausted: d.exhausted,
    sqlPerOp: per(m.db.Questions, d.ops, 1),
    clientSqlPerOp: per(clientSql, d.ops, 1),
    commitsPerOp: per(m.db.Com_commit, d.ops, 2),
    rowLockWaits: m.db.Innodb_row_lock_waits,
    deadlocks: m.db.Innodb_deadlocks,
    gatewayCpuMsPerOp: per(m.gatewayCpuSeconds === null ? null : m.gatewayCpuSeconds * 1000, d.ops),
    mysqldCpuMsPerOp: per(m.mysqldCpuSeconds === null ? null : m.mysqldCpuSeconds * 1000, d.ops),
    benchCpuSeconds: m.benchCpuSeconds,
    otherCores: m.otherCores,
  };
}

// ---------------------------------------------------------------- decisions

type Level = 'submit' | 'level2' | 'level3';
const LEVELS: Level[] = ['submit', 'level2', 'level3'];

const LEVEL_MOVE: Record<
  Level,
  { from: PostState; to: PostState; level: 1 | 2 | 3; action: string; path: string }
> = {
  submit: {
    from: 'draft',
    to: 'pending_dept_review',
    level: 1,
    action: 'post.submitted',
    path: 'submit',
  },
  level2: {
    from: 'pending_dept_review',
    to: 'pending_final_review',
    level: 2,
    action: 'post.approved',
    path: 'approve',
  },
  level3: {
    from: 'pending_final_review',
    to: 'approved',
    level: 3,
    action: 'post.approved',
    path: 'approve',
  },
};

/** Who decides a post at a level: its author, a reviewer of its department, a propaganda reviewer. */
function decider(org: Org, p: PostSpec, level: Level, i: number): Person {
  if (level === 'submit') return p.author;
  if (level === 'level2') {
    const d = org.depts.find((x) => x.id === p.departmentId)!;
    return d.reviewers[i % d.reviewers.length];
  }
  return org.propaganda[i % org.propaganda.length];
}

async function gatewayDecisions(
  http: HttpClient,
  org: Org,
  level: Level,
  pool: PostSpec[],
  cursor: { i: number },
  concurrency: number,
  meter: Meter,
): Promise<PhaseFigures> {
  const move = LEVEL_MOVE[level];
  const op: Op = async () => {
    const k = cursor.i++;
    const p = pool[k];
    if (!p) return EXHAUSTED;
    const who = decider(org, p, level, k);
    const body =
      level === 'submit'
        ? { revisionId: p.revisionId, attestation: ATTESTATION }
        : { revisionId: p.revisionId, comment: level === 'level2' ? '同意。' : '同意发布。' };
    const r = await http.call('POST', `/api/v1/posts/${p.id}/${move.path}`, who.token, body);
    if (r.status !== 200) return errorKey(r);
  };
  await drive(concurrency, WARMUP_MS, op);
  const w = await openWindow(meter);
  const d = await drive(concurrency, DURATION_MS, op);
  const m = await closeWindow(meter, w, d.seconds);
  return figures('gateway', level, concurrency, d, m, m.gatewaySql);
}

const AUDIT_INSERT = `INSERT INTO audit_events (${EVENT_COLUMNS.join(', ')}) VALUES (${EVENT_COLUMNS.map(() => '?').join(', ')})`;
const DECISION_INSERT = `INSERT INTO decisions (${DECISION_COLUMNS.join(', ')}) VALUES (${DECISION_COLUMNS.map(() => '?').join(', ')})`;
const GUARDED_UPDATE =
  'UPDATE posts SET state = ?, version = version + 1, round = ?, deptApproverId = ?, ' +
  'stateChangedAt = ?, updatedAt = ? WHERE id = ? AND state = ? AND version = ?';

/** Where each raw post stands in the database now; kept across the phases of a level. */
type RawState = Map<string, { state: PostState; version: number }>;

const rawState = (posts: PostSpec[]): RawState =>
  new Map(posts.map((p) => [p.id, { state: p.state, version: p.version }]));

/**
 * The raw ceiling: the gateway's writes for one decision as one transaction straight through
 * mysql2. Each post flips between the level's two states, so a small set serves any duration.
 */
async function rawDecisions(
  org: Org,
  level: Level,
  posts: PostSpec[],
  state: RawState,
  concurrency: number,
  meter: Meter,
): Promise<PhaseFigures> {
  const move = LEVEL_MOVE[level];
  const pool = createPool({
    uri: MYSQL_URL,
    connectionLimit: concurrency,
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    supportBigNumbers: true,
  });
  const conns: PoolConnection[] = [];
  for (let i = 0; i < concurrency; i++) {
    const c = await pool.getConnection();
    // What Transactions.run asks for, once per connection rather than per transaction.
    await c.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
    conns.push(c);
  }
  let next = 0;
  let free = [...conns];
  let statements = 0;
  const op: Op = async () => {
    const k = next++;
    const p = posts[k % posts.length];
    const s = state.get(p.id)!;
    const conn = free.pop()!;
    const to = s.state === move.from ? move.to : move.from;
    const who = decider(org, p, level, k);
    const now = new Date();
    try {
      await conn.query('START TRANSACTION');
      const [res] = await conn.query<ResultSetHeader>(GUARDED_UPDATE, [
        to,
        p.round === 0 ? 1 : p.round,
        level === 'level2' ? who.id : p.deptApproverId,
        now,
        now,
        p.id,
        s.state,
        s.version,
      ]);
      if (res.affectedRows !== 1) throw new Error('guarded update missed');
      const decisionId = randomUUID();
      await conn.query(DECISION_INSERT, [
        decisionId,
        p.id,
        1,
        p.revisionId,
        1,
        p.contentHash,
        move.level,
        'approve',
        who.id,
        who.roles.join(','),
        level === 'submit' ? null : '同意。',
        level === 'submit' ? JSON.stringify(ATTESTATION) : null,
        now,
      ]);
      const [[h]] = await conn.query<RowDataPacket[]>(
        'SELECT lastEventId, headHash FROM audit_chain_head WHERE id = 1 FOR UPDATE',
      );
      const e = new AuditEvent();
      e.id = Number(h.lastEventId) + 1;
      e.createdAt = now.toISOString();
      e.actorId = who.id;
      e.actorRole = who.roles.join(',');
      e.action = move.action;
      e.entityType = 'post';
      e.entityId = p.id;
      e.fromState = s.state;
      e.toState = to;
      e.revisionId = p.revisionId;
      e.contentHash = p.contentHash;
      e.comment = level === 'submit' ? null : '同意。';
      e.details = canonicalJson({ revisionNumber: 1, round: 1, level: move.level, decisionId });
      e.requestId = randomUUID();
      e.ip = '127.0.0.1';
      e.userAgent = 'workflow-bench';
      e.prevHash = h.headHash;
      e.hash = chainHash(e.prevHash, e);
      await conn.query(
        AUDIT_INSERT,
        EVENT_COLUMNS.map((c) => e[c]),
      );
      await conn.query('UPDATE audit_chain_head SET lastEventId = ?, headHash = ? WHERE id = 1', [
        e.id,
        e.hash,
      ]);
      await conn.query('COMMIT');
      statements += 7;
      s.state = to;
      s.version++;
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      statements += 2;
      return err instanceof Error ? err.message.slice(0, 80) : String(err);
    } finally {
      free.push(conn);
    }
  };
  try {
    await drive(concurrency, WARMUP_MS, op);
    const w = await openWindow({ ...meter, gateway: null });
    const before = statements;
    const d = await drive(concurrency, DURATION_MS, op);
    const m = await closeWindow({ ...meter, gateway: null }, w, d.seconds);
    return figures('raw', level, concurrency, d, m, statements - before);
  } finally {
    free = [];
    for (const c of conns) c.release();
    await pool.end();
  }
}

// ---------------------------------------------------------------- reads

interface ReadFigures {
  name: string;
  path: string;
  as: string;
  total: number | null;
  items: number | null;
  concurrency: number;
  requests: number;
  seconds: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
  maxMs: number;
  errors: Record<string, number>;
  sqlPerRequest: number | null;
  gatewaySqlPerRequest: number | null;
  gatewayCpuMsPerRequest: number | null;
  otherCores: number | null;
}

async function readPhase(
  http: HttpClient,
  meter: Meter,
  name: string,
  path: string,
  who: Person,
): Promise<ReadFigures> {
  const first = await http.call('GET', path, who.token);
  let total: number | null = null;
  let items: number | null = null;
  if (first.status === 200) {
    const j = JSON.parse(first.body) as { total?: number; items?: unknown[] };
    total = j.total ?? null;
    items = j.items?.length ?? null;
  }
  const op: Op = async () => {
    const r = await http.call('GET', path, who.token);
    if (r.status !== 200) return errorKey(r);
  };
  await drive(READ_CONCURRENCY, WARMUP_MS, op);
  const w = await openWindow(meter);
  const d = await drive(READ_CONCURRENCY, READ_MS, op);
  const m = await closeWindow(meter, w, d.seconds);
  const lat = summarize(d.latencies);
  if (first.status !== 200) d.errors[`first ${errorKey(first)}`] = 1;
  return {
    name,
    path,
    as: who.username,
    total,
    items,
    concurrency: READ_CONCURRENCY,
    requests: d.ops,
    seconds: round(d.seconds, 3),
    perSecond: perSecond(d.ops, d.seconds),
    p50ms: lat.p50ms,
    p99ms: lat.p99ms,
    maxMs: lat.maxMs,
    errors: d.errors,
    sqlPerRequest: per(m.db.Questions, d.ops, 1),
    gatewaySqlPerRequest: per(m.gatewaySql, d.ops, 1),
    gatewayCpuMsPerRequest: per(
      m.gatewayCpuSeconds === null ? null : m.gatewayCpuSeconds * 1000,
      d.ops,
    ),
    otherCores: m.otherCores,
  };
}

// ---------------------------------------------------------------- main

const quietLogger: LoggerService = {
  log: () => undefined,
  warn: (message: unknown) => process.stderr.write(`[warn] ${String(message)}\n`),
  error: (message: unknown) => process.stderr.write(`[error] ${String(message)}\n`),
};

const step = (s: string) => process.stderr.write(`[workflow] ${s}\n`);

async function login(http: HttpClient, people: Person[]): Promise<void> {
  let k = 0;
  const loop = async () => {
    while (k < people.length) {
      const p = people[k++];
      const r = await http.call('POST', '/api/v1/auth/login', undefined, {
        username: p.username,
        password: PASSWORD,
      });
      if (r.status !== 200) throw new Error(`login ${p.username}: ${r.status} ${r.body}`);
      p.token = (JSON.parse(r.body) as { accessToken: string }).accessToken;
    }
  };
  await Promise.all(Array.from({ length: 4 }, loop));
}

async function main(): Promise<number> {
  Logger.overrideLogger(quietLogger);
  const tStart = performance.now();
  const runId = randomBytes(3).toString('hex');
  const prefix = `sbw-${runId}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'sanshen-bench-workflow-'));
  const keys = benchKeys();
  const problems: string[] = [];
  const notes: string[] = [];

  await recreateDatabase(MYSQL_URL);
  const ds = await openDatabase(MYSQL_URL);
  const statusConn = await createConnection(MYSQL_URL);
  const status: Queryable = {
    query: async (sql, params) => (await statusConn.query(sql, params))[0],
  };
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  let gateway: Gateway | null = null;
  let http: HttpClient | null = null;
  try {
    await redis.connect();
    const info = await serverInfo(ds);
    const redisServer = await redisVersion(redis);
    redis.disconnect();

    // ------------------------------------------------------------ seed
    step('seeding');
    const tSeed = performance.now();
    const org = await createOrg(ds);
    const search = await searchTables(ds);
    notes.push(search.note);
    const tables = [...SEED_TABLES, ...search.tables];
    let n = 0;
    const pools = new Map<Level, PostSpec[]>();
    const raws = new Map<Level, PostSpec[]>();
    for (const level of LEVELS) {
      const from = LEVEL_MOVE[level].from;
      pools.set(
        level,
        Array.from({ length: POSTS_PER_LEVEL }, () => buildPost(org, n++, from, 1500, DAY)),
      );
      raws.set(
        level,
        Array.from({ length: RAW_POSTS }, () => buildPost(org, n++, from, 1500, DAY)),
      );
    }
    const decisionPosts = [...pools.values(), ...raws.values()].flat();
    const background = Math.max(0, READ_POSTS - decisionPosts.length);
    const sample = [
      ...BACKGROUND_STATES.map(([s], i) => buildPost(org, 1_000_000 + i, s, 300, DAY)),
      ...LEVELS.map((l) => pools.get(l)![0]),
      ...decisionPosts.filter((p) => p.content.title.includes(MARKER)).slice(0, 2),
    ];
    const wrong = selfCheck(sample);
    if (wrong.length) throw new Error(`seeded rows differ from the app's: ${wrong.join('; ')}`);
    await seedPosts(ds, tables, decisionPosts);
    for (let i = 0; i < background; i += 10_000) {
      const specs: PostSpec[] = [];
      for (let k = i; k < Math.min(background, i + 10_000); k++) {
        const m = n++;
        specs.push(buildPost(org, m, backgroundState(m), 300, ((m * 7919) % 730) * DAY + 3600_000));
      }
      await seedPosts(ds, tables, specs);
    }
    const seedTotal = round((performance.now() - tSeed) / 1000, 1);
    const [{ c: postCount }] = (await ds.query('SELECT COUNT(*) AS c FROM posts')) as {
      c: number | string;
    }[];
    const seedTables = Object.fromEntries([...seedSeconds].map(([t, sec]) => [t, round(sec, 1)]));
    step(`seeded ${postCount} posts in ${seedTotal} s: ${JSON.stringify(seedTables)}`);

    // ------------------------------------------------------------ gateway
    const tBoot = performance.now();
    gateway = await Gateway.start(
      gatewayEnv({
        databaseUrl: MYSQL_URL,
        dataDir,
        keys,
        extra: {
          REDIS_URL,
          QUEUE_PREFIX: prefix,
          PUBLISH_WORKERS_IN_API: 'false',
          ACCESS_TOKEN_TTL_SECONDS: '3600',
        },
      }),
      { preload: [SQL_PROBE] },
    );
    const bootSeconds = round((performance.now() - tBoot) / 1000, 1);
    http = new HttpClient(gateway.baseUrl, Math.max(...CONCURRENCY, READ_CONCURRENCY) + 4);
    await login(http, org.people);
    const meter: Meter = { status, overhead: await calibrate(status), gateway };
    if ((await gateway.sqlCount()) === null) notes.push('the gateway SQL probe did not answer');
    console.log(
      `workflow bench: ${info.version} (innodb_flush_log_at_trx_commit=${info.innodbFlushLogAtTrxCommit}), ` +
        `Redis ${redisServer}, ${cpus().length} CPUs, load ${loadavg()
          .map((l) => l.toFixed(2))
          .join(
            ' ',
          )}; ${postCount} posts seeded in ${seedTotal} s; gateway up in ${bootSeconds} s; ` +
        `${DURATION_MS / 1000} s per phase after ${WARMUP_MS / 1000} s warm-up, concurrency ${CONCURRENCY.join('/')}`,
    );

    const gw = gateway;
    const alive = () => {
      if (!gw.child.alive) throw new Error(`the gateway exited:\n${gw.child.tail.join('\n')}`);
    };

    // ------------------------------------------------------------ decisions
    const phases: PhaseFigures[] = [];
    for (const level of LEVELS) {
      const cursor = { i: 0 };
      const raw = raws.get(level)!;
      const state = rawState(raw);
      for (const c of CONCURRENCY) {
        step(`${level} raw x${c}`);
        phases.push(await rawDecisions(org, level, raw, state, c, meter));
        step(`${level} gateway x${c}`);
        const g = await gatewayDecisions(http, org, level, pools.get(level)!, cursor, c, meter);
        phases.push(g);
        alive();
        if (g.exhausted)
          notes.push(`${level} x${c}: ran out of prepared posts (BENCH_POSTS_PER_LEVEL)`);
        if (level === 'level3') {
          // What a worker would have done: the next phase's relay passes see only its own rows.
          await ds.query(
            `UPDATE publications SET status = 'published', attempts = 1, nextAttemptAt = NULL,
               publishedAt = NOW(3) WHERE status = 'queued' AND nextAttemptAt < ?`,
            [new Date(Date.now() + 3600_000)],
          );
        }
      }
    }
    for (const p of phases) {
      const bad = Object.entries(p.errors);
      if (bad.length)
        problems.push(
          `${p.kind} ${p.level} x${p.concurrency}: ${bad.map(([k, v]) => `${k} x${v}`).join(', ')}`,
        );
    }

    // ------------------------------------------------------------ reads
    const [{ c: readCount }] = (await ds.query('SELECT COUNT(*) AS c FROM posts')) as {
      c: number | string;
    }[];
    const byState = Object.fromEntries(
      (
        (await ds.query('SELECT state, COUNT(*) AS n FROM posts GROUP BY state')) as {
          state: string;
          n: number | string;
        }[]
      ).map((r) => [r.state, Number(r.n)]),
    );
    const prop = org.propaganda[0];
    const deptReviewer = org.depts[0].reviewers[0];
    const reads: ReadFigures[] = [];
    for (const [name, path, who] of [
      ['list', '/api/v1/posts', prop],
      ['list by state', '/api/v1/posts?state=pending_final_review', prop],
      ['search q', `/api/v1/posts?q=${encodeURIComponent(QUERY)}`, prop],
      ['inbox (dept)', '/api/v1/review/inbox', deptReviewer],
      ['inbox (propaganda)', '/api/v1/review/inbox', prop],
    ] as const) {
      step(`read ${name}`);
      const r = await readPhase(http, meter, name, path, who);
      reads.push(r);
      alive();
      const bad = Object.entries(r.errors);
      if (bad.length)
        problems.push(`read ${name}: ${bad.map(([k, v]) => `${k} x${v}`).join(', ')}`);
    }

    // Its start-up banner is not an issue; warnings, errors and stray stderr are.
    const gatewayIssues = Object.fromEntries(
      [...gateway.child.issues].filter(([k]) => !k.startsWith('stdout ')),
    );
    await gateway.stop();
    gateway = null;

    step('verifying the audit chain');
    const verify = await new AuditService(ds).verify();
    if (!verify.ok) problems.push(`audit chain broken at ${verify.brokenAt}: ${verify.reason}`);

    // ------------------------------------------------------------ report
    const ratio = (level: Level, c: number): number | null => {
      const g = phases.find(
        (p) => p.kind === 'gateway' && p.level === level && p.concurrency === c,
      );
      const r = phases.find((p) => p.kind === 'raw' && p.level === level && p.concurrency === c);
      return g && r && r.perSecond > 0 ? round(g.perSecond / r.perSecond, 3) : null;
    };
    const pad = (v: unknown, w: number) => String(v ?? '-').padStart(w);
    console.log('');
    console.log(
      `${'decisions'.padEnd(16)}${pad('conc', 5)}${pad('ops', 7)}${pad('sec', 7)}${pad('ops/s', 8)}` +
        `${pad('p50ms', 8)}${pad('p99ms', 8)}${pad('gwCPUms', 8)}${pad('sql/op', 7)}${pad('gwSql', 6)}` +
        `${pad('dbCPUms', 8)}${pad('other', 6)}  errors`,
    );
    for (const p of phases) {
      const errs = Object.entries(p.errors)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      console.log(
        `${`${p.kind} ${p.level}`.padEnd(16)}${pad(p.concurrency, 5)}${pad(p.ops, 7)}` +
          `${pad(p.seconds.toFixed(2), 7)}${pad(p.perSecond.toFixed(1), 8)}${pad(p.p50ms.toFixed(1), 8)}` +
          `${pad(p.p99ms.toFixed(1), 8)}${pad(p.gatewayCpuMsPerOp, 8)}${pad(p.sqlPerOp, 7)}` +
          `${pad(p.clientSqlPerOp, 6)}${pad(p.mysqldCpuMsPerOp, 8)}${pad(p.otherCores, 6)}  ${errs || '-'}` +
          `${p.exhausted ? ' (pool exhausted)' : ''}`,
      );
    }
    console.log('');
    for (const level of LEVELS) {
      console.log(
        `gateway/raw ${level.padEnd(7)} ${CONCURRENCY.map((c) => `x${c}: ${ratio(level, c)?.toFixed(3) ?? '-'}`).join('  ')}`,
      );
    }
    console.log('');
    console.log(
      `${'reads'.padEnd(20)}${pad('total', 7)}${pad('reqs', 7)}${pad('req/s', 8)}${pad('p50ms', 8)}` +
        `${pad('p99ms', 8)}${pad('gwCPUms', 8)}${pad('sql/r', 7)}${pad('gwSql', 6)}${pad('other', 6)}  errors`,
    );
    for (const r of reads) {
      const errs = Object.entries(r.errors)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      console.log(
        `${r.name.padEnd(20)}${pad(r.total, 7)}${pad(r.requests, 7)}${pad(r.perSecond.toFixed(1), 8)}` +
          `${pad(r.p50ms.toFixed(1), 8)}${pad(r.p99ms.toFixed(1), 8)}${pad(r.gatewayCpuMsPerRequest, 8)}` +
          `${pad(r.sqlPerRequest, 7)}${pad(r.gatewaySqlPerRequest, 6)}${pad(r.otherCores, 6)}  ${errs || '-'}`,
      );
    }
    console.log('');
    console.log(
      'gwCPUms: gateway CPU ms per op; sql/op: server Questions per op (all clients, net of the ' +
        "bench's reads); gwSql: statements the gateway (raw: the loop) sent per op; dbCPUms: MariaDB CPU " +
        'ms per op; other: busy cores of other processes on the machine meanwhile.',
    );
    console.log(
      `posts at the reads: ${readCount} ${JSON.stringify(byState)}; status-read overhead ${meter.overhead} statement(s)`,
    );
    for (const note of notes) console.log(`note: ${note}`);
    for (const [k, v] of Object.entries(gatewayIssues).slice(0, 8))
      console.log(`gateway log x${v}: ${k}`);
    console.log(
      verify.ok
        ? `audit verify: ok, ${verify.checked} events`
        : `audit verify: FAILED at ${verify.brokenAt}: ${verify.reason}`,
    );
    for (const p of problems) console.log(`PROBLEM: ${p}`);
    const exitCode = problems.length ? 1 : 0;
    const totalSeconds = round((performance.now() - tStart) / 1000, 1);
    console.log(`total ${totalSeconds} s; exit ${exitCode}`);

    console.log(
      JSON.stringify({
        bench: 'workflow',
        database: info.version,
        innodbFlushLogAtTrxCommit: info.innodbFlushLogAtTrxCommit,
        redis: redisServer,
        cpus: cpus().length,
        loadavg: loadavg().map((l) => round(l, 2)),
        durationS: DURATION_MS / 1000,
        warmupS: WARMUP_MS / 1000,
        concurrency: CONCURRENCY,
        seed: {
          posts: Number(postCount),
          seconds: seedTotal,
          tables: seedTables,
          searchTables: search.tables.length > 0,
        },
        gatewayBootSeconds: bootSeconds,
        decisions: phases,
        ratios: Object.fromEntries(
          LEVELS.map((l) => [
            l,
            Object.fromEntries(CONCURRENCY.map((c) => [String(c), ratio(l, c)])),
          ]),
        ),
        reads: { posts: Number(readCount), byState, query: QUERY, results: reads },
        auditVerify: { ok: verify.ok, checked: verify.checked },
        gatewayIssues,
        notes,
        problems,
        totalSeconds,
        ok: exitCode === 0,
      }),
    );
    return exitCode;
  } finally {
    http?.close();
    if (gateway) await gateway.stop();
    await obliterateQueues(REDIS_URL, [prefix]);
    redis.disconnect();
    await statusConn.end();
    await ds.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(2);
  },
);
