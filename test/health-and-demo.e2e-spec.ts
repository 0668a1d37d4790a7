import request from 'supertest';
import { DataSource } from 'typeorm';
import { DEMO_USERS, DemoSeedService } from 'src/demo/demo-seed.service';
import { bearer, login, startApp, TestApp, USING_MYSQL } from 'test/harness';

describe('health', () => {
  it('is 200 with the database up, and 503 naming it when it is down', async () => {
    const t = await startApp();
    try {
      const ok = await request(t.http).get('/health');
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({
        status: 'ok',
        database: { status: 'up', type: USING_MYSQL ? 'mysql' : 'sqlite' },
      });
      if (process.env.TEST_REDIS_URL) expect(ok.body.redis.status).toBe('up');
      await t.app.get(DataSource).destroy();
      const down = await request(t.http).get('/health');
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ status: 'error', database: { status: 'down' } });
      await t.app.get(DataSource).initialize();
      expect((await request(t.http).get('/health')).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('is 503 when the configured Redis does not answer', async () => {
    const t = await startApp({ REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const res = await request(t.http).get('/health');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({
        status: 'error',
        database: { status: 'up' },
        redis: { status: 'down' },
      });
    } finally {
      await t.close();
    }
  });
});

describe('demo data', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ SEED_DEMO_PASSWORD: 'demo-password-1' }, { admin: false });
  });
  afterAll(() => t.close());

  if (USING_MYSQL) {
    it('never reaches a MySQL database', async () => {
      expect(await t.app.get(DemoSeedService).seedIfEmpty()).toBeNull();
      const [{ n }] = await t.app.get(DataSource).query('SELECT COUNT(*) AS n FROM users');
      expect(Number(n)).toBe(0);
    });
  } else {
    it('seeds an empty embedded database once; every demo user signs in with SEED_DEMO_PASSWORD', async () => {
      const seeded = await t.app.get(DemoSeedService).seedIfEmpty();
      expect(seeded).toEqual({ password: 'demo-password-1', generated: false });
      expect(await t.app.get(DemoSeedService).seedIfEmpty()).toBeNull();
      const tokens: Record<string, string> = {};
      for (const u of DEMO_USERS) tokens[u] = await login(t.http, u, 'demo-password-1');
      const depts = await request(t.http).get('/api/v1/departments').set(bearer(tokens.admin));
      expect(depts.body.items.map((d: { name: string }) => d.name)).toEqual(
        expect.arrayContaining(['宣传部', '计算机学院', '学生工作处']),
      );
      expect(depts.body.items.find((d: { code: string }) => d.code === 'PROP').isPropaganda).toBe(
        true,
      );
      const channels = await request(t.http).get('/api/v1/channels').set(bearer(tokens.editor));
      expect(channels.body.total).toBeGreaterThanOrEqual(4);
      const verify = await request(t.http).get('/api/v1/audit/verify').set(bearer(tokens.auditor));
      expect(verify.body.ok).toBe(true);
      const me = await request(t.http).get('/api/v1/auth/me').set(bearer(tokens.dept_head));
      expect(me.body.roles).toEqual(['dept_reviewer']);
    });
  }
});
