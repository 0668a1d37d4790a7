/**
 * Publishing throughput benchmark on MySQL/MariaDB + Redis (not a test).
 *
 *   npm run bench:publish
 *
 * Measures, in one run on a freshly recreated database:
 *  - deliveries/s of the gateway's own worker processes (`node dist/src/worker.js`, each
 *    running the relay and the BullMQ processor) to a local webhook receiver (a plain
 *    node:http server in this process answering 200), with 1 and with 2 worker processes:
 *    BENCH_PUBLICATIONS publications of approved posts are inserted in one transaction in
 *    `queued` status with nextAttemptAt = now, and the clock runs from that commit until
 *    none is due any more (all `published`); fresh rows and a fresh queue prefix per phase;
 *  - the ceiling: bare BullMQ workers in child processes (same process count and concurrency)
 *    doing the same signed POSTs through `deliverWebhook` (same payload, `signWebhook`), fed
 *    by a bare producer, no database: deliveries/s;
 *  - gateway/bare ratios, and `AuditService.verify()` of the chain at the end (must be ok).
 * Each phase first runs BENCH_WARMUP unmeasured deliveries on the same processes.
 *
 * Checks (exit 1 if any fails): every publication published (unless the phase only timed out
 * while still progressing: a note); each received exactly once, with one webhook-id, equal to
 * its delivery id; the content hash in each payload is the approved one; a sample of
 * signatures verifies (with `signWebhook` and with the independent `standardwebhooks`); one
 * publication.sending audit event per attempt, one publication.sent and one post.published per
 * publication; the audit chain verifies.
 *
 * Diagnostics per phase: relay pick-up latency; BullMQ jobs added, duplicate adds (a job id
 * already in the queue) and completions by outcome, from the queue's event stream; MariaDB
 * statements, commits, row-lock waits and deadlocks per delivery; which locks transactions
 * wait on (information_schema sampled every 250 ms); Redis commands per delivery; CPU seconds
 * of the workers, MariaDB, Redis and this process (from /proc); what the workers logged at
 * warn or above (transaction conflict retries among them).
 *
 * Environment:
 *   BENCH_MYSQL_URL        database to DROP and recreate (default
 *                          mysql://root@127.0.0.1:3306/sanshen_bench_publish); its name must
 *                          contain "bench" unless BENCH_ALLOW_DROP=1
 *   BENCH_REDIS_URL        Redis for BullMQ (default redis://127.0.0.1:6379); queue keys use a
 *                          per-run prefix and are removed at the end
 *   BENCH_PUBLICATIONS     publications (= deliveries) per phase (default 1000)
 *   BENCH_WORKERS          comma list of worker-process counts (default "1,2")
 *   BENCH_CONCURRENCY      PUBLISH_CONCURRENCY of each worker process (default 16)
 *   BENCH_POLL_MS          PUBLISH_POLL_MS of the workers (default 50)
 *   BENCH_BODY_BYTES       UTF-8 size of each article body (default 3000)
 *   BENCH_WARMUP           unmeasured deliveries before each phase (default 100; 0: none)
 *   BENCH_PHASE_TIMEOUT_MS end a phase after this long, measuring what got done (default 100000)
 *   BENCH_STALL_MS         a phase with no progress for this long is stuck (default 15000)
 *   BENCH_SAMPLE_EVERY     verify the signature of every n-th delivery (default 10)
 *
 * Prints a table, then the figures as one JSON line (the last line of stdout).
 */
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger, LoggerService } from '@nestjs/common';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { DataSource } from 'typeorm';
import { OutboundFetcher, parseAllowHosts } from 'src/common/outbound-fetch';
import { AuditService } from 'src/modules/audit/audit.service';
import type { Channel } from 'src/modules/channels/channel.entity';
import { CredentialsCipher } from 'src/modules/channels/credentials-cipher';
import { contentHash } from 'src/modules/posts/content-hash';
import { POST_COLUMNS, REVISION_COLUMNS } from 'src/modules/posts/post-columns';
import type { PublishContent } from 'src/modules/publishing/adapters/channel-adapter';
import { deliverWebhook, signWebhook } from 'src/modules/publishing/adapters/webhook.adapter';
import { ATTEMPT_JOB, PUBLICATIONS_QUEUE } from 'src/modules/publishing/executor';
import { deliveryId } from 'src/modules/publishing/publisher.service';
import { benchKeys } from './support/gateway';
import {
  Counters,
  diffCounters,
  globalStatus,
  insertRows,
  openDatabase,
  recreateDatabase,
} from './support/mysql';
import {
  Child,
  childEnv,
  cpuSnapshot,
  LOOP_PROBE,
  loopFigures,
  otherCpu,
  ROOT,
} from './support/process';
import { obliterateQueues, redisCommands, redisOptions, redisVersion } from './support/redis';
import { round, sleep } from './support/stats';

// ---------------------------------------------------------------- configuration

const env = process.env;
const intEnv = (name: string, dflt: number, min = 1): number => {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}`);
  return n;
};

const MYSQL_URL = env.BENCH_MYSQL_URL || 'mysql://root@127.0.0.1:3306/sanshen_bench_publish';
const REDIS_URL = env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';
const N = intEnv('BENCH_PUBLICATIONS', 1000);
const WORKERS = (env.BENCH_WORKERS || '1,2').split(',').map((s) => {
  const n = Number(s.trim());
  if (!Number.isInteger(n) || n < 1) throw new Error('BENCH_WORKERS: comma list of integers >= 1');
  return n;
});
const CONCURRENCY = intEnv('BENCH_CONCURRENCY', 16);
const POLL_MS = intEnv('BENCH_POLL_MS', 50, 20);
const BODY_BYTES = intEnv('BENCH_BODY_BYTES', 3000);
const PHASE_TIMEOUT_MS = intEnv('BENCH_PHASE_TIMEOUT_MS', 100_000);
const STALL_MS = intEnv('BENCH_STALL_MS', 15_000);
const WARMUP = intEnv('BENCH_WARMUP', 100, 0);
const SAMPLE_EVERY = intEnv('BENCH_SAMPLE_EVERY', 10);
/** What the gateway's relay gives each job (PUBLISH_MAX_ATTEMPTS default + 1). */
const JOB_ATTEMPTS = 9;
/** PUBLISH_TIMEOUT_MS default: the bare worker aborts a POST after as long as the gateway does. */
const DELIVERY_TIMEOUT_MS = 15_000;
const BARE_ROLE = 'bare-worker';

// ---------------------------------------------------------------- deterministic content

const PARAGRAPHS = [
  '为深入贯彻落实立德树人根本任务，进一步推进校园文化建设，学校于本周在图书馆报告厅举行主题教育活动。',
  '活动邀请了多位校内外专家围绕人工智能与高等教育的融合发展作专题报告，吸引了近千名师生参加。',
  '与会专家指出，新媒体平台已经成为高校思想政治教育的重要阵地，必须坚持正确导向，严把内容审核关。',
  '计算机学院、学生工作处等单位负责人分别介绍了本单位在课程建设、实践育人和网络安全方面的经验做法。',
  '现场同学纷纷表示，将以更加饱满的热情投入学习和科研工作，在新时代新征程上展现青年学子的责任担当。',
  'The event closed with a panel on open science and responsible publishing in the digital age.',
];

/** Sanitised-looking HTML of about BODY_BYTES UTF-8 bytes, different for every n. */
function articleBody(n: number): string {
  let html = `<p><strong>第${n}期</strong> 校园新闻：本期编号 ${n}。</p>`;
  for (let k = 0; Buffer.byteLength(html) < BODY_BYTES; k++) {
    html += `<p>${PARAGRAPHS[(n + k) % PARAGRAPHS.length]}</p>`;
  }
  return html;
}

interface Article {
  title: string;
  summary: string;
  body: string;
  coverImageUrl: string;
}

function article(n: number): Article {
  return {
    title: `校园新闻第${n}期：主题教育活动在图书馆报告厅举行`,
    summary: `第${n}期：学校举行主题教育活动，专家围绕人工智能与高等教育融合发展作专题报告。`,
    body: articleBody(n),
    coverImageUrl: `https://news.example.edu.cn/images/${n}.jpg`,
  };
}

