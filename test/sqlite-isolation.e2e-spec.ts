import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import request from 'supertest';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { Transactions } from 'src/database/transactions';
import { Department } from 'src/modules/departments/department.entity';
import { bearer, Org, startApp, TestApp, unique, USING_MYSQL } from './harness';

/**
 * Outside a transaction nobody sees another request's uncommitted rows. MySQL gives
 * this with one connection per transaction; the embedded SQLite has one writing
 * connection per process, so this checks the way reads are kept off it.
 */

const stillOpen = new Set<(outcome: 'commit' | 'rollback') => void>();
// A failed expectation must not leave the transaction queue blocked for the next test.
afterEach(() => {
  for (const finish of stillOpen) finish('rollback');
  stillOpen.clear();
});

/** A transaction held open, between two of its awaits, until `finish` is called. */
function openTransaction(tx: Transactions, work: (m: EntityManager) => Promise<void>) {
  let inside!: () => void;
  let finish!: (outcome: 'commit' | 'rollback') => void;
  const ready = new Promise<void>((r) => (inside = r));
  const decided = new Promise<'commit' | 'rollback'>((r) => (finish = r));
  const done = tx.run(async (m) => {
    await work(m);
    inside();
    if ((await decided) === 'rollback') throw new Error('rolled back on purpose');
  });
  done.catch(() => undefined);
  stillOpen.add(finish);
  return { ready, done, finish };
}

function newDepartment(code: string): Department {
  const now = new Date();
  return Object.assign(new Department(), {
    id: randomUUID(),
    name: `部门 ${code}`,
    code,
    isPropaganda: false,
    active: true,
    createdAt: now,
    updatedAt: now,
  });
}

describe('no uncommitted data outside a transaction', () => {
  let t: TestApp;
  let ds: DataSource;
  let tx: Transactions;

  beforeAll(async () => {
    t = await startApp();
    ds = t.app.get(DataSource);
    tx = t.app.get(Transactions);
  });
  afterAll(() => t.close());

  async function seenOverHttp(code: string) {
    const list = await request(t.http)
      .get('/api/v1/departments')
      .query({ q: code })
      .set(bearer(t.adminToken));
    expect(list.status).toBe(200);
    return (list.body.items as { code: string; name: string }[]).filter((d) => d.code === code);
  }

  it('an insert and an update become visible at commit, not before', async () => {
    const existing = await new Org(t).department();
    const d = newDepartment(unique('ISO'));
    const open = openTransaction(tx, async (m) => {
      await m.insert(Department, d);
      await m.update(Department, { id: existing.id }, { name: '改名未提交' });
    });
    await open.ready;

    expect(await ds.manager.findOneBy(Department, { id: d.id })).toBeNull();
    expect(await ds.getRepository(Department).countBy({ code: d.code })).toBe(0);
    expect(await ds.query('SELECT id FROM departments WHERE id = ?', [d.id])).toEqual([]);
    expect((await ds.manager.findOneByOrFail(Department, { id: existing.id })).name).toBe(
      existing.name,
    );
    expect(await seenOverHttp(d.code)).toEqual([]);
    const one = await request(t.http)
      .get(`/api/v1/departments/${existing.id}`)
      .set(bearer(t.adminToken));
    expect(one.body.name).toBe(existing.name);

    open.finish('commit');
    await open.done;

    expect(await ds.manager.findOneBy(Department, { id: d.id })).toMatchObject({ code: d.code });
    expect((await ds.manager.findOneByOrFail(Department, { id: existing.id })).name).toBe(
      '改名未提交',
    );
    expect(await seenOverHttp(d.code)).toHaveLength(1);
  });

  it('a rolled-back transaction is never visible', async () => {
    const d = newDepartment(unique('RB'));
    const open = openTransaction(tx, (m) => m.insert(Department, d).then(() => undefined));
    await open.ready;
    expect(await ds.manager.findOneBy(Department, { id: d.id })).toBeNull();
    expect(await seenOverHttp(d.code)).toEqual([]);

    open.finish('rollback');
    await expect(open.done).rejects.toThrow('rolled back on purpose');
    expect(await ds.manager.findOneBy(Department, { id: d.id })).toBeNull();
    expect(await seenOverHttp(d.code)).toEqual([]);
  });

  it('a write outside the transaction is not swallowed by its rollback', async () => {
    const inTx = newDepartment(unique('TX'));
    const outside = newDepartment(unique('OUT'));
    const open = openTransaction(tx, (m) => m.insert(Department, inTx).then(() => undefined));
    await open.ready;
    // On SQLite this waits for the open transaction; it must not join it.
    const written = ds.manager.insert(Department, outside);
    open.finish('rollback');
    await expect(open.done).rejects.toThrow('rolled back on purpose');
    await written;
    expect(await ds.manager.findOneBy(Department, { id: inTx.id })).toBeNull();
    expect(await ds.manager.findOneBy(Department, { id: outside.id })).toMatchObject({
      code: outside.code,
    });
  });

  it('an HTTP write during an open transaction still commits on its own', async () => {
    const inTx = newDepartment(unique('TX'));
    const open = openTransaction(tx, (m) => m.insert(Department, inTx).then(() => undefined));
    await open.ready;
    const code = unique('HTTP').toUpperCase(); // the API stores codes in upper case
    const created = request(t.http)
      .post('/api/v1/departments')
      .set(bearer(t.adminToken))
      .send({ name: `部门 ${code}`, code })
      .then((r) => r);
    open.finish('rollback');
    await expect(open.done).rejects.toThrow('rolled back on purpose');
    expect((await created).status).toBe(201);
    expect(await seenOverHttp(code)).toHaveLength(1);
    expect(await seenOverHttp(inTx.code)).toEqual([]);
  });
});

