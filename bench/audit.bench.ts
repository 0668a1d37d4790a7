/**
 * Audit-chain benchmark on MySQL/MariaDB (not a test).
 *
 *   npm run bench:audit
 *
 * Measures, in one run on a freshly recreated database:
 *  - appends/s through AuditService.record inside Transactions.run (one event per
 *    transaction) at each concurrency (default 1 and 16);
 *  - the baseline: plain single-row INSERT transactions/s into `bench_plain`, a
 *    table with the same columns and secondary indexes as audit_events but no chain;
 *  - verify() after the concurrent phases (must be ok);
 *  - verify() throughput over a chain bulk-filled to BENCH_VERIFY_EVENTS events;
 *  - (informational) verify() while appends are running.
 *
 * Environment:
 *   BENCH_MYSQL_URL      database to DROP and recreate (default mysql://root@127.0.0.1:3306/sanshen_bench);
 *                        its name must contain "bench" unless BENCH_ALLOW_DROP=1
 *   BENCH_DURATION_MS    measured time per phase (default 5000)
 *   BENCH_COUNT          if set, a fixed number of transactions per phase instead of a duration
 *   BENCH_WARMUP_MS      unmeasured warm-up per phase (default 500)
 *   BENCH_CONCURRENCY    comma list (default "1,16")
 *   BENCH_VERIFY_EVENTS  chain length for the verify measurement (default 100000)
 *   BENCH_FILL_BATCH     events per bulk-fill transaction (default 1000)
 *   BENCH_VERIFY_UNDER_LOAD  runs of the verify-under-load probe (default 3; 0 skips it)
 *
 * Prints a table, then the figures as one JSON line (the last line of stdout).
 * Exits 1 if a verify of the quiescent chain fails.
 */
import 'reflect-metadata';
import { createHash, randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Logger, LoggerService } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { canonicalJson } from 'src/common/canonical-json';
import { runWithRequestContext } from 'src/common/request-context';
import { AuditChainHead, AuditEvent } from 'src/modules/audit/audit-event.entity';
import { Transactions } from 'src/database/transactions';
import type { AppConfig } from 'src/config/app-config';
import { chainHash } from 'src/modules/audit/audit-hash';
import { AuditInput, AuditService, VerifyResult } from 'src/modules/audit/audit.service';
import { openDatabase, recreateDatabase, serverInfo } from './support/mysql';
import { percentile, round } from './support/stats';

// ---------------------------------------------------------------- configuration

const env = process.env;
const intEnv = (name: string, dflt: number): number => {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return n;
};

const MYSQL_URL = env.BENCH_MYSQL_URL || 'mysql://root@127.0.0.1:3306/sanshen_bench';
const DURATION_MS = intEnv('BENCH_DURATION_MS', 5000);
const COUNT = env.BENCH_COUNT ? intEnv('BENCH_COUNT', 0) : null;
const WARMUP_MS = intEnv('BENCH_WARMUP_MS', 500);
const CONCURRENCY = (env.BENCH_CONCURRENCY || '1,16').split(',').map((s) => {
  const n = Number(s.trim());
  if (!Number.isInteger(n) || n < 1)
    throw new Error('BENCH_CONCURRENCY: comma list of integers >= 1');
  return n;
});
const VERIFY_EVENTS = intEnv('BENCH_VERIFY_EVENTS', 100_000);
const FILL_BATCH = Math.max(1, intEnv('BENCH_FILL_BATCH', 1000));
const UNDER_LOAD_RUNS = intEnv('BENCH_VERIFY_UNDER_LOAD', 3);
const UNDER_LOAD_CONCURRENCY = 4;

// ---------------------------------------------------------------- conflict/err counting

/** Transactions logs each deadlock retry through the Nest Logger: count them per phase. */
let currentPhase = 'setup';
const retries = new Map<string, number>();
const quietLogger: LoggerService = {
  log: () => undefined,
  warn: (message: unknown) => {
    if (String(message).includes('transaction conflict')) {
      retries.set(currentPhase, (retries.get(currentPhase) ?? 0) + 1);
    } else {
      process.stderr.write(`[warn] ${String(message)}\n`);
    }
  },
  error: (message: unknown) => process.stderr.write(`[error] ${String(message)}\n`),
};
Logger.overrideLogger(quietLogger);

function errorCode(e: unknown): string {
  const d = (e as { driverError?: { code?: string }; code?: string }) ?? {};
  return d.driverError?.code ?? d.code ?? (e instanceof Error ? e.message.slice(0, 80) : String(e));
}

