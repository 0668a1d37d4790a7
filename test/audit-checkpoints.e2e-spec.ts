import { createHash, createPublicKey, generateKeyPairSync, KeyObject, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { canonicalJson } from 'src/common/canonical-json';
import { Role } from 'src/common/roles';
import { ConfigError, parseEnvironment } from 'src/config/environment';
import { chainHash, GENESIS_HASH, HashedEvent } from 'src/modules/audit/audit-hash';
import {
  CheckpointDocument,
  parseCheckpointDocument,
} from 'src/modules/audit/checkpoint-signature';
import {
  describeCheckpointVerification,
  verifyCheckpointFile,
} from 'src/modules/audit/checkpoint-verify';
import { bearer, Org, startApp, TestApp } from 'test/harness';

interface CheckpointBody extends CheckpointDocument {
  id: number;
  reason: 'manual' | 'periodic';
}

describe('signed audit checkpoints', () => {
  let t: TestApp;
  let org: Org;
  let db: DataSource;
  let dir: string;
  let auditor: Awaited<ReturnType<Org['user']>>;
  let prop: Awaited<ReturnType<Org['user']>>;
  let editor: Awaited<ReturnType<Org['user']>>;
  let departmentId: string;
  let publicKey: KeyObject;
  /** The first manual checkpoint, as saved to a file. */
  let first: CheckpointBody;
  let firstFile: string;
  /** A later one, with department changes between the two. */
  let second: CheckpointBody;

  beforeAll(async () => {
    t = await startApp();
    org = new Org(t);
    db = t.app.get(DataSource);
    dir = mkdtempSync(join(tmpdir(), 'sanshen-checkpoints-'));
    const d = await org.department();
    departmentId = d.id;
    auditor = await org.user([Role.AUDITOR], d.id);
    prop = await org.user([Role.PROPAGANDA_REVIEWER], d.id);
    editor = await org.user([Role.EDITOR], d.id);
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const verifyChain = async () =>
    (await request(t.http).get('/api/v1/audit/verify').set(bearer(auditor.token))).body;
  const rename = (name: string) =>
    request(t.http)
      .patch(`/api/v1/departments/${departmentId}`)
      .set(bearer(t.adminToken))
      .send({ name })
      .expect(200);
  const checkpoint = async (token: string): Promise<CheckpointBody> => {
    const res = await request(t.http).post('/api/v1/audit/checkpoints').set(bearer(token));
    expect(res.status).toBe(201);
    return res.body as CheckpointBody;
  };
  const check = (doc: CheckpointDocument, key: KeyObject = publicKey) =>
    verifyCheckpointFile(db, doc, key);
  const events = async () =>
    (await db.query('SELECT * FROM audit_events ORDER BY id')) as (HashedEvent & {
      prevHash: string;
      hash: string;
    })[];

  /**
   * What someone with database access does: change one event, then recompute
   * every later prevHash and hash and the head, so that /audit/verify passes.
   * Returns a function that puts everything back.
   */
  async function rewriteHistory(target: number, comment: string): Promise<() => Promise<void>> {
    const before = await events();
    const [head] = await db.query('SELECT headHash FROM audit_chain_head WHERE id = 1');
    let prev = GENESIS_HASH;
    for (const raw of before) {
      const e = { ...raw, id: Number(raw.id) };
      if (e.id === target) e.comment = comment;
      if (e.id >= target) {
        e.prevHash = prev;
        e.hash = chainHash(prev, e);
        await db.query('UPDATE audit_events SET comment = ?, prevHash = ?, hash = ? WHERE id = ?', [
          e.comment,
          e.prevHash,
          e.hash,
          e.id,
        ]);
      }
      prev = e.hash;
    }
    await db.query('UPDATE audit_chain_head SET headHash = ? WHERE id = 1', [prev]);
    return async () => {
      for (const e of before.filter((r) => Number(r.id) >= target)) {
        await db.query('UPDATE audit_events SET comment = ?, prevHash = ?, hash = ? WHERE id = ?', [
          e.comment,
          e.prevHash,
          e.hash,
          e.id,
        ]);
      }
      await db.query('UPDATE audit_chain_head SET headHash = ? WHERE id = 1', [head.headHash]);
    };
  }

  it('signs the head as it stood before its own event and answers a saveable document', async () => {
    await rename('改名 1');
    await rename('改名 2');
    const before = await verifyChain();
    expect(before.ok).toBe(true);

    first = await checkpoint(auditor.token);
    expect(first).toEqual({
      id: 1,
      reason: 'manual',
      statement: {
        lastEventId: before.checked,
        headHash: before.headHash,
        count: before.checked,
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      },
      signature: expect.stringMatching(/^[A-Za-z0-9+/]{86}==$/),
      keyId: expect.stringMatching(/^[0-9a-f]{64}$/),
      algorithm: 'Ed25519',
    });

    // Its own event follows the head it signed, and names it.
    const [own] = await db.query('SELECT * FROM audit_events WHERE id = ?', [before.checked + 1]);
    expect(own).toMatchObject({
      action: 'audit.checkpoint_created',
      entityType: 'audit_checkpoint',
      entityId: '1',
      actorId: auditor.id,
    });
    expect(JSON.parse(own.details)).toEqual({
      lastEventId: before.checked,
      headHash: before.headHash,
      keyId: first.keyId,
      reason: 'manual',
    });
    expect(await verifyChain()).toMatchObject({ ok: true, checked: before.checked + 1 });

    firstFile = join(dir, 'checkpoint-1.json');
    writeFileSync(firstFile, JSON.stringify(first, null, 2));
  });

  it('publishes the public key, with which plain node:crypto verifies the signature', async () => {
    const res = await request(t.http).get('/api/v1/audit/public-key').set(bearer(prop.token));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      algorithm: 'Ed25519',
      keyId: first.keyId,
      publicKeyPem: expect.stringContaining('BEGIN PUBLIC KEY'),
    });
    publicKey = createPublicKey(res.body.publicKeyPem);
    expect(publicKey.asymmetricKeyType).toBe('ed25519');
    const der = publicKey.export({ type: 'spki', format: 'der' });
    expect(createHash('sha256').update(der).digest('hex')).toBe(first.keyId);
    const saved = JSON.parse(readFileSync(firstFile, 'utf8'));
    const signed = Buffer.from(canonicalJson(saved.statement), 'utf8');
    expect(verify(null, signed, publicKey, Buffer.from(saved.signature, 'base64'))).toBe(true);
    expect(
      verify(
        null,
        Buffer.from(canonicalJson({ ...saved.statement, count: 1 })),
        publicKey,
        Buffer.from(saved.signature, 'base64'),
      ),
    ).toBe(false);
  });

  it('lists checkpoints newest first with a cursor, each item as saveable as the POST answer', async () => {
    await rename('改名 3');
    await rename('改名 4');
    second = await checkpoint(prop.token);
    expect(second.id).toBe(2);
    expect(second.statement.lastEventId).toBeGreaterThan(first.statement.lastEventId + 2);
    const third = await checkpoint(auditor.token);
    // Back to back: the third covers the second's own event, nothing more.
    expect(third.statement.lastEventId).toBe(second.statement.lastEventId + 1);

    const seen: CheckpointBody[] = [];
    let cursor: number | null = null;
    do {
      const res: request.Response = await request(t.http)
        .get(`/api/v1/audit/checkpoints?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        .set(bearer(auditor.token));
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([third, second, first]);
    for (const item of seen)
      expect(parseCheckpointDocument(item).statement).toEqual(item.statement);
    const bad = await request(t.http)
      .get('/api/v1/audit/checkpoints?limit=0')
      .set(bearer(auditor.token));
    expect(bad.status).toBe(400);
  });

  it('verifies an untouched database against the saved checkpoint', async () => {
    const doc = parseCheckpointDocument(JSON.parse(readFileSync(firstFile, 'utf8')));
    const r = await check(doc);
    const L = first.statement.lastEventId;
    const head = (await verifyChain()).checked;
    expect(r).toMatchObject({
      ok: true,
      signature: { ok: true, keyId: first.keyId },
      covered: { ok: true, from: 1, to: L, checked: L },
      beyond: { ok: true, from: L + 1, to: head, checked: head - L },
      head: { lastEventId: head },
      storedCheckpoints: { matched: 3, skipped: 0, altered: [] },
    });
    const lines = describeCheckpointVerification(r, 'the test');
    expect(lines[lines.length - 1]).toBe(
      `ok: the checkpoint's ${L} events intact; the chain holds ${head} events`,
    );
  });

  it('rejects a tampered signature, and a statement edited to fit a rewritten chain', async () => {
    const sig = Buffer.from(first.signature, 'base64');
    sig[0] ^= 0x80;
    const flipped = await check({ ...first, signature: sig.toString('base64') });
    expect(flipped.ok).toBe(false);
    expect(flipped.signature).toEqual({
      ok: false,
      keyId: first.keyId,
      reason: 'the signature does not match the statement',
    });
    // The chain itself is fine; only the signature fails.
    expect(flipped.covered.ok).toBe(true);

    const edited = await check({
      ...first,
      statement: { ...first.statement, headHash: 'e'.repeat(64) },
    });
    expect(edited).toMatchObject({ ok: false, signature: { ok: false } });

    const stranger = generateKeyPairSync('ed25519').publicKey;
    const wrongKey = await check(first, stranger);
    expect(wrongKey.ok).toBe(false);
    expect(wrongKey.signature.reason).toMatch(
      /names key [0-9a-f]{64}, but the public key given is/,
    );
    // Checkpoints stored under the gateway's key say nothing about a stranger's key.
    expect(wrongKey.storedCheckpoints).toEqual({ matched: 0, skipped: 3, altered: [] });
    const lines = describeCheckpointVerification(wrongKey, 'the test');
    expect(lines[lines.length - 1]).toBe('FAILED: the checkpoint signature is not valid');
  });

  it('names the event changed by hand without recomputing the chain', async () => {
    const [orig] = await db.query('SELECT comment FROM audit_events WHERE id = 3');
    await db.query("UPDATE audit_events SET comment = '篡改' WHERE id = 3");
    try {
      const r = await check(first);
      expect(r).toMatchObject({
        ok: false,
        signature: { ok: true },
        covered: {
          ok: false,
          brokenAt: 3,
          checked: 2,
          reason: 'hash does not match the event content',
        },
        beyond: null,
      });
      const lines = describeCheckpointVerification(r, 'the test');
      expect(lines[lines.length - 1]).toBe(
        'FAILED: event 3: hash does not match the event content',
      );
    } finally {
      await db.query('UPDATE audit_events SET comment = ? WHERE id = 3', [orig.comment]);
    }
  });

  it('detects history rewritten with every later hash recomputed, which /audit/verify cannot', async () => {
    const L1 = first.statement.lastEventId;
    const restore = await rewriteHistory(3, '这条记录从未发生');
    try {
      expect(await verifyChain()).toMatchObject({ ok: true });
      const r = await check(parseCheckpointDocument(JSON.parse(readFileSync(firstFile, 'utf8'))));
      expect(r.ok).toBe(false);
      expect(r.signature.ok).toBe(true);
      expect(r.covered).toMatchObject({
        ok: false,
        checked: L1,
        rewrittenWithin: { from: 1, to: L1 },
        expected: first.statement.headHash,
      });
      expect(r.covered.found).not.toBe(first.statement.headHash);
      const lines = describeCheckpointVerification(r, 'the test');
      expect(lines[lines.length - 1]).toBe(`FAILED: history within events 1..${L1} was rewritten`);

      // A later checkpoint catches it as well; the earlier signed checkpoint kept in
      // the database narrows it down to the events before that one.
      const later = await check(second);
      expect(later.covered).toMatchObject({ ok: false, rewrittenWithin: { from: 1, to: L1 } });
    } finally {
      await restore();
    }
    expect((await check(first)).ok).toBe(true);
  });

  it('reports a rewrite after the checkpoint as a break beyond it, narrowed by a later signed checkpoint', async () => {
    const L1 = first.statement.lastEventId;
    const L2 = second.statement.lastEventId;
    // An event between the first checkpoint's own event and the second checkpoint.
    const target = L1 + 2;
    const restore = await rewriteHistory(target, '事后改写');
    try {
      expect(await verifyChain()).toMatchObject({ ok: true });
      const r = await check(first);
      expect(r).toMatchObject({
        ok: false,
        covered: { ok: true, checked: L1 },
        beyond: { ok: false, rewrittenWithin: { from: L1 + 1, to: L2 } },
      });
      const lines = describeCheckpointVerification(r, 'the test');
      expect(lines[lines.length - 1]).toBe(
        `FAILED: history within events ${L1 + 1}..${L2} was rewritten`,
      );
    } finally {
      await restore();
    }
  });

  it('notices a stored checkpoint altered to match and a wrong chain head', async () => {
    await db.query('UPDATE audit_checkpoints SET headHash = ? WHERE id = 2', ['a'.repeat(64)]);
    try {
      const r = await check(first);
      expect(r).toMatchObject({
        ok: false,
        covered: { ok: true },
        beyond: { ok: true },
        storedCheckpoints: { matched: 2, altered: [2] },
      });
      const lines = describeCheckpointVerification(r, 'the test');
      expect(lines[lines.length - 1]).toBe('FAILED: stored checkpoint 2 was altered');
    } finally {
      await db.query('UPDATE audit_checkpoints SET headHash = ? WHERE id = 2', [
        second.statement.headHash,
      ]);
    }

    const [head] = await db.query(
      'SELECT lastEventId, headHash FROM audit_chain_head WHERE id = 1',
    );
    await db.query('UPDATE audit_chain_head SET headHash = ? WHERE id = 1', ['b'.repeat(64)]);
    try {
      const r = await check(first);
      expect(r).toMatchObject({
        ok: false,
        covered: { ok: true },
        beyond: {
          ok: false,
          brokenAt: Number(head.lastEventId),
          reason: 'the chain head does not match the last event',
        },
      });
    } finally {
      await db.query('UPDATE audit_chain_head SET headHash = ? WHERE id = 1', [head.headHash]);
    }
    expect((await check(first)).ok).toBe(true);
  });

  it('lets only auditors and propaganda reviewers near the checkpoints', async () => {
    for (const token of [editor.token, t.adminToken]) {
      const list = await request(t.http).get('/api/v1/audit/checkpoints').set(bearer(token));
      const create = await request(t.http).post('/api/v1/audit/checkpoints').set(bearer(token));
      const key = await request(t.http).get('/api/v1/audit/public-key').set(bearer(token));
      expect([list.status, create.status, key.status]).toEqual([403, 403, 403]);
      expect(create.body.code).toBe('FORBIDDEN');
    }
    expect((await request(t.http).get('/api/v1/audit/public-key')).status).toBe(401);
  });

  it('signs a consistent head while changes and other checkpoints run concurrently', async () => {
    const results = await Promise.all([
      ...Array.from({ length: 8 }, (_, i) =>
        request(t.http)
          .post('/api/v1/audit/checkpoints')
          .set(bearer(i % 2 ? auditor.token : prop.token)),
      ),
      ...Array.from({ length: 16 }, (_, i) =>
        request(t.http)
          .patch(`/api/v1/departments/${departmentId}`)
          .set(bearer(t.adminToken))
          .send({ name: `并发 ${i}` }),
      ),
    ]);
    expect(results.map((r) => r.status)).toEqual([...Array(8).fill(201), ...Array(16).fill(200)]);
    expect(await verifyChain()).toMatchObject({ ok: true });
    const taken = results.slice(0, 8).map((r) => r.body as CheckpointBody);
    expect(new Set(taken.map((c) => c.statement.lastEventId)).size).toBe(8);
    for (const c of taken) {
      const r = await check(c);
      expect(r).toMatchObject({ ok: true, covered: { checked: c.statement.lastEventId } });
      // Its own event is the one right after the head it signed.
      const [own] = await db.query('SELECT action, entityId FROM audit_events WHERE id = ?', [
        c.statement.lastEventId + 1,
      ]);
      expect(own).toEqual({ action: 'audit.checkpoint_created', entityId: String(c.id) });
    }
  });

  // Last: it deletes events for good.
  it('detects a chain cut back below the checkpoint with the head rewound', async () => {
    const L1 = first.statement.lastEventId;
    const kept = L1 - 2;
    const [row] = await db.query('SELECT hash FROM audit_events WHERE id = ?', [kept]);
    await db.query('DELETE FROM audit_events WHERE id > ?', [kept]);
    await db.query('DELETE FROM audit_checkpoints');
    await db.query('UPDATE audit_chain_head SET lastEventId = ?, headHash = ? WHERE id = 1', [
      kept,
      row.hash,
    ]);
    expect(await verifyChain()).toMatchObject({ ok: true, checked: kept });
    const r = await check(first);
    expect(r).toMatchObject({
      ok: false,
      covered: { ok: false, brokenAt: kept + 1, reason: `event ${kept + 1} is missing` },
    });
  });
});

describe('periodic audit checkpoints', () => {
  let t: TestApp;
  let auditor: string;
  let departmentId: string;

  beforeAll(async () => {
    t = await startApp({ AUDIT_CHECKPOINT_INTERVAL_SECONDS: '1' });
    const org = new Org(t);
    const d = await org.department();
    departmentId = d.id;
    auditor = (await org.user([Role.AUDITOR], d.id)).token;
  });
  afterAll(() => t.close());

  const list = async (): Promise<CheckpointBody[]> =>
    (await request(t.http).get('/api/v1/audit/checkpoints').set(bearer(auditor))).body.items;
  const until = async <T>(probe: () => Promise<T>, done: (v: T) => boolean): Promise<T> => {
    for (let i = 0; i < 50; i++) {
      const v = await probe();
      if (done(v)) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('timed out');
  };

  it('signs the chain every interval, and only when something happened since', async () => {
    const [p] = await until(list, (items) => items.length >= 1);
    expect(p.reason).toBe('periodic');
    // One more interval for whatever the set-up appended (sign-ins) to be signed too.
    await new Promise((r) => setTimeout(r, 1300));
    const head = await request(t.http).get('/api/v1/audit/verify').set(bearer(auditor));
    const settled = (await list()).length;
    // Two more intervals with nothing but the checkpoint's own event: nothing new to sign.
    await new Promise((r) => setTimeout(r, 2300));
    const idle = await list();
    expect(idle.length).toBe(settled);
    expect(idle[0].statement.lastEventId + 1).toBe(
      (await request(t.http).get('/api/v1/audit/verify').set(bearer(auditor))).body.checked,
    );
    expect(head.body.ok).toBe(true);

    await request(t.http)
      .patch(`/api/v1/departments/${departmentId}`)
      .set(bearer(t.adminToken))
      .send({ name: '新名称' })
      .expect(200);
    const after = await until(list, (items) => items.length > settled);
    expect(after[0]).toMatchObject({ reason: 'periodic' });
    const [own] = await t.app
      .get(DataSource)
      .query('SELECT actorId, actorRole, action FROM audit_events WHERE id = ?', [
        after[0].statement.lastEventId + 1,
      ]);
    expect(own).toEqual({ actorId: null, actorRole: 'system', action: 'audit.checkpoint_created' });
  });

  it('takes the interval from AUDIT_CHECKPOINT_INTERVAL_SECONDS; 0 turns it off', () => {
    expect(parseEnvironment({}).AUDIT_CHECKPOINT_INTERVAL_SECONDS).toBe(3600);
    expect(parseEnvironment({ AUDIT_CHECKPOINT_INTERVAL_SECONDS: '0' })).toMatchObject({
      AUDIT_CHECKPOINT_INTERVAL_SECONDS: 0,
    });
    for (const bad of ['-1', 'hourly', '99999999']) {
      expect(() => parseEnvironment({ AUDIT_CHECKPOINT_INTERVAL_SECONDS: bad })).toThrow(
        ConfigError,
      );
    }
  });
});
