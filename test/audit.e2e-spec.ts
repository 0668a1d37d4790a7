import request from 'supertest';
import { DataSource } from 'typeorm';
import { Role } from 'src/common/roles';
import { bearer, Org, startApp, TestApp } from 'test/harness';

describe('the audit chain', () => {
  let t: TestApp;
  let org: Org;
  let auditor: string;
  let db: DataSource;

  beforeAll(async () => {
    t = await startApp();
    org = new Org(t);
    db = t.app.get(DataSource);
    const d = await org.department();
    auditor = (await org.user([Role.AUDITOR], d.id)).token;
  });
  afterAll(() => t.close());

  const verify = async () =>
    (await request(t.http).get('/api/v1/audit/verify').set(bearer(auditor))).body;

  it('verifies an untouched chain and reports its head', async () => {
    const res = await verify();
    expect(res).toEqual({
      ok: true,
      checked: expect.any(Number),
      headHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(res.checked).toBeGreaterThan(3);
  });

  it('keeps one unbroken chain under 50 concurrent administrative updates', async () => {
    const d = await org.department();
    const before = (await verify()).checked;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        request(t.http)
          .patch(`/api/v1/departments/${d.id}`)
          .set(bearer(t.adminToken))
          .send({ name: `并发改名 ${i}` }),
      ),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    const after = await verify();
    expect(after.ok).toBe(true);
    expect(after.checked).toBe(before + 50);
    const ids: number[] = (await db.query('SELECT id FROM audit_events ORDER BY id')).map(
      (r: { id: number | string }) => Number(r.id),
    );
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
  });

  it.each([
    ['comment', "'tampered'"],
    ['actorId', "'someone-else'"],
    ['action', "'department.created'"],
    ['createdAt', "'2020-01-01T00:00:00.000Z'"],
  ])('names the event whose %s was changed by hand', async (field, value) => {
    const target = 3;
    const [orig] = await db.query(`SELECT ${field} AS v FROM audit_events WHERE id = ?`, [target]);
    await db.query(`UPDATE audit_events SET ${field} = ${value} WHERE id = ?`, [target]);
    try {
      const res = await verify();
      expect(res).toMatchObject({ ok: false, brokenAt: target });
    } finally {
      await db.query(`UPDATE audit_events SET ${field} = ? WHERE id = ?`, [orig.v, target]);
    }
    expect((await verify()).ok).toBe(true);
  });

  it('detects a deleted event and a truncated tail', async () => {
    const [last] = await db.query('SELECT * FROM audit_events ORDER BY id DESC LIMIT 1');
    await db.query('DELETE FROM audit_events WHERE id = ?', [last.id]);
    const res = await verify();
    expect(res.ok).toBe(false);
    expect(res.brokenAt).toBe(Number(last.id));
  });

  it('detects an event written past the chain head', async () => {
    const [head] = await db.query(
      'SELECT lastEventId, headHash FROM audit_chain_head WHERE id = 1',
    );
    const next = Number(head.lastEventId) + 1;
    await db.query(
      "INSERT INTO audit_events (id, createdAt, action, entityType, prevHash, hash) VALUES (?, '2026-01-01T00:00:00.000Z', 'forged', 'x', ?, ?)",
      [next, head.headHash, 'f'.repeat(64)],
    );
    try {
      const res = await verify();
      expect(res).toMatchObject({ ok: false, brokenAt: next });
    } finally {
      await db.query('DELETE FROM audit_events WHERE id = ?', [next]);
    }
  });

  it('lets only auditors and propaganda reviewers read the log', async () => {
    const d = await org.department();
    const editor = await org.user([Role.EDITOR], d.id);
    const prop = await org.user([Role.PROPAGANDA_REVIEWER], d.id);
    expect(
      (await request(t.http).get('/api/v1/audit/events').set(bearer(editor.token))).status,
    ).toBe(403);
    expect(
      (await request(t.http).get('/api/v1/audit/verify').set(bearer(t.adminToken))).status,
    ).toBe(403);
    expect((await request(t.http).get('/api/v1/audit/events').set(bearer(prop.token))).status).toBe(
      200,
    );
  });

  it('filters and pages events with a cursor, newest first', async () => {
    const d = await org.department();
    for (let i = 0; i < 5; i++) {
      await request(t.http)
        .patch(`/api/v1/departments/${d.id}`)
        .set(bearer(t.adminToken))
        .send({ name: `名 ${i}` })
        .expect(200);
    }
    const seen: number[] = [];
    let cursor: number | null | undefined;
    do {
      const q = `/api/v1/audit/events?entityType=department&entityId=${d.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await request(t.http).get(q).set(bearer(auditor))).body;
      seen.push(...page.items.map((e: { id: number }) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(6);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);
    const future = await request(t.http)
      .get('/api/v1/audit/events?from=2999-01-01T00:00:00Z')
      .set(bearer(auditor));
    expect(future.body.items).toEqual([]);
    const bad = await request(t.http)
      .get('/api/v1/audit/events?from=yesterday')
      .set(bearer(auditor));
    expect(bad.status).toBe(400);
  });

  it('offers no way to change or delete an event', async () => {
    for (const method of ['patch', 'delete', 'put'] as const) {
      const res = await request(t.http)[method]('/api/v1/audit/events/1').set(bearer(auditor));
      expect(res.status).toBe(404);
    }
  });
});
