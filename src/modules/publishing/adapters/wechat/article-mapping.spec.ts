import { AdapterContext, PublishContent } from 'src/modules/publishing/adapters/channel-adapter';
import { wechatLength } from 'src/modules/publishing/adapters/wechat/article-mapping';
import { WechatServer } from 'test/fakes/wechat-server';
import { useWechatServer } from 'test/fakes/wechat-fixtures';

describe('WeChat article mapping: limits and re-hosted images', () => {
  const fx = useWechatServer();
  const { ctx, content, failure } = fx;
  let server: WechatServer;

  beforeEach(() => {
    server = fx.server;
  });

  it('re-hosts body images on WeChat from the stored bytes and leaves images already there alone', async () => {
    const photo = fx.image('photo.jpg');
    const chart = fx.image('chart.png');
    const wechatImage = 'http://mmbiz.qpic.cn/mmbiz_png/already-there/0?wx_fmt=png';
    const body =
      `<p>典礼现场</p><img src="${photo}" alt="现场" /><p>数据</p><img src="${chart}" />` +
      `<img alt="again" src="${photo}" /><img src="${wechatImage}" />`;

    await fx.adapter().publish(content({ body }), ctx());

    expect(server.callsTo('media/uploadimg')).toHaveLength(2); // the repeated photo goes once
    expect(server.calls.filter((c) => c.path.startsWith('/img/'))).toHaveLength(0);
    expect(server.callsTo('media/uploadimg').map((c) => c.media?.contentType)).toEqual([
      'image/jpeg',
      'image/png',
    ]);
    const [photoUrl, chartUrl] = server.state.images.map((i) => i.url);
    const drafted: string = server.callsTo('draft/add')[0].json.articles[0].content;
    expect(drafted).toBe(
      `<p>典礼现场</p><img src="${photoUrl}" alt="现场" /><p>数据</p><img src="${chartUrl}" />` +
        `<img alt="again" src="${photoUrl}" /><img src="${wechatImage}" />`,
    );
    expect(drafted).not.toContain('gateway.test');
    expect(photoUrl).toMatch(/^http:\/\/mmbiz\.qpic\.cn\//);
  });

  it('reads <img src> with the HTML parser: a URL smuggled into another attribute is text', async () => {
    const photo = fx.image('photo.jpg');
    const smuggled = `${server.url}/img/smuggled.jpg`;
    const body = `<p><img alt="x src='${smuggled}'" src="${photo}" /></p><!-- <img src="${smuggled}"> -->`;

    await fx.adapter().publish(content({ body }), ctx());

    expect(server.callsTo('/img/smuggled.jpg')).toHaveLength(0);
    expect(server.callsTo('media/uploadimg')).toHaveLength(1);
    const drafted: string = server.callsTo('draft/add')[0].json.articles[0].content;
    expect(drafted).toContain(`alt="x src='${smuggled}'"`);
  });

  it('refuses an image that is not a stored one, without fetching it', async () => {
    const external = `${server.url}/img/external.jpg`;
    const err = await failure(
      fx.adapter().publish(content({ body: `<p><img src="${external}" /></p>` }), ctx()),
    );
    expect(err).toMatchObject({ retryable: false, code: 'MEDIA_NOT_IMPORTED' });
    expect(server.callsTo('/img/external.jpg')).toHaveLength(0);
    expect(server.callsTo('media/uploadimg')).toHaveLength(0);
  });

  it('refuses a body image larger than WeChat accepts, before uploading it', async () => {
    const body = `<img src="${fx.image('poster.jpg', 1_100_000)}" />`;
    const err = await failure(fx.adapter().publish(content({ body }), ctx()));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/body image .* larger than WeChat accepts \(1 MB\)/);
    expect(server.callsTo('media/uploadimg')).toHaveLength(0);
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
  ])('refuses %s before calling WeChat', async (_, make, message) => {
    const [post, context] = make();
    const err = await failure(fx.adapter().publish(post, context));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(message);
    expect(server.calls).toHaveLength(0);
  });

  it('counts characters by code point, as WeChat does', async () => {
    const title = `${'校'.repeat(31)}🎓`; // 33 UTF-16 units, 32 characters
    expect(title.length).toBe(33);
    expect(wechatLength(title)).toBe(32);

    const result = await fx.adapter().publish(content({ title }), ctx());
    expect(result.kind).toBe('pending');
    expect(server.callsTo('draft/add')[0].json.articles[0].title).toBe(title);
  });

  it('sends the author and the original-article link from the channel config', async () => {
    await fx.adapter().publish(
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
});