function hashOf(a: Article, channelId: string): string {
  return contentHash({ ...a, channelIds: [channelId], publishAt: null });
}

// ---------------------------------------------------------------- the bare worker (child process)

interface BareJob {
  publicationId: string;
  postId: string;
  revisionId: string;
  contentHash: string;
  n: number;
}

/**
 * `BENCH_PUBLISH_ROLE=bare-worker`: a BullMQ worker with no database and no Nest that
 * does what the gateway's adapter does per job: build the payload, sign it, POST it.
 */
async function bareWorker(): Promise<void> {
  const url = env.BARE_URL!;
  const secret = env.BARE_SECRET!;
  // The same guard as the gateway's workers, so the comparison stays fair; the receiver is local.
  const outbound = new OutboundFetcher({
    allowHosts: parseAllowHosts(new URL(url).host),
    timeoutMs: DELIVERY_TIMEOUT_MS,
  });
  const channel = {
    id: env.BARE_CHANNEL_ID!,
    name: env.BARE_CHANNEL_NAME!,
    platform: 'webhook',
    config: { url },
  } as unknown as Channel;
  const worker = new Worker<BareJob, string>(
    PUBLICATIONS_QUEUE,
    async (job) => {
      const d = job.data;
      const a = article(d.n);
      const content: PublishContent = {
        postId: d.postId,
        publicationId: d.publicationId,
        revisionId: d.revisionId,
        revisionNumber: 1,
        contentHash: d.contentHash,
        title: a.title,
        summary: a.summary,
        body: a.body,
        coverImageUrl: a.coverImageUrl,
        channel: { id: channel.id, name: channel.name },
      };
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), DELIVERY_TIMEOUT_MS);
      try {
        const result = await deliverWebhook(
          outbound,
          url,
          secret,
          content,
          {
            channel,
            credentials: { secret },
            deliveryId: deliveryId(d.publicationId, 'publish'),
            attempt: job.attemptsMade + 1,
            state: null,
            signal: controller.signal,
          },
          'publish',
        );
        return result.kind;
      } finally {
        clearTimeout(timer);
      }
    },
    {
      connection: redisOptions(env.BARE_REDIS_URL!),
      prefix: env.BARE_PREFIX!,
      concurrency: Number(env.BARE_CONCURRENCY),
    },
  );
  worker.on('error', (e) => process.stderr.write(`bare worker error: ${e.message}\n`));
  worker.on('failed', (_job, e) => process.stderr.write(`bare job failed: ${e.message}\n`));
  await worker.waitUntilReady();
  process.on('SIGTERM', () => {
    void worker.close().finally(() => process.exit(0));
  });
  process.stdout.write(`bare worker ready ${process.pid}\n`);
}

// ---------------------------------------------------------------- the webhook receiver

interface Sample {
  headers: IncomingHttpHeaders;
  body: string;
}

interface PhaseDeliveries {
  requests: number;
  bytes: number;
  firstAt: number | null;
  lastAt: number | null;
  /** publicationId -> webhook-ids received (one entry per request). */
  byPublication: Map<string, string[]>;
  /** Publication ids whose payload carried another content hash than the approved one. */
  wrongHash: string[];
  unparsable: number;
  samples: Sample[];
}

function freshDeliveries(): PhaseDeliveries {
  return {
    requests: 0,
    bytes: 0,
    firstAt: null,
    lastAt: null,
    byPublication: new Map(),
    wrongHash: [],
    unparsable: 0,
    samples: [],
  };
}

class Receiver {
  current = freshDeliveries();
  /** publicationId -> the approved content hash, for the current phase. */
  expected = new Map<string, string>();
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const d = this.current;
        const body = Buffer.concat(chunks).toString('utf8');
        const now = performance.now();
        d.requests++;
        d.bytes += Buffer.byteLength(body);
        d.firstAt ??= now;
        d.lastAt = now;
        try {
          const json = JSON.parse(body) as {
            data: { publicationId: string; contentHash: string };
          };
          const id = json.data.publicationId;
          const list = d.byPublication.get(id);
          const whId = String(req.headers['webhook-id']);
          if (list) list.push(whId);
          else d.byPublication.set(id, [whId]);
          const want = this.expected.get(id);
          if (want !== undefined && want !== json.data.contentHash) d.wrongHash.push(id);
        } catch {
          d.unparsable++;
        }
        if (d.requests % SAMPLE_EVERY === 1 || SAMPLE_EVERY === 1) {
          d.samples.push({ headers: req.headers, body });
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`{"externalId":"ext-${d.requests}"}`);
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  reset(expected: Map<string, string>): PhaseDeliveries {
    this.current = freshDeliveries();
    this.expected = expected;
    return this.current;
  }

  close(): Promise<void> {
    return new Promise<void>((r) => {
      this.server.closeAllConnections();
      this.server.close(() => r());
    });
  }
}

interface DeliveryCheck {
  requests: number;
  distinctPublications: number;
  /** Finished (published in the table, or — bare — all expected) but never received. */
  finishedNotReceived: number;
  /** Received, but the row is not finished (its outcome was never recorded). */
  receivedNotFinished: number;
  duplicated: number;
  multipleWebhookIds: number;
  wrongWebhookId: number;
  foreign: number;
  wrongContentHash: number;
  unparsable: number;
  avgPayloadBytes: number;
  signaturesChecked: number;
  signaturesBad: number;
  examples: string[];
}

/**
 * Exactly once per delivery id: every publication received once, with one webhook-id,
 * which is its delivery id; payload hash as approved; sampled signatures valid.
 */
