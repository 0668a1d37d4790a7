import request from 'supertest';
import { Role } from 'src/common/roles';
import { bearer, startApp, TestApp } from 'test/harness';
import { startReceiver, waitFor } from 'test/fakes/webhook-receiver';
import { builders, Builders } from 'test/support/builders';

/** Slow by nature: it waits out a publishAt seconds ahead, so that the hold is seen to hold. */
describe('publishing: scheduled posts', () => {
  let t: TestApp;
  let b: Builders;
  let reader: string;

  beforeAll(async () => {
    t = await startApp({
      PUBLISH_POLL_MS: '50',
      PUBLISH_BACKOFF_MS: '100',
      PUBLISH_MAX_ATTEMPTS: '3',
      PUBLISH_TIMEOUT_MS: '2000',
    });
    b = builders(t);
    reader = await b.tokenFor(await b.propReviewer());
  });
  afterAll(() => t.close());

  const state = async (id: string) =>
    (await request(t.http).get(`/api/v1/posts/${id}`).set(bearer(reader))).body.state as string;

  it('holds a scheduled post until publishAt, then delivers it', async () => {
    const rx = await startReceiver();
    try {
      const d = await b.department();
      const ch = await b.channel({
        departmentId: d.id,
        platform: 'webhook',
        config: { url: rx.url },
      });
      const publishAt = new Date(Date.now() + 10_000);
      const p = await b.post({
        author: await b.user({ roles: [Role.EDITOR], departmentId: d.id }),
        channelIds: [ch.id],
        publishAt: publishAt.toISOString(),
        state: 'approved',
      });
      await new Promise((r) => setTimeout(r, 7000));
      expect(rx.deliveries).toHaveLength(0);
      expect(await state(p.id)).toBe('approved');
      await waitFor('scheduled delivery', () => rx.deliveries.length > 0, 15000);
      expect(rx.deliveries[0].at).toBeGreaterThanOrEqual(publishAt.getTime() - 50);
    } finally {
      await rx.close();
    }
  }, 40_000);
});
