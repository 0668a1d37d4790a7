import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { ATTESTED } from 'test/workflow';
import { startReceiver, waitFor } from 'test/fakes/webhook-receiver';
import { freePort, GatewayProcess } from 'test/support/gateway-process';

/**
 * Faults a single process cannot simulate: the gateway killed mid-delivery, and
 * Redis gone during an approval. The gateway runs as its own process here, and
 * Redis (where used) is a server of the test's own on a spare port. In the slow project: each
 * test starts gateway processes and waits out leases.
 */
const PASSWORD = 'demo-password-faults';

async function signIn(url: string, username: string): Promise<string> {
  const res = await request(url).post('/api/v1/auth/login').send({ username, password: PASSWORD });
  if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${res.text}`);
  return `Bearer ${res.body.accessToken}`;
}

/** Demo organisation (seeded by the gateway itself): a webhook channel, then a post through all three reviews. */
async function approvePostTo(url: string, hookUrl: string) {
  const [admin, editor, head, prop] = await Promise.all(
    ['admin', 'editor', 'dept_head', 'propaganda'].map((u) => signIn(url, u)),
  );
  const depts = await request(url).get('/api/v1/departments?q=CS').set('Authorization', admin);
  const cs = depts.body.items[0].id as string;
  const ch = await request(url)
    .post('/api/v1/channels')
    .set('Authorization', admin)
    .send({
      name: '故障测试推送',
      platform: 'webhook',
      departmentId: cs,
      config: { url: hookUrl },
    });
  const post = await request(url)
    .post('/api/v1/posts')
    .set('Authorization', editor)
    .send({ title: '故障演练', body: '<p>正文</p>', channelIds: [ch.body.id] });
  const rev = post.body.currentRevision.id as string;
  const id = post.body.id as string;
  for (const [who, action, body] of [
    [editor, 'submit', { revisionId: rev, attestation: ATTESTED }],
    [head, 'approve', { revisionId: rev }],
    [prop, 'approve', { revisionId: rev }],
  ] as const) {
    const res = await request(url)
      .post(`/api/v1/posts/${id}/${action}`)
      .set('Authorization', who)
      .send(body);
    if (res.status !== 200) throw new Error(`${action}: ${res.status} ${res.text}`);
  }
  return { id, auditor: await signIn(url, 'auditor') };
}

describe('publishing survives faults', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'sanshen-fault-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const baseEnv = () => ({
    DATA_DIR: dataDir,
    SEED_DEMO_PASSWORD: PASSWORD,
    PUBLISH_POLL_MS: '100',
    PUBLISH_BACKOFF_MS: '200',
    PUBLISH_LEASE_SECONDS: '2',
    PUBLISH_TIMEOUT_MS: '30000',
  });

  it('a gateway killed while a delivery is in flight completes it after restart, with the same delivery id', async () => {
    const rx = await startReceiver({ hang: 1 });
    const gw = new GatewayProcess(await freePort(), baseEnv());
    try {
      await gw.start();
      const { id, auditor } = await approvePostTo(gw.url, rx.url);
      await waitFor('first delivery in flight', () => rx.deliveries.length === 1);
      await gw.kill();
      await gw.start();
      await waitFor(
        'published after restart',
        async () =>
          (
            await request(gw.url)
              .get(`/api/v1/posts/${id}`)
              .set('Authorization', auditor)
              .timeout(5000)
          ).body.state === 'published',
        30_000,
      );
      const ids = new Set(rx.deliveries.map((d) => d.headers['webhook-id']));
      expect(rx.deliveries.length).toBeGreaterThanOrEqual(2);
      expect(ids.size).toBe(1);
      const verify = await request(gw.url)
        .get('/api/v1/audit/verify')
        .set('Authorization', auditor);
      expect(verify.body.ok).toBe(true);
    } finally {
      await gw.stop();
      await rx.close();
    }
  }, 120_000);

  const redisTest = process.env.TEST_REDIS_URL ? it : it.skip;
  redisTest(
    'with Redis stopped, an approval still succeeds, and the delivery happens once Redis is back',
    async () => {
      const redisPort = await freePort();
      const startRedis = (): ChildProcess =>
        spawn(
          'redis-server',
          ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
          {
            stdio: 'ignore',
          },
        );
      let redis = startRedis();
      const rx = await startReceiver();
      const gw = new GatewayProcess(await freePort(), {
        ...baseEnv(),
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        QUEUE_PREFIX: 'fault',
      });
      try {
        await waitFor(
          'redis up',
          () =>
            new Promise<boolean>((r) => {
              const probe = spawn('redis-cli', ['-p', String(redisPort), 'ping'], {
                stdio: 'ignore',
              });
              probe.on('exit', (code) => r(code === 0));
            }),
        );
        await gw.start();
        redis.kill('SIGKILL');
        await new Promise((r) => redis.once('exit', r));
        const { id, auditor } = await approvePostTo(gw.url, rx.url);
        const post = await request(gw.url).get(`/api/v1/posts/${id}`).set('Authorization', auditor);
        expect(post.body.state).toBe('approved');
        expect((await request(gw.url).get('/health')).status).toBe(503);
        await new Promise((r) => setTimeout(r, 1000));
        expect(rx.deliveries).toHaveLength(0);
        redis = startRedis();
        await waitFor(
          'delivered after Redis returns',
          async () =>
            (await request(gw.url).get(`/api/v1/posts/${id}`).set('Authorization', auditor)).body
              .state === 'published',
          60_000,
        );
        expect(rx.deliveries).toHaveLength(1);
      } finally {
        await gw.stop();
        redis.kill('SIGKILL');
        await rx.close();
      }
    },
    120_000,
  );
});