// ---------------------------------------------------------------- realistic rows

const ACTIONS = ['submission.create', 'review.approve', 'review.reject', 'publish.done'];
const STATES = ['draft', 'first_review', 'second_review', 'final_review', 'approved', 'published'];
const USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
const ACTORS = Array.from({ length: 32 }, () => ({
  id: randomUUID(),
  roles: ['editor', 'dept_reviewer'],
}));

function sampleInput(i: number): AuditInput {
  return {
    action: ACTIONS[i % ACTIONS.length],
    entityType: 'submission',
    entityId: randomUUID(),
    actor: ACTORS[i % ACTORS.length],
    fromState: STATES[i % STATES.length],
    toState: STATES[(i + 1) % STATES.length],
    revisionId: randomUUID(),
    contentHash: createHash('sha256').update(String(i)).digest('hex'),
    comment: `Reviewed the text and images of revision ${i}; wording fixed in the second paragraph.`,
    details: {
      channelIds: [randomUUID(), randomUUID()],
      words: 800 + (i % 500),
      urgent: i % 7 === 0,
    },
  };
}

function sampleContext(i: number) {
  return {
    requestId: randomUUID(),
    ip: `10.20.${(i >> 8) & 255}.${i & 255}`,
    userAgent: USER_AGENT,
  };
}

// ---------------------------------------------------------------- database setup

/** Same columns, types and secondary indexes as audit_events; an AUTO_INCREMENT key and no chain. */
const CREATE_PLAIN = `CREATE TABLE bench_plain (
  id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  createdAt varchar(24) NOT NULL,
  actorId varchar(36) NULL,
  actorRole varchar(100) NULL,
  action varchar(64) NOT NULL,
  entityType varchar(32) NOT NULL,
  entityId varchar(64) NULL,
  fromState varchar(32) NULL,
  toState varchar(32) NULL,
  revisionId varchar(36) NULL,
  contentHash varchar(64) NULL,
  comment mediumtext NULL,
  details mediumtext NULL,
  requestId varchar(64) NULL,
  ip varchar(64) NULL,
  userAgent varchar(255) NULL,
  prevHash varchar(64) NOT NULL,
  hash varchar(64) NOT NULL,
  INDEX IDX_plain_action (action, id),
  INDEX IDX_plain_actor (actorId, id),
  INDEX IDX_plain_entity (entityType, entityId, id),
  INDEX IDX_plain_created (createdAt)
) ENGINE=InnoDB`;

const PLAIN_COLUMNS =
  'createdAt, actorId, actorRole, action, entityType, entityId, fromState, toState, revisionId, ' +
  'contentHash, comment, details, requestId, ip, userAgent, prevHash, hash';
const PLAIN_INSERT = `INSERT INTO bench_plain (${PLAIN_COLUMNS}) VALUES (${PLAIN_COLUMNS.split(',')
  .map(() => '?')
  .join(', ')})`;
const FILLER_HASH = 'f'.repeat(64);

async function plainInsert(m: EntityManager, i: number): Promise<void> {
  const input = sampleInput(i);
  const ctx = sampleContext(i);
  await m.query(PLAIN_INSERT, [
    new Date().toISOString(),
    input.actor!.id,
    input.actor!.roles.join(','),
    input.action,
    input.entityType,
    input.entityId,
    input.fromState,
    input.toState,
    input.revisionId,
    input.contentHash,
    input.comment,
    canonicalJson(input.details),
    ctx.requestId,
    ctx.ip,
    ctx.userAgent,
    FILLER_HASH,
    FILLER_HASH,
  ]);
}

// ---------------------------------------------------------------- load driver

interface PhaseResult {
  name: string;
  concurrency: number;
  ops: number;
  seconds: number;
  perSecond: number;
  p50ms: number;
  p95ms: number;
  p99ms: number;
  maxMs: number;
  retries: number;
  errors: Record<string, number>;
}

let opSeq = 0;

/**
 * `concurrency` async loops, each running one transaction after another, for a
 * fixed duration or until a shared count is reached.
 */
