import type { Channel } from 'src/modules/channels/channel.entity';
import {
  AdapterContext,
  AdapterError,
  AdapterResult,
  PublishContent,
} from 'src/modules/publishing/adapters/channel-adapter';
import { WechatMpAdapter, wechatLength } from 'src/modules/publishing/adapters/wechat-mp.adapter';
import { startWechatServer, WechatServer } from 'test/fakes/wechat-server';

describe('WechatMpAdapter against a fake WeChat server', () => {
  let server: WechatServer;

  beforeEach(async () => {
    server = await startWechatServer();
  });

  afterEach(async () => {
    await server.close();
  });

  function channel(config: Record<string, unknown> = {}): Channel {
    return {
      id: 'ch-wechat',
      name: '校团委公众号',
      platform: 'wechat_mp',
      departmentId: 'dept-youth-league',
      acceptsSubmissions: true,
      active: true,
      config: { baseUrl: server.url, pollAfterMs: 25, ...config },
      credentials: null,
      createdAt: new Date(),
      updatedAt: new Date(),
    };
  }

  function ctx(
    overrides: Partial<AdapterContext> & { config?: Record<string, unknown> } = {},
  ): AdapterContext {
    const { config, ...rest } = overrides;
    return {
      channel: channel(config),
      credentials: { appId: server.appId, appSecret: server.appSecret },
      deliveryId: 'pub-1:publish',
      attempt: 1,
      state: null,
      signal: new AbortController().signal,
      ...rest,
    };
  }

  function content(overrides: Partial<PublishContent> = {}): PublishContent {
    return {
      postId: 'post-1',
      publicationId: 'pub-1',
      revisionId: 'rev-2',
      revisionNumber: 2,
      contentHash: 'hash-rev-2',
      title: '我校隆重举行2025级新生开学典礼',
      summary: '九月一日上午，我校在体育馆隆重举行2025级新生开学典礼。',
      body: '<p>九月的校园，桂花飘香。</p>',
      coverImageUrl: `${server.url}/img/cover.jpg`,
      channel: { id: 'ch-wechat', name: '校团委公众号' },
      ...overrides,
    };
  }

  async function publishToDone(
    adapter: WechatMpAdapter,
    post: PublishContent,
    context: AdapterContext,
  ): Promise<{ first: AdapterResult; done: AdapterResult; polls: number }> {
    const first = await adapter.publish(post, context);
    let result = first;
    let polls = 0;
    while (result.kind === 'pending') {
      if (++polls > 10) throw new Error('the publication never finished');
      result = await adapter.poll(post, { ...context, state: result.state }, 'publish');
    }
    return { first, done: result, polls };
  }

  async function failure(promise: Promise<unknown>): Promise<AdapterError> {
    try {
      await promise;
    } catch (err) {
      expect(err).toBeInstanceOf(AdapterError);
      return err as AdapterError;
    }
    throw new Error('expected an AdapterError');
  }

  const paths = () => server.calls.map((c) => c.path);

  it('uploads the cover, drafts, submits and polls until the article url is known', async () => {
    const adapter = new WechatMpAdapter();
    const post = content();

    const { first, done, polls } = await publishToDone(adapter, post, ctx());

    const [job] = [...server.state.publishes.values()];
    expect(first).toEqual({
      kind: 'pending',
      pollAfterMs: 25,
      state: { publishId: job.publishId, mediaId: job.mediaId },
      externalId: job.publishId,
    });
    const article = server.state.articles.get(job.articleId!)!;
    expect(done).toEqual({ kind: 'done', externalId: job.articleId, url: article.url });
    expect(article.url).toMatch(/^https:\/\/mp\.weixin\.qq\.com\/s\//);
    expect(polls).toBe(2); // publish_status 1 once, then 0

    expect(paths()).toEqual([
      '/img/cover.jpg',
      '/cgi-bin/stable_token',
      '/cgi-bin/material/add_material',
      '/cgi-bin/draft/add',
      '/cgi-bin/freepublish/submit',
      '/cgi-bin/freepublish/get',
      '/cgi-bin/freepublish/get',
    ]);
    expect(server.callsTo('stable_token')[0].json).toEqual({
      grant_type: 'client_credential',
      appid: server.appId,
      secret: server.appSecret,
      force_refresh: false,
    });
    const [cover] = server.callsTo('material/add_material');
    expect(cover.query.type).toBe('image');
    expect(cover.media).toEqual({ filename: 'cover.jpg', contentType: 'image/jpeg', bytes: 24 });
    const [thumbMediaId] = [...server.state.materials.keys()];
    expect(server.callsTo('draft/add')[0].json).toEqual({
      articles: [
        {
          title: post.title,
          digest: post.summary,
          content: post.body,
          thumb_media_id: thumbMediaId,
          need_open_comment: 0,
          only_fans_can_comment: 0,
        },
      ],
    });
    expect(server.callsTo('freepublish/submit')[0].json).toEqual({ media_id: job.mediaId });
    expect(server.callsTo('freepublish/get')[0].json).toEqual({ publish_id: job.publishId });
  });

  it('polls again after 2 seconds unless the channel says otherwise', async () => {
    const result = await new WechatMpAdapter().publish(
      content(),
      ctx({ config: { pollAfterMs: undefined } }),
    );
    expect(result).toMatchObject({ kind: 'pending', pollAfterMs: 2000 });
  });

  it('re-hosts body images on WeChat and leaves images already there alone', async () => {
    const photo = `${server.url}/img/photo.jpg`;
    const chart = `${server.url}/img/chart.png?v=1&amp;w=2`;
    const wechatImage = 'http://mmbiz.qpic.cn/mmbiz_png/already-there/0?wx_fmt=png';
    const body =
      `<p>典礼现场</p><img src="${photo}" alt="现场"><p>数据</p><img src='${chart}'>` +
      `<img alt="again" src="${photo}"><img src="${wechatImage}">`;

    await new WechatMpAdapter().publish(content({ body }), ctx());

    expect(server.callsTo('media/uploadimg')).toHaveLength(2); // the repeated photo goes once
    expect(server.callsTo('/img/photo.jpg')).toHaveLength(1);
    expect(server.callsTo('/img/chart.png')[0].query).toEqual({ v: '1', w: '2' });
    expect(server.callsTo('media/uploadimg').map((c) => c.media?.contentType)).toEqual([
      'image/jpeg',
      'image/png',
    ]);
    const [photoUrl, chartUrl] = server.state.images.map((i) => i.url);
    const drafted: string = server.callsTo('draft/add')[0].json.articles[0].content;
    expect(drafted).toBe(
      `<p>典礼现场</p><img src="${photoUrl}" alt="现场"><p>数据</p><img src='${chartUrl}'>` +
        `<img alt="again" src="${photoUrl}"><img src="${wechatImage}">`,
    );
    expect(drafted).not.toContain(server.url);
    expect(photoUrl).toMatch(/^http:\/\/mmbiz\.qpic\.cn\//);
  });

  it('refuses a body image larger than WeChat accepts, before uploading it', async () => {
    const body = `<img src="${server.url}/img/poster.jpg?bytes=1100000">`;
    const err = await failure(new WechatMpAdapter().publish(content({ body }), ctx()));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/body image .*poster\.jpg.* larger than WeChat accepts \(1 MB\)/);
    expect(server.callsTo('media/uploadimg')).toHaveLength(0);
  });

  it('fails permanently when the cover cannot be found', async () => {
    const cover = `${server.url}/img/missing-cover.jpg`;
    const err = await failure(
      new WechatMpAdapter().publish(content({ coverImageUrl: cover }), ctx()),
    );
    expect(err.retryable).toBe(false);
    expect(err.message).toBe(`Could not download the cover image ${cover}: HTTP 404`);
  });

  it('reuses the access token across publishes', async () => {
    const adapter = new WechatMpAdapter();
    await adapter.publish(content(), ctx());
    await adapter.publish(content({ publicationId: 'pub-2' }), ctx());

    expect(server.callsTo('stable_token')).toHaveLength(1);
    const tokens = new Set(
      server.calls.filter((c) => c.query.access_token).map((c) => c.query.access_token),
    );
    expect(tokens.size).toBe(1);
  });

  it('asks for a token again within five minutes of its expiry', async () => {
    let now = 1_000_000;
    const adapter = new WechatMpAdapter({ now: () => now });
    await adapter.publish(content(), ctx());

    now += (7200 - 301) * 1000;
    await adapter.publish(content(), ctx());
    expect(server.callsTo('stable_token')).toHaveLength(1);

    now += 2000;
    await adapter.publish(content(), ctx());
    expect(server.callsTo('stable_token')).toHaveLength(2);
  });

  it('gets a fresh token when it expires mid-flow and finishes the publication', async () => {
    const adapter = new WechatMpAdapter();
    server.expireTokensOn('draft/add');

    const { done } = await publishToDone(adapter, content(), ctx());

    expect(done.kind).toBe('done');
    const drafts = server.callsTo('draft/add');
    expect(drafts).toHaveLength(2);
    expect(drafts[1].query.access_token).not.toBe(drafts[0].query.access_token);
    expect(drafts[1].query.access_token).toBe(server.state.currentToken);
    expect(server.callsTo('stable_token').map((c) => c.json.force_refresh)).toEqual([false, false]);
    expect(server.state.drafts.size + server.state.publishes.size).toBe(1);
  });

  it('forces a refresh only when WeChat hands back the token it just refused', async () => {
    server.failNext('draft/add', 40014, 'invalid access_token');

    const result = await new WechatMpAdapter().publish(content(), ctx());

    expect(result.kind).toBe('pending');
    expect(server.callsTo('stable_token').map((c) => c.json.force_refresh)).toEqual([
      false,
      false,
      true,
    ]);
    expect(server.callsTo('draft/add')).toHaveLength(2);
  });

  it.each([
    [2, /original-content \(原创\) declaration failed/],
    [3, /publishing failed/],
    [4, /platform review rejected the article/],
  ] as const)('fails permanently with the reason on publish_status %i', async (status, reason) => {
    server.publishOutcome = { pendingPolls: 0, status, failIdx: [1] };
    const err = await failure(publishToDone(new WechatMpAdapter(), content(), ctx()));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(reason);
    expect(err.message).toContain(`(publish_status ${status}, failed article index 1)`);
  });

  it.each([
    [45009, true, 60_000],
    [-1, true, undefined],
    [40007, false, undefined],
    [45166, false, undefined],
    [47001, false, undefined],
    [40164, false, undefined],
    [48001, false, undefined],
    [61000, false, undefined],
  ])('maps errcode %i to retryable=%s', async (errcode, retryable, retryAfterMs) => {
    server.failNext('freepublish/submit', errcode, `reason for ${errcode}`);
    const err = await failure(new WechatMpAdapter().publish(content(), ctx()));
    expect(err.retryable).toBe(retryable);
    expect(err.retryAfterMs).toBe(retryAfterMs);
    expect(err.message).toMatch(
      new RegExp(`^WeChat freepublish/submit refused: errcode ${errcode}.*: reason for ${errcode}`),
    );
  });

  it('names a refused media_id on draft/add as a permanent failure', async () => {
    server.failNext('draft/add', 40007, 'invalid media_id hint: [xyz]');
    const err = await failure(new WechatMpAdapter().publish(content(), ctx()));
    expect(err).toMatchObject({ retryable: false, state: undefined });
    expect(err.message).toBe(
      'WeChat draft/add refused: errcode 40007 (invalid media_id): invalid media_id hint: [xyz]',
    );
  });

  it('keeps the draft after a rate limit so the retry only submits it', async () => {
    const adapter = new WechatMpAdapter();
    server.failNext('freepublish/submit', 45009, 'reach max api daily quota limit');
    const err = await failure(adapter.publish(content(), ctx()));
    expect(err.state).toEqual({
      contentHash: 'hash-rev-2',
      thumbMediaId: [...server.state.materials.keys()][0],
      images: {},
      mediaId: [...server.state.drafts.keys()][0],
    });

    const { done } = await publishToDone(adapter, content(), ctx({ attempt: 2, state: err.state }));

    expect(done.kind).toBe('done');
    expect(server.callsTo('material/add_material')).toHaveLength(1);
    expect(server.callsTo('draft/add')).toHaveLength(1);
    expect(server.callsTo('freepublish/submit')).toHaveLength(2);
  });

  it('treats HTTP 5xx as retryable and resumes from the uploaded cover', async () => {
    const adapter = new WechatMpAdapter();
    server.failNextHttp('draft/add', 502);
    const err = await failure(adapter.publish(content(), ctx()));
    expect(err).toMatchObject({ retryable: true, message: 'WeChat draft/add answered HTTP 502' });
    expect(err.state).toMatchObject({ thumbMediaId: expect.any(String) });

    await adapter.publish(content(), ctx({ attempt: 2, state: err.state }));
    expect(server.callsTo('material/add_material')).toHaveLength(1);
    expect(server.callsTo('draft/add')).toHaveLength(2);
  });

  it('does not reuse uploads kept for another revision', async () => {
    const adapter = new WechatMpAdapter();
    server.failNextHttp('draft/add', 503);
    const err = await failure(adapter.publish(content(), ctx()));

    await adapter.publish(content({ contentHash: 'hash-rev-3' }), ctx({ state: err.state }));
    expect(server.callsTo('material/add_material')).toHaveLength(2);
  });

  it('treats a timeout as retryable', async () => {
    server.delayNext('draft/add', 2000);
    const err = await failure(
      new WechatMpAdapter().publish(content(), ctx({ signal: AbortSignal.timeout(200) })),
    );
    expect(err).toMatchObject({ retryable: true, message: 'Timed out calling WeChat draft/add' });
  });

  it.each<[string, () => [PublishContent, AdapterContext], RegExp]>([
    [
      'a title over 32 characters',
      () => [content({ title: '校'.repeat(33) }), ctx()],
      /limits the title to 32 characters; this one has 33/,
    ],
    [
      'a summary over 128 characters',
      () => [content({ summary: '摘'.repeat(129) }), ctx()],
      /limits the digest \(summary\) to 128 characters; this one has 129/,
    ],
    [
      'content of 20,000 characters',
      () => [content({ body: `<p>${'文'.repeat(19_993)}</p>` }), ctx()],
      /content \(HTML included\) to be under 20000 characters; this one has 20000/,
    ],
    [
      'an author over 16 characters',
      () => [content(), ctx({ config: { author: '作'.repeat(17) } })],
      /limits the author \(channel config\) to 16 characters/,
    ],
    [
      'no cover image',
      () => [content({ coverImageUrl: null }), ctx()],
      /WeChat requires a cover image for a news article/,
    ],
    [
      'no credentials',
      () => [content(), ctx({ credentials: null })],
      /credentials are missing: set appId and appSecret/,
    ],
  ])('refuses %s before calling WeChat', async (_, make, message) => {
    const [post, context] = make();
    const err = await failure(new WechatMpAdapter().publish(post, context));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(message);
    expect(server.calls).toHaveLength(0);
  });

  it('counts characters by code point, as WeChat does', async () => {
    const title = `${'校'.repeat(31)}🎓`; // 33 UTF-16 units, 32 characters
    expect(title.length).toBe(33);
    expect(wechatLength(title)).toBe(32);

    const result = await new WechatMpAdapter().publish(content({ title }), ctx());
    expect(result.kind).toBe('pending');
    expect(server.callsTo('draft/add')[0].json.articles[0].title).toBe(title);
  });

  it('sends the author and the original-article link from the channel config', async () => {
    await new WechatMpAdapter().publish(
      content(),
      ctx({
        config: { author: '校团委', contentSourceUrl: 'https://news.example.edu.cn/p/{postId}' },
      }),
    );
    expect(server.callsTo('draft/add')[0].json.articles[0]).toMatchObject({
      author: '校团委',
      content_source_url: 'https://news.example.edu.cn/p/post-1',
    });
  });

  it('retracts the published article by the article_id in its state', async () => {
    const adapter = new WechatMpAdapter();
    const { done } = await publishToDone(adapter, content(), ctx());
    const articleId = done.externalId!;

    const result = await adapter.retract(content(), ctx({ state: { articleId } }));

    expect(result).toEqual({ kind: 'done', externalId: articleId });
    expect(server.callsTo('freepublish/delete')[0].json).toEqual({
      article_id: articleId,
      index: 0,
    });
    expect(server.state.articles.get(articleId)?.deleted).toBe(true);
    expect(await adapter.poll(content(), ctx(), 'retract')).toEqual({ kind: 'done' });
  });

  it('finds the article to retract from a publish_id when no article_id was kept', async () => {
    const adapter = new WechatMpAdapter();
    const { first, done } = await publishToDone(adapter, content(), ctx());
    const state = first.kind === 'pending' ? first.state : {};

    await adapter.retract(content(), ctx({ state }));
    expect(server.state.articles.get(done.externalId!)?.deleted).toBe(true);
  });

  it('refuses to retract without an article to delete', async () => {
    const err = await failure(new WechatMpAdapter().retract(content(), ctx({ state: null })));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/needs the published article_id/);
    expect(server.calls).toHaveLength(0);
  });

  describe('never reveals the AppSecret or the access token', () => {
    it('when WeChat refuses the credentials', async () => {
      const appSecret = 'wrong-secret-9f8e7d6c5b4a';
      const err = await failure(
        new WechatMpAdapter().publish(
          content(),
          ctx({ credentials: { appId: server.appId, appSecret } }),
        ),
      );
      expect(err.retryable).toBe(false);
      expect(err.message).toMatch(
        /^WeChat stable_token refused: errcode 40125 \(invalid AppSecret\)/,
      );
      expect(err.message).not.toContain(appSecret);
    });

    it('when an errmsg echoes them back', async () => {
      const adapter = new WechatMpAdapter();
      await adapter.publish(content(), ctx());
      const token = server.state.currentToken!;
      server.failNext(
        'draft/add',
        47001,
        `data format error near access_token=${token} secret=${server.appSecret}`,
      );

      const err = await failure(adapter.publish(content(), ctx()));

      expect(err.message).not.toContain(token);
      expect(err.message).not.toContain(server.appSecret);
      expect(err.message).toContain('access_token=***');
    });

    it('when the network fails on a call that carries the token', async () => {
      const other = await startWechatServer({ publishOutcome: { pendingPolls: 5 } });
      const adapter = new WechatMpAdapter();
      const context = ctx({ config: { baseUrl: other.url } });
      const first = await adapter.publish(content(), context);
      const token = other.state.currentToken!;
      await other.close();

      const state = first.kind === 'pending' ? first.state : null;
      const err = await failure(adapter.poll(content(), { ...context, state }, 'publish'));

      expect(err.retryable).toBe(true);
      expect(err.message).toMatch(/^Network error calling WeChat freepublish\/get/);
      expect(err.message).not.toContain(token);
      expect(err.message).not.toContain(other.appSecret);
    });
  });
});
