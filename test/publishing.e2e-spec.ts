import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { bearer, startApp, TestApp } from 'test/harness';
import { startReceiver, waitFor } from 'test/fakes/webhook-receiver';
import { PostOptions } from 'test/support/builders';
import { buildCampus, Campus, Flow } from 'test/workflow';

describe('publishing', () => {
  let t: TestApp;
  let c: Campus;
  let flow: Flow;

  beforeAll(async () => {
    t = await startApp({
      PUBLISH_POLL_MS: '50',
      PUBLISH_BACKOFF_MS: '100',
      PUBLISH_MAX_ATTEMPTS: '3',
      PUBLISH_TIMEOUT_MS: '2000',
      PUBLIC_BASE_URL: 'http://gateway.test',
    });
    c = await buildCampus(t);
    flow = new Flow(t);
  });
  afterAll(() => t.close());

  async function webhookChannel(url: string) {
    const ch = await c.b.channel({
      departmentId: c.school.id,
      platform: 'webhook',
      config: { url },
    });
    return { ...ch, secret: ch.generatedSecret! };
  }

  /** Through the three reviews, by the services: what the publisher then does is the test. */
  const approve = (channelIds: string[], overrides: PostOptions = {}) =>
    flow.at(c, 'approved', { ...overrides, channelIds });

  const post = async (id: string) => (await flow.get(c.people.auditor, id)).body;
  const publications = async (query: string) =>
    (await request(t.http).get(`/api/v1/publications?${query}`).set(bearer(c.people.prop.token)))
      .body;

  it('delivers the approved revision, signed so a Standard Webhooks receiver accepts it; the post becomes published', async () => {
    const rx = await startReceiver();
    try {
      const ch = await webhookChannel(rx.url);
      const p = await approve([ch.id], { body: '<p>运动会<strong>圆满</strong>结束</p>' });
      await waitFor('delivery', () => rx.deliveries.length > 0);
      const d = rx.deliveries[0];
      const verified = new Webhook(ch.secret).verify(d.body, {
        'webhook-id': String(d.headers['webhook-id']),
        'webhook-timestamp': String(d.headers['webhook-timestamp']),
        'webhook-signature': String(d.headers['webhook-signature']),
      }) as { type: string; data: Record<string, unknown> };
      expect(verified.type).toBe('post.published');
      expect(d.headers['x-sanshen-event']).toBe('post.published');
      expect(verified.data).toMatchObject({
        postId: p.id,
        contentHash: p.currentRevision.contentHash,
        revisionNumber: 1,
        body: p.currentRevision.body,
        title: p.currentRevision.title,
        channel: { id: ch.id, name: ch.name },
      });
      const done = await waitFor('published', async () =>
        (await post(p.id)).state === 'published' ? post(p.id) : false,
      );
      expect(done.publications[0]).toMatchObject({
        status: 'published',
        externalId: 'ext-1',
        url: 'https://news.example.edu.cn/1',
      });
      const forged = { ...d.headers, 'webhook-signature': 'v1,AAAA' };
      expect(() =>
        new Webhook(ch.secret).verify(d.body, forged as unknown as Record<string, string>),
      ).toThrow();
      const history = (
        await request(t.http)
          .get(`/api/v1/posts/${p.id}/history`)
          .set(bearer(c.people.auditor.token))
      ).body;
      expect(history.events.map((e: { action: string }) => e.action).slice(-1)).toEqual([
        'post.published',
      ]);
      const verify = await request(t.http)
        .get('/api/v1/audit/verify')
        .set(bearer(c.people.auditor.token));
      expect(verify.body.ok).toBe(true);
    } finally {
      await rx.close();
    }
  });

  it('retries a receiver that fails twice, with one delivery id, and publishes on the third attempt', async () => {
    const rx = await startReceiver({ plan: [500, 503] });
    try {
      const ch = await webhookChannel(rx.url);
      const p = await approve([ch.id]);
      await waitFor('published', async () => (await post(p.id)).state === 'published');
      expect(rx.deliveries.map((d) => d.answeredWith)).toEqual([500, 503, 200]);
      expect(new Set(rx.deliveries.map((d) => d.headers['webhook-id'])).size).toBe(1);
      const pub = (await post(p.id)).publications[0];
      expect(pub.attempts).toBe(3);
      const events = await request(t.http)
        .get(`/api/v1/audit/events?entityType=publication&entityId=${pub.id}&order=asc`)
        .set(bearer(c.people.auditor.token));
      expect(events.body.items.map((e: { action: string }) => e.action)).toEqual([
        'publication.sending',
        'publication.retry_scheduled',
        'publication.sending',
        'publication.retry_scheduled',
        'publication.sending',
        'publication.sent',
      ]);
    } finally {
      await rx.close();
    }
  });

  it('marks a publication failed after the configured attempts; the propaganda department sees it and retries it', async () => {
    const rx = await startReceiver({ fallback: 500 });
    try {
      const ch = await webhookChannel(rx.url);
      const p = await approve([ch.id]);
      const failed = await waitFor('failed', async () => {
        const list = await publications(`status=failed&postId=${p.id}`);
        return list.items[0];
      });
      expect(failed).toMatchObject({
        attempts: 3,
        lastError: expect.stringContaining('HTTP 500'),
        channel: { id: ch.id },
      });
      expect((await post(p.id)).state).toBe('approved');
      const byEditor = await request(t.http)
        .post(`/api/v1/publications/${failed.id}/retry`)
        .set(bearer(c.people.editor.token));
      expect(byEditor.status).toBe(403);
      rx.setFallback(200);
      const retry = await request(t.http)
        .post(`/api/v1/publications/${failed.id}/retry`)
        .set(bearer(c.people.prop.token));
      expect(retry.status).toBe(200);
      expect(retry.body.status).toBe('queued');
      await waitFor('published after retry', async () => (await post(p.id)).state === 'published');
      expect(new Set(rx.deliveries.map((d) => d.headers['webhook-id'])).size).toBe(1);
      const again = await request(t.http)
        .post(`/api/v1/publications/${failed.id}/retry`)
        .set(bearer(c.people.prop.token));
      expect(again.status).toBe(409);
    } finally {
      await rx.close();
    }
  });

  it('retracts: post.retracted reaches the receiver and the website feed drops the post', async () => {
    const rx = await startReceiver();
    try {
      const hook = await webhookChannel(rx.url);
      const site = await c.b.channel({ departmentId: c.school.id, platform: 'website' });
      const p = await approve([hook.id, site.id], { title: '待撤稿的新闻' });
      await waitFor('published', async () => (await post(p.id)).state === 'published');
      const feed = await request(t.http).get(`/sites/${site.id}/feed.xml`);
      expect(feed.status).toBe(200);
      expect(feed.headers['content-type']).toContain('application/atom+xml');
      expect(feed.text).toContain('待撤稿的新闻');
      expect(feed.text).toContain(`http://gateway.test/sites/${site.id}/posts/${p.id}`);
      const page = await request(t.http).get(`/sites/${site.id}/posts/${p.id}`);
      expect(page.status).toBe(200);
      expect(page.text).toContain(p.currentRevision.body);

      const r = await flow.act(c.people.prop, p.id, 'retract', { reason: '内容有误' });
      expect(r.body.state).toBe('retracted');
      await waitFor('retraction delivered', () =>
        rx.deliveries.some((d) => d.json.type === 'post.retracted'),
      );
      const retracted = rx.deliveries.find((d) => d.json.type === 'post.retracted')!;
      expect(retracted.headers['x-sanshen-event']).toBe('post.retracted');
      expect(retracted.headers['webhook-id']).not.toBe(rx.deliveries[0].headers['webhook-id']);
      await waitFor('all retracted', async () =>
        (await post(p.id)).publications.every((x: { status: string }) => x.status === 'retracted'),
      );
      const after = await request(t.http).get(`/sites/${site.id}/feed.xml`);
      expect(after.text).not.toContain('待撤稿的新闻');
      expect((await request(t.http).get(`/sites/${site.id}/posts/${p.id}`)).status).toBe(404);
    } finally {
      await rx.close();
    }
  });

  it('cancels what has not gone out when a scheduled post is retracted', async () => {
    const rx = await startReceiver();
    try {
      const ch = await webhookChannel(rx.url);
      const p = await approve([ch.id], { publishAt: new Date(Date.now() + 60_000).toISOString() });
      const r = await flow.act(c.people.prop, p.id, 'retract', { reason: '取消发布' });
      expect(r.body.publications.map((x: { status: string }) => x.status)).toEqual(['cancelled']);
      await new Promise((res) => setTimeout(res, 300));
      expect(rx.deliveries).toHaveLength(0);
    } finally {
      await rx.close();
    }
  });

  it('lists publications with filters, and shows outbox figures on /health', async () => {
    const all = await publications(`departmentId=${c.school.id}&pageSize=200&count=true`);
    expect(all.total).toBeGreaterThan(3);
    expect(all.items[0]).toEqual(
      expect.objectContaining({ postTitle: expect.any(String), channel: expect.any(Object) }),
    );
    expect(JSON.stringify(all)).not.toContain('leaseOwner');
    expect((await publications('status=bogus')).statusCode).toBe(400);
    expect(
      (await request(t.http).get('/api/v1/publications').set(bearer(c.people.editor.token))).status,
    ).toBe(403);
    const health = await request(t.http).get('/health');
    expect(health.body.publishing).toMatchObject({
      due: expect.any(Number),
      failed: expect.any(Number),
    });
    expect(health.body.publishing.executor).toBe(
      process.env.TEST_REDIS_URL ? 'bullmq' : 'in-process',
    );
  });
});