async function drive(
  concurrency: number,
  limit: { ms: number } | { count: number },
  op: (i: number) => Promise<void>,
  latencies?: number[],
  errors?: Record<string, number>,
): Promise<{ ops: number; seconds: number }> {
  const start = performance.now();
  const deadline = 'ms' in limit ? start + limit.ms : Infinity;
  const maxOps = 'count' in limit ? limit.count : Infinity;
  let started = 0;
  let done = 0;
  const worker = async () => {
    while (started < maxOps && performance.now() < deadline) {
      started++;
      const i = opSeq++;
      const t0 = performance.now();
      try {
        await op(i);
        done++;
        latencies?.push(performance.now() - t0);
      } catch (e) {
        const code = errorCode(e);
        if (errors) errors[code] = (errors[code] ?? 0) + 1;
        else throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ops: done, seconds: (performance.now() - start) / 1000 };
}

async function phase(
  name: string,
  concurrency: number,
  op: (i: number) => Promise<void>,
): Promise<PhaseResult> {
  const key = `${name}@${concurrency}`;
  currentPhase = `${key}:warmup`;
  if (WARMUP_MS > 0) await drive(concurrency, { ms: WARMUP_MS }, op, undefined, {});
  currentPhase = key;
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const limit = COUNT !== null ? { count: COUNT } : { ms: DURATION_MS };
  const { ops, seconds } = await drive(concurrency, limit, op, latencies, errors);
  latencies.sort((a, b) => a - b);
  return {
    name,
    concurrency,
    ops,
    seconds: round(seconds, 3),
    perSecond: round(ops / seconds, 1),
    p50ms: round(percentile(latencies, 50)),
    p95ms: round(percentile(latencies, 95)),
    p99ms: round(percentile(latencies, 99)),
    maxMs: round(latencies[latencies.length - 1] ?? 0),
    retries: retries.get(key) ?? 0,
    errors,
  };
}

// ---------------------------------------------------------------- bulk fill

/**
 * Extends the chain by `n` events in one transaction, exactly as record() would
 * link them: the head row is taken with a write first, the events are hashed
 * from the head's hash onwards and inserted in one multi-row INSERT, and the head
 * is moved to the last one.
 */
async function appendBulk(tx: Transactions, n: number): Promise<void> {
  await tx.run(async (m) => {
    await m.query('UPDATE audit_chain_head SET lastEventId = lastEventId + ? WHERE id = 1', [n]);
    const [head] = (await m.query(
      'SELECT lastEventId, headHash FROM audit_chain_head WHERE id = 1',
    )) as { lastEventId: number | string; headHash: string }[];
    let id = Number(head.lastEventId) - n + 1;
    let prev = head.headHash;
    const rows: AuditEvent[] = [];
    for (let k = 0; k < n; k++, id++) {
      const input = sampleInput(id);
      const ctx = sampleContext(id);
      const e = new AuditEvent();
      e.id = id;
      e.createdAt = new Date().toISOString();
      e.actorId = input.actor!.id;
      e.actorRole = input.actor!.roles.join(',');
      e.action = input.action;
      e.entityType = input.entityType;
      e.entityId = input.entityId ?? null;
      e.fromState = input.fromState ?? null;
      e.toState = input.toState ?? null;
      e.revisionId = input.revisionId ?? null;
      e.contentHash = input.contentHash ?? null;
      e.comment = input.comment ?? null;
      e.details = canonicalJson(input.details);
      e.requestId = ctx.requestId;
      e.ip = ctx.ip;
      e.userAgent = ctx.userAgent;
      e.prevHash = prev;
      e.hash = chainHash(prev, e);
      prev = e.hash;
      rows.push(e);
    }
    await m
      .createQueryBuilder()
      .insert()
      .into(AuditEvent)
      .values(rows)
      .updateEntity(false)
      .execute();
    await m.query('UPDATE audit_chain_head SET headHash = ? WHERE id = 1', [prev]);
  });
}

async function chainLength(ds: DataSource): Promise<number> {
  const [head] = (await ds.query('SELECT lastEventId FROM audit_chain_head WHERE id = 1')) as {
    lastEventId: number | string;
  }[];
  return Number(head.lastEventId);
}

interface VerifyFigures {
  ok: boolean;
  checked: number;
  seconds: number;
  perSecond: number;
  maxLoopBlockMs: number;
  result: VerifyResult;
}

/** Times verify() and the longest stretch it kept the event loop busy (what a request would wait). */
async function timedVerify(audit: AuditService): Promise<VerifyFigures> {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const t0 = performance.now();
  const result = await audit.verify();
  const seconds = (performance.now() - t0) / 1000;
  loop.disable();
  return {
    ok: result.ok,
    checked: result.checked,
    seconds: round(seconds, 3),
    perSecond: round(result.checked / seconds, 0),
    maxLoopBlockMs: round(loop.max / 1e6, 1),
    result,
  };
}

function describe(v: VerifyFigures): string {
  if (v.result.ok) return `ok: true, ${v.checked} events in ${v.seconds} s`;
  return `ok: FALSE at event ${v.result.brokenAt}: ${v.result.reason}`;
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const t0 = performance.now();
  const maxConcurrency = Math.max(...CONCURRENCY, UNDER_LOAD_CONCURRENCY + 1);
  await recreateDatabase(MYSQL_URL);
  // One connection per loop, plus room for verify() running beside them.
  const ds = await openDatabase(MYSQL_URL, {
    connectionLimit: Math.max(20, maxConcurrency + 4),
    migrate: false,
    entities: [AuditEvent, AuditChainHead],
  });
  let exitCode = 0;
  try {
    await ds.runMigrations();
    await ds.query(CREATE_PLAIN);
    const { version, innodbFlushLogAtTrxCommit } = await serverInfo(ds);
    const flush = { Value: innodbFlushLogAtTrxCommit };

    const tx = new Transactions(ds, { dbLockWaitTimeoutSeconds: 50 } as AppConfig);
    const audit = new AuditService(ds);
    const append = (i: number) =>
      runWithRequestContext(sampleContext(i), () =>
        tx.run(async (m) => {
          await audit.record(m, sampleInput(i));
        }),
      );
    const plain = (i: number) => tx.run((m) => plainInsert(m, i));

    console.log(
      `audit bench: ${version}, innodb_flush_log_at_trx_commit=${flush?.Value}, ` +
        (COUNT !== null ? `${COUNT} tx per phase` : `${DURATION_MS} ms per phase`) +
        `, warm-up ${WARMUP_MS} ms, concurrency ${CONCURRENCY.join('/')}`,
    );

    // 1. Throughput: plain inserts vs chained appends, at each concurrency.
    const phases: PhaseResult[] = [];
    for (const c of CONCURRENCY) {
      phases.push(await phase('plain', c, plain));
      phases.push(await phase('append', c, append));
    }

    // 2. The chain must verify after the concurrent appends.
    currentPhase = 'verify';
    const afterConcurrent = await timedVerify(audit);
    if (!afterConcurrent.ok) exitCode = 1;

    // 3. Bulk-fill to VERIFY_EVENTS and time verify().
    currentPhase = 'fill';
    const fillStart = performance.now();
    let length = await chainLength(ds);
    const filledFrom = length;
    while (length < VERIFY_EVENTS) {
      const n = Math.min(FILL_BATCH, VERIFY_EVENTS - length);
      await appendBulk(tx, n);
      length += n;
    }
    const fillSeconds = (performance.now() - fillStart) / 1000;
    currentPhase = 'verify';
    const big = await timedVerify(audit);
    if (!big.ok) exitCode = 1;
    const bigWarm = await timedVerify(audit);
    if (!bigWarm.ok) exitCode = 1;

    // 4. (informational) verify() while appenders are running.
    const underLoad: { ok: boolean; checked: number; reason?: string }[] = [];
    let underLoadAppends = 0;
    const underLoadErrors: Record<string, number> = {};
    const underLoadStart = performance.now();
    for (let r = 0; r < UNDER_LOAD_RUNS; r++) {
      currentPhase = 'verify-under-load';
      let stop = false;
      const loops = Array.from({ length: UNDER_LOAD_CONCURRENCY }, async () => {
        while (!stop) {
          try {
            await append(opSeq++);
            underLoadAppends++;
          } catch (e) {
            const code = errorCode(e);
            underLoadErrors[code] = (underLoadErrors[code] ?? 0) + 1;
          }
        }
      });
      const v = await audit.verify();
      stop = true;
      await Promise.all(loops);
      underLoad.push(v.ok ? v : { ok: false, checked: v.checked, reason: v.reason });
    }
    const underLoadSeconds = (performance.now() - underLoadStart) / 1000;
    currentPhase = 'verify';
    const final = UNDER_LOAD_RUNS > 0 ? await timedVerify(audit) : big;
    if (!final.ok) exitCode = 1;

    // ------------------------------------------------------------ report
    const ratio = (c: number) => {
      const a = phases.find((p) => p.name === 'append' && p.concurrency === c)!;
      const p = phases.find((q) => q.name === 'plain' && q.concurrency === c)!;
      return round(a.perSecond / p.perSecond, 3);
    };
    const pad = (s: string | number, w: number) => String(s).padStart(w);
    console.log('');
    console.log(
      `${'phase'.padEnd(8)}${pad('conc', 5)}${pad('tx', 8)}${pad('sec', 8)}${pad('tx/s', 9)}` +
        `${pad('p50ms', 8)}${pad('p95ms', 8)}${pad('p99ms', 8)}${pad('maxms', 8)}${pad('retries', 8)}  errors`,
    );
    for (const p of phases) {
      const errs = Object.entries(p.errors)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      console.log(
        `${p.name.padEnd(8)}${pad(p.concurrency, 5)}${pad(p.ops, 8)}${pad(p.seconds.toFixed(2), 8)}` +
          `${pad(p.perSecond.toFixed(1), 9)}${pad(p.p50ms.toFixed(2), 8)}${pad(p.p95ms.toFixed(2), 8)}` +
          `${pad(p.p99ms.toFixed(2), 8)}${pad(p.maxMs.toFixed(1), 8)}${pad(p.retries, 8)}  ${errs || '-'}`,
      );
    }
    console.log('');
    for (const c of CONCURRENCY) {
      console.log(`append/plain ratio @${c}: ${ratio(c).toFixed(3)}`);
    }
    const warmupRetries = [...retries.entries()].filter(([k]) => k.endsWith(':warmup'));
    if (warmupRetries.length) {
      console.log(
        `retries during warm-up: ${warmupRetries.map(([k, v]) => `${k}=${v}`).join(' ')}`,
      );
    }
    console.log('');
    console.log(`verify after concurrent phases: ${describe(afterConcurrent)}`);
    console.log(
      `bulk fill: ${length - filledFrom} events in ${fillSeconds.toFixed(1)} s ` +
        `(${FILL_BATCH} per transaction)`,
    );
    for (const [label, v] of [
      ['1st', big],
      ['2nd', bigWarm],
    ] as const) {
      console.log(
        `verify of ${v.checked} events (${label}): ${describe(v)} -> ${v.perSecond} events/s, ` +
          `event loop blocked up to ${v.maxLoopBlockMs} ms`,
      );
    }
    if (UNDER_LOAD_RUNS > 0) {
      const bad = underLoad.filter((u) => !u.ok);
      console.log(
        `verify while ${UNDER_LOAD_CONCURRENCY} loops append (informational): ` +
          `${underLoad.length - bad.length}/${underLoad.length} ok, ${underLoadAppends} appends in ${underLoadSeconds.toFixed(1)} s meanwhile` +
          (Object.keys(underLoadErrors).length
            ? ` (append errors: ${JSON.stringify(underLoadErrors)})`
            : '') +
          (bad.length ? `; first failure: ${bad[0].reason}` : ''),
      );
      console.log(`final quiescent verify: ${describe(final)}`);
    }
    const totalSeconds = round((performance.now() - t0) / 1000, 1);
    console.log(`total ${totalSeconds} s; exit ${exitCode}`);

    const json = {
      bench: 'audit',
      database: version,
      innodbFlushLogAtTrxCommit: flush?.Value,
      mode: COUNT !== null ? { count: COUNT } : { durationMs: DURATION_MS },
      phases: phases.map(
        ({
          name,
          concurrency,
          ops,
          seconds,
          perSecond,
          p50ms,
          p95ms,
          p99ms,
          maxMs,
          retries: r,
          errors,
        }) => ({
          name,
          concurrency,
          ops,
          seconds,
          perSecond,
          p50ms,
          p95ms,
          p99ms,
          maxMs,
          retries: r,
          errors,
        }),
      ),
      ratios: Object.fromEntries(CONCURRENCY.map((c) => [String(c), ratio(c)])),
      verifyAfterConcurrent: { ok: afterConcurrent.ok, checked: afterConcurrent.checked },
      fill: { events: length - filledFrom, seconds: round(fillSeconds, 2) },
      verify: [big, bigWarm].map((v) => ({
        ok: v.ok,
        checked: v.checked,
        seconds: v.seconds,
        eventsPerSecond: v.perSecond,
        maxLoopBlockMs: v.maxLoopBlockMs,
      })),
      verifyUnderLoad:
        UNDER_LOAD_RUNS > 0
          ? {
              runs: underLoad.length,
              ok: underLoad.filter((u) => u.ok).length,
              reasons: underLoad.filter((u) => !u.ok).map((u) => u.reason),
              appends: underLoadAppends,
              seconds: round(underLoadSeconds, 2),
              appendErrors: underLoadErrors,
            }
          : null,
      finalVerify: { ok: final.ok, checked: final.checked },
      totalSeconds,
      ok: exitCode === 0,
    };
    console.log(JSON.stringify(json));
  } finally {
    await ds.destroy();
  }
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(2);
  },
);