function checkDeliveries(
  d: PhaseDeliveries,
  expected: Map<string, string>,
  finished: Set<string>,
  secret: string,
): DeliveryCheck {
  let duplicated = 0;
  let multipleWebhookIds = 0;
  let wrongWebhookId = 0;
  let foreign = 0;
  let receivedNotFinished = 0;
  const examples: string[] = [];
  for (const [pubId, ids] of d.byPublication) {
    if (!expected.has(pubId)) foreign++;
    if (!finished.has(pubId)) receivedNotFinished++;
    const distinct = new Set(ids);
    if (ids.length > 1) {
      duplicated++;
      if (examples.length < 5) examples.push(`${pubId} received ${ids.length}x`);
    }
    if (distinct.size > 1) multipleWebhookIds++;
    if ([...distinct].some((w) => w !== deliveryId(pubId, 'publish'))) wrongWebhookId++;
  }
  let finishedNotReceived = 0;
  for (const id of finished) if (!d.byPublication.has(id)) finishedNotReceived++;
  const wh = new Webhook(secret);
  let bad = 0;
  for (const s of d.samples) {
    const id = String(s.headers['webhook-id']);
    const ts = String(s.headers['webhook-timestamp']);
    const sig = String(s.headers['webhook-signature']);
    let ok = signWebhook(secret, id, Number(ts), s.body) === sig;
    try {
      wh.verify(s.body, { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sig });
    } catch {
      ok = false;
    }
    if (!ok) bad++;
  }
  return {
    requests: d.requests,
    distinctPublications: d.byPublication.size,
    finishedNotReceived,
    receivedNotFinished,
    duplicated,
    multipleWebhookIds,
    wrongWebhookId,
    foreign,
    wrongContentHash: d.wrongHash.length,
    unparsable: d.unparsable,
    avgPayloadBytes: d.requests ? Math.round(d.bytes / d.requests) : 0,
    signaturesChecked: d.samples.length,
    signaturesBad: bad,
    examples,
  };
}

function deliveryProblems(c: DeliveryCheck): string[] {
  const p: string[] = [];
  if (c.finishedNotReceived) p.push(`${c.finishedNotReceived} finished but never received`);
  if (c.duplicated) p.push(`${c.duplicated} received more than once`);
  if (c.multipleWebhookIds) p.push(`${c.multipleWebhookIds} with more than one webhook-id`);
  if (c.wrongWebhookId) p.push(`${c.wrongWebhookId} with a webhook-id other than the delivery id`);
  if (c.foreign) p.push(`${c.foreign} deliveries of publications outside the phase`);
  if (c.wrongContentHash) p.push(`${c.wrongContentHash} payloads with the wrong content hash`);
  if (c.unparsable) p.push(`${c.unparsable} unparsable payloads`);
  if (c.signaturesBad) p.push(`${c.signaturesBad}/${c.signaturesChecked} bad signatures`);
  return p;
}

// ---------------------------------------------------------------- server-side counters

const DB_COUNTERS = [
  'Questions',
  'Com_commit',
  'Com_rollback',
  'Innodb_row_lock_waits',
  'Innodb_row_lock_time',
  'Innodb_deadlocks',
] as const;

const dbCounters = (ds: DataSource): Promise<Counters> => globalStatus(ds, DB_COUNTERS);

// ---------------------------------------------------------------- the organisation

interface Org {
  departmentId: string;
  userId: string;
  channelId: string;
  channelName: string;
  secret: string;
}

async function createOrg(ds: DataSource, cipher: CredentialsCipher, url: string): Promise<Org> {
  const now = new Date();
  const org: Org = {
    departmentId: randomUUID(),
    userId: randomUUID(),
    channelId: randomUUID(),
    channelName: '学校新闻网 webhook',
    secret: `whsec_${randomBytes(24).toString('base64')}`,
  };
  await ds.transaction(async (m) => {
    await insertRows(
      m,
      'departments',
      ['id', 'name', 'code', 'isPropaganda', 'active', 'createdAt', 'updatedAt'],
      [[org.departmentId, '宣传部', 'PROP', 1, 1, now, now]],
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
      [[org.userId, 'editor', '学生编辑', 'x', 'editor', org.departmentId, 1, now, now]],
    );
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
        [
          org.channelId,
          org.channelName,
          'webhook',
          org.departmentId,
          1,
          1,
          JSON.stringify({ url }),
          cipher.encrypt(org.channelId, { secret: org.secret }),
          now,
          now,
        ],
      ],
    );
  });
  return org;
}

interface Batch {
  createdAt: Date;
  /** publicationId -> content hash */
  expected: Map<string, string>;
  jobs: BareJob[];
}

function makeBatch(org: Org, base: number, count = N): Batch {
  const expected = new Map<string, string>();
  const jobs: BareJob[] = [];
  for (let i = 0; i < count; i++) {
    const n = base + i;
    const job: BareJob = {
      publicationId: randomUUID(),
      postId: randomUUID(),
      revisionId: randomUUID(),
      contentHash: hashOf(article(n), org.channelId),
      n,
    };
    expected.set(job.publicationId, job.contentHash);
    jobs.push(job);
  }
  return { createdAt: new Date(), expected, jobs };
}

/** Approved posts, one revision each, and their `queued` publications, due now: one transaction. */
async function insertPublications(ds: DataSource, org: Org, batch: Batch): Promise<void> {
  const now = new Date();
  batch.createdAt = now;
  await ds.transaction(async (m) => {
    await insertRows(
      m,
      'posts',
      [...POST_COLUMNS],
      batch.jobs.map((j) => [
        j.postId,
        org.userId,
        org.departmentId,
        'approved',
        4,
        1,
        j.revisionId,
        1,
        article(j.n).title,
        null,
        org.userId,
        now,
        now,
        now,
      ]),
    );
    await insertRows(
      m,
      'post_revisions',
      [...REVISION_COLUMNS],
      batch.jobs.map((j) => {
        const a = article(j.n);
        return [
          j.revisionId,
          j.postId,
          1,
          a.title,
          a.summary,
          a.body,
          a.coverImageUrl,
          JSON.stringify([org.channelId]),
          null,
          j.contentHash,
          org.userId,
          now,
        ];
      }),
      200,
    );
    await insertRows(
      m,
      'post_channels',
      ['postId', 'channelId'],
      batch.jobs.map((j) => [j.postId, org.channelId]),
    );
    await insertRows(
      m,
      'publications',
      [
        'id',
        'postId',
        'channelId',
        'revisionId',
        'contentHash',
        'status',
        'attempts',
        'nextAttemptAt',
        'operation',
        'createdAt',
        'updatedAt',
      ],
      batch.jobs.map((j) => [
        j.publicationId,
        j.postId,
        org.channelId,
        j.revisionId,
        j.contentHash,
        'queued',
        0,
        now,
        'publish',
        now,
        now,
      ]),
    );
  });
}

// ---------------------------------------------------------------- phases

