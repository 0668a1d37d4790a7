import request from 'supertest';
import { bearer, startApp, TestApp } from 'test/harness';
import { startWechatServer, WechatServer } from 'test/fakes/wechat-server';
import { waitFor } from 'test/fakes/webhook-receiver';
import { buildCampus, Campus, expectOk, Flow, PostBody } from 'test/workflow';

/** The WeChat official-account flow end to end, against a local server speaking its protocol. */
describe('publishing to a WeChat official account', () => {
  let t: TestApp;
  let c: Campus;
  let flow: Flow;
  let wx: WechatServer;
  let channelId: string;

  beforeAll(async () => {
    wx = await startWechatServer();
    t = await startApp({
      // The stand-in serves the post's images: an operator would allow an intranet host so.
      OUTBOUND_ALLOW_HOSTS: new URL(wx.url).host,
      PUBLISH_POLL_MS: '50',
      PUBLISH_BACKOFF_MS: '100',
      PUBLISH_MAX_ATTEMPTS: '3',
    });
    c = await buildCampus(t);
    flow = new Flow(t);
    channelId = (
      await c.org.channel(c.school.id, {
        platform: 'wechat_mp',
        config: { baseUrl: wx.url, pollAfterMs: 100 },
        credentials: { appId: wx.appId, appSecret: wx.appSecret },
      })
    ).id;
  });
  afterAll(async () => {
    await t.close();
    await wx.close();
  });

  async function approve(overrides: Record<string, unknown> = {}): Promise<PostBody> {
    const p = await flow.create(c.people.editor, [channelId], {
      title: '学院举办人工智能讲座',
      summary: '讲座吸引了三百余名师生参加',
      body: `<p>讲座现场座无虚席。</p><p><img src="${wx.url}/img/hall.jpg" alt="现场"></p>`,
      coverImageUrl: `${wx.url}/img/cover.jpg`,
      ...overrides,
    });
    expectOk(await flow.submit(c.people.editor, p));
    expectOk(await flow.approve(c.people.head, p));
    const res = await flow.approve(c.people.prop, p);
    expectOk(res);
    return res.body as PostBody;
  }

  const read = async (id: string) => (await flow.get(c.people.auditor, id)).body;

  it('uploads the cover and body images, drafts, submits, polls until published, and records the article url', async () => {
    const tokensBefore = wx.callsTo('/cgi-bin/stable_token').length;
    // The token dies between upload and draft: the adapter refreshes it and carries on.
    wx.expireTokensOn('/cgi-bin/draft/add');
    const p = await approve();
    const done = await waitFor('published', async () => {
      const post = await read(p.id);
      return post.state === 'published' ? post : false;
    });
    const pub = done.publications[0];
    const [article] = [...wx.state.articles.entries()];
    expect(pub).toMatchObject({ status: 'published', externalId: article[0], url: article[1].url });
    expect(wx.callsTo('/cgi-bin/stable_token').length).toBe(tokensBefore + 2);
    const draft = wx.callsTo('/cgi-bin/draft/add').at(-1)!.json.articles[0];
    expect(draft.title).toBe('学院举办人工智能讲座');
    expect(draft.content).not.toContain(`${wx.url}/img/hall.jpg`);
    expect(draft.content).toContain('mmbiz.qpic.cn');
    expect(wx.callsTo('/cgi-bin/freepublish/get').length).toBeGreaterThanOrEqual(2);
  });

  it('fails with the platform’s reason when WeChat rejects the article in review (publish_status 4)', async () => {
    wx.publishOutcome = { ...wx.publishOutcome, status: 4, pendingPolls: 1 };
    try {
      const p = await approve({ title: '第二篇讲座报道' });
      const failed = await waitFor('failed', async () => {
        const pub = (await read(p.id)).publications[0];
        return pub.status === 'failed' ? pub : false;
      });
      expect(failed.lastError).toMatch(/4|审核|review/i);
      expect((await read(p.id)).state).toBe('approved');
      const events = await request(t.http)
        .get(`/api/v1/audit/events?entityId=${failed.id}&action=publication.failed`)
        .set(bearer(c.people.auditor.token));
      expect(events.body.items).toHaveLength(1);
    } finally {
      wx.publishOutcome = { ...wx.publishOutcome, status: 0 };
    }
  });

  it('refuses an article over WeChat’s limits before calling WeChat', async () => {
    const apiCalls = () => wx.calls.filter((call) => call.path.startsWith('/cgi-bin/')).length;
    const before = apiCalls();
    const p = await approve({
      title: '这是一个非常非常长的标题，它超过了微信公众号文章标题所允许的三十二个字',
    });
    const failed = await waitFor('failed', async () => {
      const pub = (await read(p.id)).publications[0];
      return pub.status === 'failed' ? pub : false;
    });
    expect(failed.lastError).toMatch(/32/);
    expect(apiCalls()).toBe(before);
  });

  it('takes a published article down with freepublish/delete on retraction', async () => {
    const p = await approve({ title: '将被撤回的报道' });
    const done = await waitFor('published', async () => {
      const post = await read(p.id);
      return post.state === 'published' ? post : false;
    });
    const articleId = done.publications[0].externalId;
    expectOk(await flow.act(c.people.prop, p.id, 'retract', { reason: '数据有误' }));
    await waitFor(
      'retracted',
      async () => (await read(p.id)).publications[0].status === 'retracted',
    );
    const del = wx.callsTo('/cgi-bin/freepublish/delete').at(-1)!;
    expect(del.json.article_id).toBe(articleId);
    expect(wx.state.articles.get(articleId)?.deleted).toBe(true);
  });
});
