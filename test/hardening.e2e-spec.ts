import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { Role } from 'src/common/roles';
import { bearer, login, Org, PASSWORD, startApp, TestApp, unique } from 'test/harness';
import { buildCampus, Campus, expectOk, Flow } from 'test/workflow';

/** A local HTTP server that only counts what reaches it. */
async function countingServer(): Promise<{ url: string; hits: () => number; close(): void }> {
  let hits = 0;
  const server: Server = createServer((_req, res) => {
    hits++;
    res.writeHead(500).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, hits: () => hits, close: () => server.close() };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('hardening', () => {
  let t: TestApp;
  let c: Campus;
  let flow: Flow;

  beforeAll(async () => {
    t = await startApp({ PUBLISH_POLL_MS: '200' });
    c = await buildCampus(t);
    flow = new Flow(t);
  });
  afterAll(() => t.close());

  const admin = () => bearer(t.adminToken);

  describe('credentials follow their endpoint', () => {
    it('refuses a WeChat baseUrl change without credentials (422), and the secret never reaches the new address', async () => {
      const newHost = await countingServer();
      try {
        const ch = await new Org(t).channel(c.school.id, {
          platform: 'wechat_mp',
          config: { baseUrl: 'http://127.0.0.1:9' },
          credentials: { appId: 'wx-app', appSecret: 'the-stored-secret' },
        });
        const refused = await request(t.http)
          .patch(`/api/v1/channels/${ch.id}`)
          .set(admin())
          .send({ config: { baseUrl: newHost.url } });
        expect(refused.status).toBe(422);
        expect(refused.body.code).toBe('CREDENTIALS_REQUIRED');
        const now = await request(t.http).get(`/api/v1/channels/${ch.id}`).set(admin());
        expect(now.body.config.baseUrl).toBe('http://127.0.0.1:9');

        // A post approved to it afterwards is attempted at the old address only.
        const p = await flow.approved(c, [ch.id]);
        expect(p.state).toBe('approved');
        await sleep(1500);
        expect(newHost.hits()).toBe(0);

        // With credentials in the same request the move is allowed, and audited.
        const moved = await request(t.http)
          .patch(`/api/v1/channels/${ch.id}`)
          .set(admin())
          .send({
            config: { baseUrl: newHost.url },
            credentials: { appId: 'wx-app', appSecret: 'a-new-secret' },
          });
        expect(moved.status).toBe(200);
        const events = await request(t.http)
          .get(`/api/v1/audit/events?entityId=${ch.id}&action=channel.credentials_changed`)
          .set(bearer(c.people.auditor.token));
        expect(events.body.items[0].details).toMatchObject({
          endpointChanged: ['config.baseUrl'],
        });
        expect(JSON.stringify(events.body.items)).not.toContain('secret"');
      } finally {
        newHost.close();
      }
    });

    it('a webhook url change needs credentials and never keeps the old signing secret', async () => {
      const ch = await new Org(t).channel(c.school.id, {
        platform: 'webhook',
        config: { url: 'https://old.example.edu.cn/hook' },
      });
      const refused = await request(t.http)
        .patch(`/api/v1/channels/${ch.id}`)
        .set(admin())
        .send({ config: { url: 'https://new.example.edu.cn/hook' } });
      expect(refused.status).toBe(422);
      expect(refused.body.code).toBe('CREDENTIALS_REQUIRED');
      const moved = await request(t.http)
        .patch(`/api/v1/channels/${ch.id}`)
        .set(admin())
        .send({ config: { url: 'https://new.example.edu.cn/hook' }, credentials: {} });
      expect(moved.status).toBe(200);
      expect(moved.body.generatedSecret).toMatch(/^whsec_/);
      expect(moved.body.generatedSecret).not.toBe(ch.generatedSecret);
      // Other config changes need nothing.
      const renamed = await request(t.http)
        .patch(`/api/v1/channels/${ch.id}`)
        .set(admin())
        .send({ name: unique('改名'), config: { url: 'https://new.example.edu.cn/hook/' } });
      expect(renamed.status).toBe(200);
    });
  });

  describe('cheap requests', () => {
    it('refuses 100,000 channelIds in well under a second while /health answers', async () => {
      const channelIds = Array.from({ length: 100_000 }, (_, i) => `ch-${i}`);
      const body = JSON.stringify({ title: 't', body: '<p>x</p>', channelIds });
      let healthOk = 0;
      let polling = true;
      const poll = (async () => {
        while (polling) {
          const h = await request(t.http).get('/health');
          if (h.status < 500) healthOk++;
          await sleep(20);
        }
      })();
      const started = Date.now();
      const res = await request(t.http)
        .post('/api/v1/posts')
        .set(bearer(c.people.editor.token))
        .set('Content-Type', 'application/json')
        .send(body);
      const took = Date.now() - started;
      await sleep(50);
      polling = false;
      await poll;
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('JSON_TOO_COMPLEX');
      expect(took).toBeLessThan(1000);
      expect(healthOk).toBeGreaterThan(0);
    });

    it('refuses 10,000-deep JSON with 400 JSON_TOO_DEEP, signed in or not', async () => {
      const deep = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
      for (const path of ['/api/v1/auth/login', '/api/v1/posts']) {
        const res = await request(t.http)
          .post(path)
          .set(bearer(c.people.editor.token))
          .set('Content-Type', 'application/json')
          .send(`{"title":"t","x":${deep}}`);
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('JSON_TOO_DEEP');
      }
      const arrays = '['.repeat(40) + ']'.repeat(40);
      const res = await request(t.http)
        .post('/api/v1/departments')
        .set(admin())
        .set('Content-Type', 'application/json')
        .send(arrays);
      expect(res.status).toBe(400);
    });

    it.each(['2026-W10', '2027-100', '20271201', '2026-02-30', '2026-13-01', '2026-01-01T25:00'])(
      'refuses the date form %s in a body and as a list filter with 400',
      async (odd) => {
        const body = await request(t.http)
          .post('/api/v1/posts')
          .set(bearer(c.people.editor.token))
          .send({
            title: 't',
            body: '<p>x</p>',
            channelIds: [c.channels.schoolSite.id],
            publishAt: odd,
          });
        expect(body.status).toBe(400);
        for (const q of [
          `/api/v1/posts?createdFrom=${odd}`,
          `/api/v1/audit/events?from=${odd}`,
          `/api/v1/publications?to=${odd}`,
        ]) {
          const res = await request(t.http).get(q).set(bearer(c.people.auditor.token));
          expect([q, res.status]).toEqual([q, 400]);
        }
      },
    );

    it('accepts the calendar forms', async () => {
      for (const ok of [
        '2030-01-02',
        '2030-01-02T08:00',
        '2030-01-02T08:00:05Z',
        '2030-01-02T08:00:05.123+08:00',
      ]) {
        const res = await request(t.http)
          .get(`/api/v1/posts?createdFrom=${encodeURIComponent(ok)}`)
          .set(bearer(c.people.auditor.token));
        expect([ok, res.status]).toEqual([ok, 200]);
      }
    });

    it('refuses page=1e300, pageSize beyond the bound and a huge cursor with 400', async () => {
      for (const q of [
        '/api/v1/posts?page=1e300',
        '/api/v1/posts?page=10001',
        '/api/v1/users?pageSize=201',
        '/api/v1/channels?page=-1',
        '/api/v1/audit/events?cursor=1e300',
      ]) {
        const res = await request(t.http).get(q).set(admin());
        // The audit list needs an auditor; the admin's 403 is fine too, never 5xx.
        const who = q.includes('audit') ? bearer(c.people.auditor.token) : admin();
        const again = await request(t.http).get(q).set(who);
        expect([q, again.status]).toEqual([q, 400]);
        expect(res.status).toBeLessThan(500);
      }
    });

    it('answers a gzip body that is not gzip with 400, and an unknown encoding with 415', async () => {
      const bad = await request(t.http)
        .post('/api/v1/auth/login')
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', 'gzip')
        .serialize((b: unknown) => b as string)
        .send(Buffer.from('this is not gzip at all'));
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('MALFORMED_BODY');
      const good = await request(t.http)
        .post('/api/v1/auth/login')
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', 'gzip')
        .serialize((b: unknown) => b as string)
        .send(gzipSync(JSON.stringify({ username: 'root', password: PASSWORD })));
      expect(good.status).toBe(200);
      const unknown = await request(t.http)
        .post('/api/v1/auth/login')
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', 'x-weird')
        .send('{}');
      expect(unknown.status).toBe(415);
    });

    it('refuses non-string credentials with 400, not 500', async () => {
      const res = await request(t.http)
        .post('/api/v1/auth/login')
        .send({ username: 42, password: ['x'] });
      expect(res.status).toBe(400);
    });
  });

  describe('departments and roles', () => {
    it("refuses retargeting an old draft to the author's new department; the old head still reviews it", async () => {
      const org = new Org(t);
      const mover = await org.user([Role.EDITOR], c.school.id);
      const draft = await flow.create(mover, [c.channels.schoolSite.id]);
      expectOk(
        await request(t.http)
          .patch(`/api/v1/users/${mover.id}`)
          .set(admin())
          .send({ departmentId: c.otherSchool.id }),
      );
      const token = await login(t.http, mover.username);
      const moved = { ...mover, token, departmentId: c.otherSchool.id };
      const retarget = await request(t.http)
        .patch(`/api/v1/posts/${draft.id}`)
        .set(bearer(token))
        .send({ channelIds: [c.channels.otherSite.id] });
      expect(retarget.status).toBe(403);
      expect(retarget.body.code).toBe('CHANNEL_NOT_ALLOWED');
      // Written for the school, it stays there: submitted, the school's head reviews it.
      expectOk(await flow.submit(moved, draft));
      expect((await flow.get(c.people.otherHead, draft.id)).status).toBe(404);
      expectOk(await flow.approve(c.people.head, draft));
      const after = await flow.get(moved, draft.id);
      expect(after.body.state).toBe('pending_final_review');
      expect(after.body.currentRevision.channelIds).toEqual([c.channels.schoolSite.id]);
    });

    it('refuses an admin changing its own roles; a reviewer grant to another is audited with the grantor', async () => {
      const me = await request(t.http).get('/api/v1/auth/me').set(admin());
      const myId = (me.body.id ?? me.body.user?.id) as string;
      const self = await request(t.http)
        .patch(`/api/v1/users/${myId}`)
        .set(admin())
        .send({ roles: [Role.ADMIN, Role.PROPAGANDA_REVIEWER] });
      expect(self.status).toBe(403);
      expect(self.body.code).toBe('SELF_ROLE_CHANGE');
      expect((await request(t.http).get(`/api/v1/users/${myId}`).set(admin())).body.roles).toEqual([
        Role.ADMIN,
      ]);
      const deactivate = await request(t.http).delete(`/api/v1/users/${myId}`).set(admin());
      expect(deactivate.status).toBe(422);

      const other = await new Org(t).user([Role.EDITOR], c.school.id);
      expectOk(
        await request(t.http)
          .patch(`/api/v1/users/${other.id}`)
          .set(admin())
          .send({ roles: [Role.EDITOR, Role.DEPT_REVIEWER] }),
      );
      const events = await request(t.http)
        .get(`/api/v1/audit/events?entityId=${other.id}&action=user.reviewer_role_granted`)
        .set(bearer(c.people.auditor.token));
      expect(events.body.items).toHaveLength(1);
      expect(events.body.items[0].details).toEqual({
        roles: [Role.DEPT_REVIEWER],
        grantedBy: myId,
      });
      expect(events.body.items[0].actorId ?? events.body.items[0].actor?.id).toBe(myId);
    });
  });
});

describe('login throttle', () => {
  const wrong = (t: TestApp, username: string) =>
    request(t.http).post('/api/v1/auth/login').send({ username, password: 'wrong-password-1' });

  it('of 40 concurrent wrong passwords for one user, at most the limit are evaluated; the rest are 429', async () => {
    const t = await startApp({ LOGIN_MAX_FAILURES_PER_IP: '1000' });
    try {
      const org = new Org(t);
      const dept = await org.department();
      const u = await org.user([Role.EDITOR], dept.id);
      const all = await Promise.all(Array.from({ length: 40 }, () => wrong(t, u.username)));
      const evaluated = all.filter((r) => r.status === 401).length;
      const throttled = all.filter((r) => r.status === 429);
      expect(evaluated).toBeLessThanOrEqual(t.config.login.maxPerUser);
      expect(evaluated + throttled.length).toBe(40);
      expect(Number(throttled[0].headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await t.close();
    }
  });

  (process.env.TEST_REDIS_URL ? it : it.skip)(
    'two API processes sharing Redis share the limit',
    async () => {
      const env = { LOGIN_MAX_FAILURES_PER_IP: '1000', QUEUE_PREFIX: unique('thr') };
      const a = await startApp(env, { admin: false });
      const b = await startApp(env, { admin: false });
      try {
        const name = unique('shared');
        const all = await Promise.all(
          Array.from({ length: 20 }, (_, i) => wrong(i % 2 ? a : b, name)),
        );
        expect(all.filter((r) => r.status >= 500)).toHaveLength(0);
        expect(all.filter((r) => r.status === 401).length).toBeLessThanOrEqual(
          a.config.login.maxPerUser,
        );
      } finally {
        await a.close();
        await b.close();
      }
    },
  );
});