interface PhaseResult {
  name: string;
  kind: 'gateway' | 'bare';
  workers: number;
  concurrency: number;
  /** Published in the table (gateway) or received (bare). */
  deliveries: number;
  completed: boolean;
  /** Why the phase ended early, if it did. */
  ended: 'done' | 'timeout' | 'stalled' | 'workers died';
  seconds: number;
  perSecond: number;
  firstDeliveryMs: number | null;
  lastDeliveryMs: number | null;
  startupSeconds: number;
  check: DeliveryCheck;
  /** Correctness failures: exit 1. */
  problems: string[];
  /** Slowness and leftovers worth knowing (a timeout while still progressing, rows in flight at stop). */
  notes: string[];
  queue: Record<string, number>;
  db: Counters | null;
  dbPerDelivery: Record<string, number> | null;
  /** Blocked lock requests seen by sampling information_schema, by table and index. */
  lockWaits: Record<string, number> | null;
  lockSamples: number;
  /** What the lock holder was doing, per sample. */
  lockHolders: Record<string, number> | null;
  /** Statements of other databases running on the shared server, per sample. */
  otherDbActive: number | null;
  redisCommands: number;
  redisCommandsPerDelivery: number;
  cpu: {
    workers: number | null;
    mysqld: number | null;
    redis: number | null;
    bench: number;
    /** Everything else on the machine meanwhile: MariaDB and Redis are shared. */
    otherSeconds: number | null;
    otherCores: number | null;
    workerMsPerDelivery: number | null;
  };
  table?: {
    statuses: Record<string, number>;
    attempts: Record<string, number>;
    audit: Record<string, number>;
    postsPublished: number;
    unfinished: Record<string, unknown>[];
    errors: Record<string, number>;
  };
  /** The workers' event loops during the measured window (averages of 1-s intervals). */
  workerLoop: ReturnType<typeof loopFigures>;
  workerIssues: Record<string, number>;
}

function sumCpu(children: Child[]): number | null {
  let total = 0;
  for (const c of children) {
    const s = c.cpuSeconds();
    if (s === null) return null;
    total += s;
  }
  return total;
}

const cpuDelta = (a: number | null, b: number | null) =>
  a === null || b === null ? null : round(b - a, 2);

function mergeIssues(children: Child[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of children) for (const [k, v] of c.issues) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Counts of the queue's events while a phase runs (the relay's adds, outcomes). */
async function watchQueue(prefix: string): Promise<{
  counts: Record<string, number>;
  close: () => Promise<void>;
}> {
  const counts: Record<string, number> = {};
  const bump = (k: string) => (counts[k] = (counts[k] ?? 0) + 1);
  const events = new QueueEvents(PUBLICATIONS_QUEUE, {
    connection: redisOptions(REDIS_URL),
    prefix,
  });
  events.on('added', () => bump('added'));
  events.on('duplicated', () => bump('duplicateAdds'));
  events.on('completed', ({ returnvalue }) => {
    let v: unknown = returnvalue;
    try {
      v = typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue;
    } catch {
      // keep the raw value
    }
    bump(`completed:${String(v)}`);
  });
  events.on('failed', () => bump('failedAttempts'));
  events.on('stalled', () => bump('stalled'));
  await events.waitUntilReady();
  return { counts, close: () => events.close() };
}

interface Shared {
  ds: DataSource;
  redis: Redis;
  receiver: Receiver;
  org: Org;
  dataDir: string;
  probe: string;
  keys: { jwt: string; credentials: string; audit: string };
  runId: string;
}

/**
 * Samples who waits on which lock (information_schema.INNODB_LOCK_WAITS) every 250 ms
 * until stopped, and what the transaction holding that lock is doing at that moment
 * (running a statement, or idle: waiting for its client to send the next one).
 */