(USING_MYSQL ? describe.skip : describe)('in-memory SQLite (no second connection possible)', () => {
  let t: TestApp;
  let ds: DataSource;
  let tx: Transactions;

  beforeAll(async () => {
    t = await startApp({ DATABASE_URL: 'sqlite::memory:' });
    ds = t.app.get(DataSource);
    tx = t.app.get(Transactions);
  });
  afterAll(() => t.close());

  it('a read outside waits for the open transaction instead of seeing it', async () => {
    const d = newDepartment(unique('MEM'));
    const open = openTransaction(tx, (m) => m.insert(Department, d).then(() => undefined));
    await open.ready;
    let settled = false;
    const read = ds.manager.findOneBy(Department, { id: d.id }).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);

    open.finish('commit');
    await open.done;
    expect(await read).toMatchObject({ code: d.code });
  });
});

(USING_MYSQL ? describe.skip : describe)('SQLite file: the second connection', () => {
  /** This process's open descriptors on the database file itself (not -wal or -shm). */
  const handlesOn = (file: string) =>
    readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === file;
      } catch {
        return false;
      }
    }).length;

  (existsSync('/proc/self/fd') ? it : it.skip)(
    'is open while the app runs and closed by app.close()',
    async () => {
      const t = await startApp({}, { admin: false });
      const file = t.config.database.type === 'sqlite' ? t.config.database.path : '';
      expect(handlesOn(file)).toBe(2);
      await t.close();
      expect(handlesOn(file)).toBe(0);
    },
  );

  it('a write outside the transaction from inside it fails as SQLITE_BUSY instead of hanging', async () => {
    const t = await startApp({}, { admin: false });
    try {
      const ds = t.app.get(DataSource);
      const stuck = t.app.get(Transactions).run(async (m) => {
        await m.insert(Department, newDepartment(unique('IN')));
        // Wrong on purpose: not through `m`, so it cannot run until this transaction ends.
        await ds.manager.insert(Department, newDepartment(unique('OUT')));
      });
      const err: unknown = await stuck.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QueryFailedError);
      expect((err as { driverError?: { code?: string } }).driverError?.code).toBe('SQLITE_BUSY');
      expect(await ds.manager.count(Department)).toBe(0);
    } finally {
      await t.close();
    }
  }, 20_000);
});
