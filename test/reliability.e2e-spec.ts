import { Logger } from '@nestjs/common';
import { createConnection } from 'mysql2/promise';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { UsersService } from 'src/modules/users/users.service';
import { Transactions } from 'src/database/transactions';
import { bearer, startApp, TestApp, USING_MYSQL } from 'test/harness';

/** What mysql2 rejects with when the server is gone. */
function refused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), {
    code: 'ECONNREFUSED',
    errno: -111,
  });
}

describe('a dependency outage is told as one (503, Retry-After), never 401 or 500', () => {
  let t: TestApp;
  beforeAll(async () => {
    // No session cache: every request looks its session up in the database.
    t = await startApp({ AUTH_SESSION_CACHE_MS: '0' });
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  it('a session lookup that cannot reach the database is 503, not a logout', async () => {
    jest.spyOn(t.app.get(UsersService), 'findById').mockRejectedValue(refused());
    const res = await request(t.http).get('/api/v1/departments').set(bearer(t.adminToken));
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('SERVICE_UNAVAILABLE');
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
  });

  it('a write whose transaction cannot reach the database is 503, logged once with the request id', async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(t.app.get(Transactions), 'run').mockRejectedValue(refused());
    const res = await request(t.http)
      .post('/api/v1/departments')
      .set(bearer(t.adminToken))
      .send({ name: '停电部', code: 'OUT1' });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', requestId: expect.any(String) });
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    const lines = logged.mock.calls.filter(([obj]) => JSON.stringify(obj).includes('ECONNREFUSED'));
    expect(lines).toHaveLength(1);
    expect(lines[0][0]).toMatchObject({ requestId: res.body.requestId });
  });

  it('a sign-in that cannot reach the database is 503, not 401', async () => {
    jest.spyOn(t.app.get(UsersService), 'findForSignIn').mockRejectedValue(refused());
    const res = await request(t.http)
      .post('/api/v1/auth/login')
      .send({ username: 'root', password: 'whatever-it-is' });
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
  });
});

const mysqlDescribe = USING_MYSQL ? describe : describe.skip;
if (!USING_MYSQL) {
  process.stdout.write('reliability (MySQL part) skipped: TEST_MYSQL_URL is not set\n');
}

mysqlDescribe('MySQL: a held audit chain head', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ DB_LOCK_WAIT_TIMEOUT_SECONDS: '1' });
  });
  afterAll(() => t.close());

  it('sets the short lock wait on every pooled session', async () => {
    const [row] = await t.app
      .get(DataSource)
      .query('SELECT @@SESSION.innodb_lock_wait_timeout AS w');
    expect(Number(row.w)).toBe(1);
    const ds = t.app.get(DataSource);
    // MySQL 8 names it transaction_isolation, MariaDB 10.11 tx_isolation.
    const [iso] = await ds
      .query('SELECT @@SESSION.transaction_isolation AS i')
      .catch(() => ds.query('SELECT @@SESSION.tx_isolation AS i'));
    expect(iso.i).toBe('READ-COMMITTED');
  });

  it('health reports the pool and the head; a held head is 503 naming its holder, and writes fail fast', async () => {
    const ok = await request(t.http).get('/health');
    expect(ok.status).toBe(200);
    expect(ok.body.database.pool).toMatchObject({
      inUse: expect.any(Number),
      waiting: 0,
      limit: 20,
    });
    expect(ok.body.database.chainHead).toEqual({ status: 'up' });

    const holder = await createConnection(process.env.TEST_MYSQL_URL!);
    try {
      const [[{ id }]] = (await holder.query('SELECT CONNECTION_ID() AS id')) as unknown as [
        [{ id: number }],
      ];
      await holder.query('START TRANSACTION');
      await holder.query('SELECT * FROM audit_chain_head WHERE id = 1 FOR UPDATE');

      const wedged = await request(t.http).get('/health');
      expect(wedged.status).toBe(503);
      expect(wedged.body.database.status).toBe('up');
      expect(wedged.body.database.chainHead.status).toBe('down');
      expect(wedged.body.database.chainHead.holders).toEqual(
        expect.arrayContaining([expect.objectContaining({ connectionId: Number(id) })]),
      );

      const t0 = Date.now();
      const write = await request(t.http)
        .post('/api/v1/departments')
        .set(bearer(t.adminToken))
        .send({ name: '锁住部', code: 'LOCK1' });
      expect(write.status).toBe(503);
      expect(write.body.code).toBe('SERVICE_UNAVAILABLE');
      expect(write.headers['retry-after']).toMatch(/^\d+$/);
      // One lock wait (1 s), no retry past the budget: nowhere near the 50 s default.
      expect(Date.now() - t0).toBeLessThan(4000);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }

    const list = await request(t.http).get('/api/v1/departments?q=LOCK1').set(bearer(t.adminToken));
    expect(list.body.total).toBe(0);
    expect((await request(t.http).get('/health')).status).toBe(200);
    const again = await request(t.http)
      .post('/api/v1/departments')
      .set(bearer(t.adminToken))
      .send({ name: '锁住部', code: 'LOCK1' });
    expect(again.status).toBe(201);
  });
});