function sampleLockWaits(ds: DataSource): () => Promise<{
  waits: Record<string, number> | null;
  holders: Record<string, number>;
  samples: number;
  otherActive: number;
}> {
  const waits: Record<string, number> = {};
  const holders: Record<string, number> = {};
  let otherActive = 0;
  let samples = 0;
  let broken = false;
  let stop = false;
  const loop = (async () => {
    while (!stop && !broken) {
      try {
        const rows = (await ds.query(
          `SELECT l.lock_table AS t, l.lock_index AS i, COUNT(DISTINCT w.requesting_trx_id) AS n
           FROM information_schema.INNODB_LOCK_WAITS w
           JOIN information_schema.INNODB_LOCKS l ON l.lock_id = w.requested_lock_id
           GROUP BY l.lock_table, l.lock_index`,
        )) as { t: string; i: string | null; n: number | string }[];
        samples++;
        for (const r of rows) {
          const k = `${r.t.replace(/`/g, '')}${r.i ? `.${r.i}` : ''}`;
          waits[k] = (waits[k] ?? 0) + Number(r.n);
        }
        const held = (await ds.query(
          `SELECT p.COMMAND AS c, p.STATE AS st, LEFT(p.INFO, 60) AS q
           FROM information_schema.INNODB_TRX t
           JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
           WHERE t.trx_state = 'RUNNING'
             AND t.trx_id IN (SELECT blocking_trx_id FROM information_schema.INNODB_LOCK_WAITS)`,
        )) as { c: string; st: string | null; q: string | null }[];
        for (const h of held) {
          const k =
            h.c === 'Sleep'
              ? 'idle in transaction (waiting for its client)'
              : `${h.c}${h.st ? ` [${h.st}]` : ''}: ${(h.q ?? '').replace(/\s+/g, ' ')}`;
          holders[k] = (holders[k] ?? 0) + 1;
        }
        const [other] = (await ds.query(
          `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST
           WHERE COMMAND <> 'Sleep' AND ID <> CONNECTION_ID() AND (DB IS NULL OR DB <> DATABASE())`,
        )) as { n: number | string }[];
        otherActive += Number(other.n);
      } catch {
        broken = true;
      }
      await sleep(250);
    }
  })();
  return async () => {
    stop = true;
    await loop;
    return {
      waits: broken && samples === 0 ? null : waits,
      holders,
      samples,
      otherActive: samples ? round(otherActive / samples, 2) : 0,
    };
  };
}

/** Rows still to do, over the (status, nextAttemptAt) index only: cheap enough to poll. */
const REMAINING_SQL =
  "SELECT COUNT(*) AS n FROM publications WHERE status IN ('queued', 'sending', 'retracting')";

async function gatewayPhase(s: Shared, workers: number, base: number): Promise<PhaseResult> {
  const name = `gateway x${workers}`;
  const prefix = `sbp-${s.runId}-g${workers}`;
  const batch = makeBatch(s.org, base);

  const bootStart = performance.now();
  const children = Array.from(
    { length: workers },
    (_, k) =>
      new Child(
        `worker ${k + 1}`,
        ['-r', s.probe, join(ROOT, 'dist/src/worker.js')],
        childEnv({
          NODE_ENV: 'production',
          DATABASE_URL: MYSQL_URL,
          REDIS_URL,
          QUEUE_PREFIX: prefix,
          PUBLISH_CONCURRENCY: String(CONCURRENCY),
          PUBLISH_POLL_MS: String(POLL_MS),
          LOG_LEVEL: 'warn',
          DATA_DIR: s.dataDir,
          JWT_SECRET: s.keys.jwt,
          CREDENTIALS_KEY: s.keys.credentials,
          AUDIT_SIGNING_KEY: s.keys.audit,
          AUDIT_CHECKPOINT_INTERVAL_SECONDS: '0',
        }),
        'Sanshen publishing worker',
      ),
  );
  try {
    await Promise.all(children.map((c) => c.waitReady()));
  } catch (e) {
    await Promise.all(children.map((c) => c.stop()));
    throw e;
  }
  const startupSeconds = (performance.now() - bootStart) / 1000;
  if (WARMUP > 0) {
    // Unmeasured: JIT, pools and connections warm, as in a worker that has been running.
    const warm = makeBatch(s.org, base + 50_000, WARMUP);
    s.receiver.reset(warm.expected);
    await insertPublications(s.ds, s.org, warm);
    const until = performance.now() + 60_000;
    for (;;) {
      const [row] = (await s.ds.query(REMAINING_SQL)) as { n: number | string }[];
      if (Number(row.n) === 0) break;
      if (performance.now() > until) throw new Error(`${name}: the warm-up did not finish`);
      await sleep(100);
    }
  }
  const queue = await watchQueue(prefix);

  const deliveries = s.receiver.reset(batch.expected);
  const [{ lastEventId: auditBefore }] = (await s.ds.query(
    'SELECT lastEventId FROM audit_chain_head WHERE id = 1',
  )) as { lastEventId: number | string }[];
  const db0 = await dbCounters(s.ds);
  const redis0 = await redisCommands(s.redis);
  const cpu0 = cpuSnapshot();
  const workersCpu0 = sumCpu(children);

  await insertPublications(s.ds, s.org, batch);
  const t0 = performance.now();
  const wall0 = Date.now();
  const stopLockSampler = sampleLockWaits(s.ds);
  let remaining = N;
  let progressAt = t0;
  let ended: PhaseResult['ended'] = 'done';
  for (;;) {
    const [row] = (await s.ds.query(REMAINING_SQL)) as { n: number | string }[];
    const r = Number(row.n);
    const now = performance.now();
    if (r < remaining) {
      remaining = r;
      progressAt = now;
    }
    if (r === 0) break;
    if (now - t0 >= PHASE_TIMEOUT_MS) {
      ended = 'timeout';
      break;
    }
    if (now - progressAt >= STALL_MS) {
      ended = 'stalled';
      break;
    }
    if (children.every((c) => !c.alive)) {
      ended = 'workers died';
      break;
    }
    await sleep(100);
  }
  const seconds = (performance.now() - t0) / 1000;
  const wall1 = Date.now();
  const db1 = await dbCounters(s.ds);
  const redis1 = await redisCommands(s.redis);
  const cpu1 = cpuSnapshot();
  const workersCpu1 = sumCpu(children);
  const locks = await stopLockSampler();
  const rateWindow = Math.min(10, seconds);
  const [{ n: recent }] = (await s.ds.query(
    `SELECT COUNT(*) AS n FROM publications
     WHERE channelId = ? AND createdAt >= ? AND status = 'published' AND publishedAt >= ?`,
    [s.org.channelId, batch.createdAt, new Date(Date.now() - rateWindow * 1000)],
  )) as { n: number | string }[];

  // Late duplicates (a job re-added after its row was done) would arrive now.
  await sleep(1000);
  await Promise.all(children.map((c) => c.stop()));
  await sleep(100);
  await queue.close();

  // What the table and the audit chain say about this phase.
  const where = 'channelId = ? AND createdAt >= ?';
  const params = [s.org.channelId, batch.createdAt];
  const publishedIds = new Set(
    (
      (await s.ds.query(
        `SELECT id FROM publications WHERE ${where} AND status = 'published'`,
        params,
      )) as { id: string }[]
    ).map((r) => r.id),
  );
  const published = publishedIds.size;
  const statusRows = (await s.ds.query(
    `SELECT status, COUNT(*) AS n FROM publications WHERE ${where} GROUP BY status`,
    params,
  )) as { status: string; n: number | string }[];
  const attemptRows = (await s.ds.query(
    `SELECT attempts, COUNT(*) AS n FROM publications WHERE ${where} GROUP BY attempts`,
    params,
  )) as { attempts: number; n: number | string }[];
  const errorRows = (await s.ds.query(
    `SELECT LEFT(lastError, 160) AS e, COUNT(*) AS n FROM publications
     WHERE ${where} AND lastError IS NOT NULL GROUP BY LEFT(lastError, 160)`,
    params,
  )) as { e: string; n: number | string }[];
  const unfinished = (await s.ds.query(
    `SELECT id, status, attempts, nextAttemptAt, leaseOwner, leaseUntil, lastAttemptAt,
            LEFT(lastError, 200) AS lastError
     FROM publications WHERE ${where} AND status <> 'published'
     ORDER BY status DESC, lastAttemptAt DESC LIMIT 3`,
    params,
  )) as Record<string, unknown>[];
  const [leased] = (await s.ds.query(
    `SELECT COUNT(*) AS n FROM publications
     WHERE ${where} AND status <> 'published' AND leaseUntil > ?`,
    [...params, new Date()],
  )) as { n: number | string }[];
  const auditRows = (await s.ds.query(
    'SELECT action, COUNT(*) AS n FROM audit_events WHERE id > ? GROUP BY action',
    [auditBefore],
  )) as { action: string; n: number | string }[];
  const [posts] = (await s.ds.query(
    "SELECT COUNT(*) AS n FROM posts WHERE createdAt >= ? AND state = 'published'",
    [batch.createdAt],
  )) as { n: number | string }[];
  // Leftovers must not leak into the next phase.
  await s.ds.query(
    `UPDATE publications SET status = 'cancelled', nextAttemptAt = NULL
     WHERE ${where} AND status <> 'published'`,
    params,
  );

  const statuses = Object.fromEntries(statusRows.map((r) => [r.status, Number(r.n)]));
  const attempts = Object.fromEntries(attemptRows.map((r) => [String(r.attempts), Number(r.n)]));
  const audit = Object.fromEntries(auditRows.map((r) => [r.action, Number(r.n)]));
  const attemptSum = attemptRows.reduce((a, r) => a + Number(r.attempts) * Number(r.n), 0);
  const check = checkDeliveries(deliveries, batch.expected, publishedIds, s.org.secret);
  const problems = deliveryProblems(check);
  const notes: string[] = [];
  const completed = published === N;
  if (ended === 'stalled')
    problems.unshift(`stalled: no progress for ${STALL_MS / 1000} s, ${published}/${N} published`);
  if (ended === 'workers died') problems.unshift('all worker processes exited');
  if (ended === 'done' && !completed) {
    problems.unshift(`${N - published} rows ended unpublished: ${JSON.stringify(statuses)}`);
  }
  if (ended === 'timeout') {
    notes.push(
      `timed out after ${round(seconds, 1)} s with ${published}/${N} published, still ` +
        `publishing ${round(Number(recent) / rateWindow, 1)}/s over the last ${round(rateWindow, 1)} s`,
    );
  }
  if ((audit['publication.sent'] ?? 0) !== published)
    problems.push(`audit has ${audit['publication.sent'] ?? 0} publication.sent for ${published}`);
  if ((audit['publication.sending'] ?? 0) !== attemptSum)
    problems.push(
      `audit has ${audit['publication.sending'] ?? 0} publication.sending for ${attemptSum} attempts`,
    );
  if (Number(posts.n) !== published)
    problems.push(`${posts.n} posts moved to published for ${published} publications`);
  const stops = children.map((c) =>
    c.stopped ? `${c.stopped.killed ? 'SIGKILLed after' : 'exited'} ${c.stopped.ms} ms` : '?',
  );
  if (check.receivedNotFinished || Number(leased.n)) {
    notes.push(
      `${check.receivedNotFinished} delivered but not recorded as published; ${leased.n} rows ` +
        `still hold a lease after SIGTERM to the workers (${stops.join(', ')})`,
    );
  }
  if (children.some((c) => c.stopped?.killed)) {
    notes.push(`a worker did not exit within 10 s of SIGTERM (${stops.join(', ')})`);
  }
  const dbDelta = diffCounters(db0, db1);
  const redisDelta = redis1 - redis0;
  const wCpu = cpuDelta(workersCpu0, workersCpu1);
  // The rate over the measured window: all N when done, what got published otherwise.
  const publishedInWindow = N - remaining;
  return {
    name,
    kind: 'gateway',
    workers,
    concurrency: CONCURRENCY,
    deliveries: published,
    completed,
    ended,
    seconds: round(seconds, 3),
    perSecond: round(publishedInWindow / seconds, 1),
    firstDeliveryMs: deliveries.firstAt === null ? null : round(deliveries.firstAt - t0, 1),
    lastDeliveryMs: deliveries.lastAt === null ? null : round(deliveries.lastAt - t0, 1),
    startupSeconds: round(startupSeconds, 2),
    check,
    problems,
    notes,
    queue: queue.counts,
    db: dbDelta,
    dbPerDelivery: Object.fromEntries(
      Object.entries(dbDelta).map(([k, v]) => [k, round(v / Math.max(1, publishedInWindow), 2)]),
    ),
    lockWaits: locks.waits,
    lockSamples: locks.samples,
    lockHolders: locks.holders,
    otherDbActive: locks.otherActive,
    redisCommands: redisDelta,
    redisCommandsPerDelivery: round(redisDelta / Math.max(1, publishedInWindow), 1),
    cpu: {
      workers: wCpu,
      mysqld: cpuDelta(cpu0.mysqld, cpu1.mysqld),
      redis: cpuDelta(cpu0.redis, cpu1.redis),
      bench: round(cpu1.bench - cpu0.bench, 2),
      otherSeconds: otherCpu(cpu0, cpu1, wCpu, seconds).seconds,
      otherCores: otherCpu(cpu0, cpu1, wCpu, seconds).cores,
      workerMsPerDelivery:
        wCpu === null ? null : round((wCpu * 1000) / Math.max(1, publishedInWindow), 2),
    },
    table: {
      statuses,
      attempts,
      audit,
      postsPublished: Number(posts.n),
      unfinished,
      errors: Object.fromEntries(errorRows.map((r) => [r.e, Number(r.n)])),
    },
    workerLoop: loopFigures(children, wall0, wall1),
    workerIssues: mergeIssues(children),
  };
}

async function barePhase(s: Shared, workers: number, base: number): Promise<PhaseResult> {
  const name = `bare x${workers}`;
  const prefix = `sbp-${s.runId}-b${workers}`;
  const batch = makeBatch(s.org, base);
  const bootStart = performance.now();
  const children = Array.from(
    { length: workers },
    (_, k) =>
      new Child(
        `bare worker ${k + 1}`,
        ['-r', s.probe, __filename],
        childEnv({
          BENCH_PUBLISH_ROLE: BARE_ROLE,
          BARE_REDIS_URL: REDIS_URL,
          BARE_PREFIX: prefix,
          BARE_CONCURRENCY: String(CONCURRENCY),
          BARE_URL: s.receiver.url,
          BARE_SECRET: s.org.secret,
          BARE_CHANNEL_ID: s.org.channelId,
          BARE_CHANNEL_NAME: s.org.channelName,
          BENCH_BODY_BYTES: String(BODY_BYTES),
        }),
        'bare worker ready',
      ),
  );
  try {
    await Promise.all(children.map((c) => c.waitReady()));
  } catch (e) {
    await Promise.all(children.map((c) => c.stop()));
    throw e;
  }
  const startupSeconds = (performance.now() - bootStart) / 1000;
  const events = await watchQueue(prefix);
  const producer = new Queue<BareJob>(PUBLICATIONS_QUEUE, {
    connection: redisOptions(REDIS_URL),
    prefix,
  });
  await producer.waitUntilReady();
  const add = (jobs: BareJob[]) =>
    producer.addBulk(
      jobs.map((j) => ({
        name: ATTEMPT_JOB,
        data: j,
        opts: {
          jobId: `${j.publicationId}_publish`,
          attempts: JOB_ATTEMPTS,
          removeOnComplete: true,
          removeOnFail: true,
        },
      })),
    );
  if (WARMUP > 0) {
    const warm = makeBatch(s.org, base + 50_000, WARMUP);
    const got = s.receiver.reset(warm.expected);
    await add(warm.jobs);
    const until = performance.now() + 60_000;
    for (;;) {
      const c = await producer.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      if (
        got.byPublication.size >= WARMUP &&
        c.waiting + c.active + c.delayed + c.prioritized === 0
      )
        break;
      if (performance.now() > until) throw new Error(`${name}: the warm-up did not finish`);
      await sleep(20);
    }
  }

  const deliveries = s.receiver.reset(batch.expected);
  const redis0 = await redisCommands(s.redis);
  const cpu0 = cpuSnapshot();
  const workersCpu0 = sumCpu(children);
  const t0 = performance.now();
  const wall0 = Date.now();
  for (let i = 0; i < batch.jobs.length; i += 500) await add(batch.jobs.slice(i, i + 500));
  let ended: PhaseResult['ended'] = 'done';
  let received = 0;
  let progressAt = t0;
  for (;;) {
    const now = performance.now();
    if (deliveries.byPublication.size > received) {
      received = deliveries.byPublication.size;
      progressAt = now;
    }
    if (received >= N) {
      const c = await producer.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      if (c.waiting + c.active + c.delayed + c.prioritized === 0) break;
    }
    if (now - t0 >= PHASE_TIMEOUT_MS) {
      ended = 'timeout';
      break;
    }
    if (now - progressAt >= STALL_MS) {
      ended = 'stalled';
      break;
    }
    if (children.every((c) => !c.alive)) {
      ended = 'workers died';
      break;
    }
    await sleep(10);
  }
  const seconds = (performance.now() - t0) / 1000;
  const wall1 = Date.now();
  const redis1 = await redisCommands(s.redis);
  const cpu1 = cpuSnapshot();
  const workersCpu1 = sumCpu(children);
  await sleep(300);
  await Promise.all(children.map((c) => c.stop()));
  await producer.close();
  await events.close();

  const done = Math.min(N, deliveries.byPublication.size);
  const completed = ended === 'done';
  const check = checkDeliveries(
    deliveries,
    batch.expected,
    completed ? new Set(batch.expected.keys()) : new Set(deliveries.byPublication.keys()),
    s.org.secret,
  );
  const problems = deliveryProblems(check);
  const notes: string[] = [];
  if (ended === 'timeout') notes.push(`timed out after ${round(seconds, 1)} s, ${done}/${N} done`);
  else if (!completed) problems.unshift(`${ended}: ${done}/${N} delivered`);
  const redisDelta = redis1 - redis0;
  const wCpu = cpuDelta(workersCpu0, workersCpu1);
  return {
    name,
    kind: 'bare',
    workers,
    concurrency: CONCURRENCY,
    deliveries: done,
    completed,
    ended,
    seconds: round(seconds, 3),
    perSecond: round(done / seconds, 1),
    firstDeliveryMs: deliveries.firstAt === null ? null : round(deliveries.firstAt - t0, 1),
    lastDeliveryMs: deliveries.lastAt === null ? null : round(deliveries.lastAt - t0, 1),
    startupSeconds: round(startupSeconds, 2),
    check,
    problems,
    notes,
    queue: events.counts,
    db: null,
    dbPerDelivery: null,
    lockWaits: null,
    lockSamples: 0,
    lockHolders: null,
    otherDbActive: null,
    redisCommands: redisDelta,
    redisCommandsPerDelivery: round(redisDelta / Math.max(1, done), 1),
    cpu: {
      workers: wCpu,
      mysqld: cpuDelta(cpu0.mysqld, cpu1.mysqld),
      redis: cpuDelta(cpu0.redis, cpu1.redis),
      bench: round(cpu1.bench - cpu0.bench, 2),
      otherSeconds: otherCpu(cpu0, cpu1, wCpu, seconds).seconds,
      otherCores: otherCpu(cpu0, cpu1, wCpu, seconds).cores,
      workerMsPerDelivery: wCpu === null ? null : round((wCpu * 1000) / Math.max(1, done), 2),
    },
    workerLoop: loopFigures(children, wall0, wall1),
    workerIssues: mergeIssues(children),
  };
}

// ---------------------------------------------------------------- main

const quietLogger: LoggerService = {
  log: () => undefined,
  warn: (message: unknown) => process.stderr.write(`[warn] ${String(message)}\n`),
  error: (message: unknown) => process.stderr.write(`[error] ${String(message)}\n`),
};

function printPhase(p: PhaseResult): void {
  console.log('');
  console.log(
    `${p.name}: ${p.check.requests} requests for ${p.check.distinctPublications} publications, ` +
      `payload ${p.check.avgPayloadBytes} B avg, signatures ${p.check.signaturesChecked - p.check.signaturesBad}/` +
      `${p.check.signaturesChecked} ok, first delivery at ${p.firstDeliveryMs?.toFixed(0)} ms, ` +
      `last at ${p.lastDeliveryMs?.toFixed(0)} ms`,
  );
  console.log(
    `  CPU s: workers ${p.cpu.workers}, mariadb ${p.cpu.mysqld}, redis ${p.cpu.redis}, ` +
      `bench ${p.cpu.bench}, other processes ${p.cpu.otherSeconds} (${p.cpu.otherCores} cores); ` +
      `redis commands ${p.redisCommands}`,
  );
  if (p.workerLoop) {
    const l = p.workerLoop;
    console.log(
      `  worker event loop: ${Math.round(l.utilization * 100)}% busy, timers late by ${l.meanDelayMs} ms ` +
        `mean, ${l.p99DelayMs} ms p99, ${l.maxDelayMs} ms max`,
    );
  }
  console.log(`  queue events: ${JSON.stringify(p.queue)}`);
  if (p.db) {
    console.log(
      `  mariadb: ${JSON.stringify(p.db)}; per delivery ${JSON.stringify(p.dbPerDelivery)}`,
    );
  }
  if (p.lockWaits) {
    const top = Object.entries(p.lockWaits).sort((a, b) => b[1] - a[1]);
    console.log(
      `  lock waits seen in ${p.lockSamples} samples: ` +
        (top.length
          ? top.map(([k, v]) => `${k} ${round(v / Math.max(1, p.lockSamples), 1)} avg`).join(', ')
          : 'none'),
    );
  }
  if (p.otherDbActive) {
    console.log(
      `  shared server: ${p.otherDbActive} statements of other clients running per sample (counters are server-wide)`,
    );
  }
  if (p.lockHolders && Object.keys(p.lockHolders).length) {
    const total = Object.values(p.lockHolders).reduce((a, b) => a + b, 0);
    const top = Object.entries(p.lockHolders).sort((a, b) => b[1] - a[1]);
    console.log(
      `  the lock holder was: ${top
        .slice(0, 4)
        .map(([k, v]) => `${k} ${Math.round((100 * v) / total)}%`)
        .join('; ')}`,
    );
  }
  if (p.table) {
    console.log(
      `  table: statuses ${JSON.stringify(p.table.statuses)}, attempts ${JSON.stringify(p.table.attempts)}, ` +
        `posts published ${p.table.postsPublished}`,
    );
    console.log(`  audit events: ${JSON.stringify(p.table.audit)}`);
    if (Object.keys(p.table.errors).length)
      console.log(`  lastError: ${JSON.stringify(p.table.errors)}`);
    for (const r of p.table.unfinished) console.log(`  unfinished row: ${JSON.stringify(r)}`);
  }
  if (p.check.examples.length) console.log(`  duplicates: ${p.check.examples.join(', ')}`);
  for (const n of p.notes) console.log(`  note: ${n}`);
  for (const n of p.problems) console.log(`  PROBLEM: ${n}`);
  const issues = Object.entries(p.workerIssues).sort((a, b) => b[1] - a[1]);
  for (const [k, v] of issues.slice(0, 8)) console.log(`  worker log x${v}: ${k}`);
}

async function main(): Promise<number> {
  Logger.overrideLogger(quietLogger);
  const tStart = performance.now();
  const runId = randomBytes(3).toString('hex');
  const dataDir = mkdtempSync(join(tmpdir(), 'sanshen-bench-publish-'));
  const probe = join(dataDir, 'loop-probe.js');
  writeFileSync(probe, LOOP_PROBE);
  const keys = benchKeys();
  const cipher = new CredentialsCipher(Buffer.from(keys.credentials, 'hex'));

  await recreateDatabase(MYSQL_URL);
  const ds = await openDatabase(MYSQL_URL, { migrate: false });
  const redis = new Redis(redisOptions(REDIS_URL));
  const receiver = new Receiver();
  await receiver.start();
  const prefixes: string[] = [];
  let exitCode = 0;
  try {
    await ds.runMigrations();
    const [{ version }] = (await ds.query('SELECT VERSION() AS version')) as { version: string }[];
    const [flush] = (await ds.query("SHOW VARIABLES LIKE 'innodb_flush_log_at_trx_commit'")) as {
      Value: string;
    }[];
    const redisServer = await redisVersion(redis);
    const org = await createOrg(ds, cipher, receiver.url);
    const s: Shared = { ds, redis, receiver, org, dataDir, probe, keys, runId };

    console.log(
      `publish bench: ${version} (innodb_flush_log_at_trx_commit=${flush?.Value}), Redis ${redisServer}, ` +
        `${cpus().length} CPUs; ${N} publications per phase, ${CONCURRENCY} concurrent per worker process, ` +
        `relay poll ${POLL_MS} ms, body ${BODY_BYTES} B, worker processes ${WORKERS.join('/')}`,
    );

    const phases: PhaseResult[] = [];
    let base = 100_000;
    for (const w of WORKERS) {
      prefixes.push(`sbp-${runId}-b${w}`, `sbp-${runId}-g${w}`);
      process.stderr.write(`[phase] bare x${w}\n`);
      phases.push(await barePhase(s, w, base));
      base += 100_000;
      process.stderr.write(`[phase] gateway x${w}\n`);
      phases.push(await gatewayPhase(s, w, base));
      base += 100_000;
    }

    const audit = new AuditService(ds);
    const tVerify = performance.now();
    const verify = await audit.verify();
    const verifySeconds = (performance.now() - tVerify) / 1000;

    // ------------------------------------------------------------ report
    const ratio = (w: number): number | null => {
      const g = phases.find((p) => p.kind === 'gateway' && p.workers === w);
      const b = phases.find((p) => p.kind === 'bare' && p.workers === w);
      return g && b && b.perSecond > 0 ? round(g.perSecond / b.perSecond, 3) : null;
    };
    const pad = (v: unknown, w: number) => String(v ?? '-').padStart(w);
    console.log('');
    console.log(
      `${'phase'.padEnd(11)}${pad('procs', 6)}${pad('conc', 5)}${pad('done', 6)}${pad('sec', 8)}` +
        `${pad('deliv/s', 9)}${pad('1st ms', 7)}${pad('jobs', 6)}${pad('dupAdds', 9)}` +
        `${pad('sql/d', 7)}${pad('lockw/d', 8)}${pad('redis/d', 8)}${pad('wCPUms/d', 9)}  ended`,
    );
    for (const p of phases) {
      console.log(
        `${p.name.padEnd(11)}${pad(p.workers, 6)}${pad(p.workers * p.concurrency, 5)}${pad(p.deliveries, 6)}` +
          `${pad(p.seconds.toFixed(2), 8)}${pad(p.perSecond.toFixed(1), 9)}${pad(p.firstDeliveryMs?.toFixed(0), 7)}` +
          `${pad(p.queue.added ?? 0, 6)}${pad(p.queue.duplicateAdds ?? 0, 9)}` +
          `${pad(p.dbPerDelivery?.Questions, 7)}${pad(p.dbPerDelivery?.Innodb_row_lock_waits, 8)}` +
          `${pad(p.redisCommandsPerDelivery, 8)}${pad(p.cpu.workerMsPerDelivery, 9)}  ` +
          `${p.ended}${p.problems.length ? ` — ${p.problems.length} problem(s)` : ''}`,
      );
    }
    console.log('');
    for (const w of WORKERS) {
      console.log(
        `gateway/bare ratio, ${w} worker process${w > 1 ? 'es' : ''}: ${ratio(w)?.toFixed(3) ?? '-'}`,
      );
    }
    for (const p of phases) printPhase(p);
    console.log('');
    console.log(
      verify.ok
        ? `audit verify: ok, ${verify.checked} events in ${verifySeconds.toFixed(2)} s`
        : `audit verify: FAILED at event ${verify.brokenAt}: ${verify.reason}`,
    );
    if (!verify.ok || phases.some((p) => p.problems.length > 0)) exitCode = 1;
    const totalSeconds = round((performance.now() - tStart) / 1000, 1);
    console.log(`total ${totalSeconds} s; exit ${exitCode}`);

    const json = {
      bench: 'publish',
      database: version,
      innodbFlushLogAtTrxCommit: flush?.Value,
      redis: redisServer,
      cpus: cpus().length,
      publications: N,
      concurrencyPerProcess: CONCURRENCY,
      pollMs: POLL_MS,
      bodyBytes: BODY_BYTES,
      phases: phases.map((p) => ({
        name: p.name,
        kind: p.kind,
        workers: p.workers,
        concurrency: p.workers * p.concurrency,
        deliveries: p.deliveries,
        completed: p.completed,
        ended: p.ended,
        seconds: p.seconds,
        perSecond: p.perSecond,
        firstDeliveryMs: p.firstDeliveryMs,
        lastDeliveryMs: p.lastDeliveryMs,
        startupSeconds: p.startupSeconds,
        avgPayloadBytes: p.check.avgPayloadBytes,
        requests: p.check.requests,
        duplicated: p.check.duplicated,
        receivedNotFinished: p.check.receivedNotFinished,
        finishedNotReceived: p.check.finishedNotReceived,
        signatures: { checked: p.check.signaturesChecked, bad: p.check.signaturesBad },
        queue: p.queue,
        db: p.db,
        lockWaits: p.lockWaits,
        lockSamples: p.lockSamples,
        lockHolders: p.lockHolders,
        otherDbActive: p.otherDbActive,
        redisCommands: p.redisCommands,
        cpu: p.cpu,
        table: p.table
          ? {
              statuses: p.table.statuses,
              attempts: p.table.attempts,
              audit: p.table.audit,
              postsPublished: p.table.postsPublished,
            }
          : undefined,
        workerLoop: p.workerLoop,
        workerIssues: p.workerIssues,
        notes: p.notes,
        problems: p.problems,
      })),
      ratios: Object.fromEntries(WORKERS.map((w) => [String(w), ratio(w)])),
      auditVerify: { ok: verify.ok, checked: verify.checked },
      totalSeconds,
      ok: exitCode === 0,
    };
    console.log(JSON.stringify(json));
  } finally {
    await obliterateQueues(REDIS_URL, prefixes);
    await receiver.close();
    redis.disconnect();
    await ds.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return exitCode;
}

if (env.BENCH_PUBLISH_ROLE === BARE_ROLE) {
  bareWorker().catch((e: unknown) => {
    process.stderr.write(`bare worker failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
} else {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(2);
    },
  );
}
