import { AdapterContext, PublishContent } from 'src/modules/publishing/adapters/channel-adapter';
import { WechatServer } from 'test/fakes/wechat-server';
import { useWechatServer } from 'test/fakes/wechat-fixtures';

describe('WechatMpAdapter against a fake WeChat server', () => {
  const fx = useWechatServer();
  const { ctx, content, publishToDone, failure, paths } = fx;
  let server: WechatServer;

  beforeEach(() => {
    server = fx.server;
  });

  it('uploads the cover, drafts, submits and polls until the article url is known', async () => {
    const adapter = fx.adapter();
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
    const coverFile = post.coverImageUrl!.split('/').pop()!;
    // The bytes sent are the stored ones the URL names by digest.
    expect(cover.media).toEqual({
      filename: coverFile,
      contentType: 'image/jpeg',
      bytes: 24,
      sha256: coverFile.replace(/\.jpg$/, ''),
    });
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
    const result = await fx
      .adapter()
      .publish(content(), ctx({ config: { pollAfterMs: undefined } }));
    expect(result).toMatchObject({ kind: 'pending', pollAfterMs: 2000 });
  });

  it('fails permanently, fetching nothing, when the cover is not a stored image', async () => {
    const cover = `${server.url}/img/cover.jpg`;
    const err = await failure(fx.adapter().publish(content({ coverImageUrl: cover }), ctx()));
    expect(err).toMatchObject({ retryable: false, code: 'MEDIA_NOT_IMPORTED' });
    expect(err.message).toMatch(/cover image .* is not an image stored by the gateway/);
    expect(server.calls).toHaveLength(0);
  });

  it.each([
    [2, /original-content \(原创\) declaration failed/],
    [3, /publishing failed/],
    [4, /platform review rejected the article/],
  ] as const)('fails permanently with the reason on publish_status %i', async (status, reason) => {
    server.publishOutcome = { pendingPolls: 0, status, failIdx: [1] };
    const err = await failure(publishToDone(fx.adapter(), content(), ctx()));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(reason);
    expect(err.message).toContain(`(publish_status ${status}, failed article index 1)`);
  });

  it('keeps the draft after a rate limit so the retry only submits it', async () => {
    const adapter = fx.adapter();
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
    const adapter = fx.adapter();
    server.failNextHttp('draft/add', 502);
    const err = await failure(adapter.publish(content(), ctx()));
    expect(err).toMatchObject({ retryable: true, message: 'WeChat draft/add answered HTTP 502' });
    expect(err.state).toMatchObject({ thumbMediaId: expect.any(String) });

    await adapter.publish(content(), ctx({ attempt: 2, state: err.state }));
    expect(server.callsTo('material/add_material')).toHaveLength(1);
    expect(server.callsTo('draft/add')).toHaveLength(2);
  });

  it('does not reuse uploads kept for another revision', async () => {
    const adapter = fx.adapter();
    server.failNextHttp('draft/add', 503);
    const err = await failure(adapter.publish(content(), ctx()));

    await adapter.publish(content({ contentHash: 'hash-rev-3' }), ctx({ state: err.state }));
    expect(server.callsTo('material/add_material')).toHaveLength(2);
  });

  it.each<[string, () => [PublishContent, AdapterContext], RegExp]>([
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
    const err = await failure(fx.adapter().publish(post, context));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(message);
    expect(server.calls).toHaveLength(0);
  });

  it('retracts the published article by the article_id in its state', async () => {
    const adapter = fx.adapter();
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
    const adapter = fx.adapter();
    const { first, done } = await publishToDone(adapter, content(), ctx());
    const state = first.kind === 'pending' ? first.state : {};

    await adapter.retract(content(), ctx({ state }));
    expect(server.state.articles.get(done.externalId!)?.deleted).toBe(true);
  });

  it('refuses to retract without an article to delete', async () => {
    const err = await failure(fx.adapter().retract(content(), ctx({ state: null })));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/needs the published article_id/);
    expect(server.calls).toHaveLength(0);
  });
});
