import { OutboundFetcher } from 'src/common/outbound-fetch';
import { startWechatServer, WechatServer } from 'test/fakes/wechat-server';
import { useWechatServer } from 'test/fakes/wechat-fixtures';

describe('WeChat API calls: errcodes, transport failures, secrets', () => {
  const fx = useWechatServer();
  const { ctx, content, failure } = fx;
  let server: WechatServer;

  beforeEach(() => {
    server = fx.server;
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
    const err = await failure(fx.adapter().publish(content(), ctx()));
    expect(err.retryable).toBe(retryable);
    expect(err.retryAfterMs).toBe(retryAfterMs);
    expect(err.message).toMatch(
      new RegExp(`^WeChat freepublish/submit refused: errcode ${errcode}.*: reason for ${errcode}`),
    );
  });

  it('names a refused media_id on draft/add as a permanent failure', async () => {
    server.failNext('draft/add', 40007, 'invalid media_id hint: [xyz]');
    const err = await failure(fx.adapter().publish(content(), ctx()));
    expect(err).toMatchObject({ retryable: false, state: undefined });
    expect(err.message).toBe(
      'WeChat draft/add refused: errcode 40007 (invalid media_id): invalid media_id hint: [xyz]',
    );
  });

  it('refuses a base URL on an address not allowed, permanently, calling nothing', async () => {
    const guarded = new OutboundFetcher({ allowHosts: [], timeoutMs: 1000 });
    const err = await failure(fx.adapter({ outbound: guarded }).publish(content(), ctx()));
    expect(err).toMatchObject({ retryable: false, code: 'CHANNEL_MISCONFIGURED' });
    expect(err.message).toBe(
      'WeChat stable_token endpoint refused: 127.0.0.1 resolves to 127.0.0.1, an internal address; ' +
        'list the host in OUTBOUND_ALLOW_HOSTS to allow it',
    );
    expect(err.message).not.toContain(server.appSecret);
    expect(server.calls).toHaveLength(0);
  });

  it('treats a timeout as retryable', async () => {
    server.delayNext('draft/add', 2000);
    const err = await failure(
      fx.adapter().publish(content(), ctx({ signal: AbortSignal.timeout(200) })),
    );
    expect(err).toMatchObject({ retryable: true, message: 'Timed out calling WeChat draft/add' });
  });

  describe('never reveals the AppSecret or the access token', () => {
    it('when WeChat refuses the credentials', async () => {
      const appSecret = 'wrong-secret-9f8e7d6c5b4a';
      const err = await failure(
        fx.adapter().publish(content(), ctx({ credentials: { appId: server.appId, appSecret } })),
      );
      expect(err.retryable).toBe(false);
      expect(err.message).toMatch(
        /^WeChat stable_token refused: errcode 40125 \(invalid AppSecret\)/,
      );
      expect(err.message).not.toContain(appSecret);
    });

    it('when an errmsg echoes them back', async () => {
      const adapter = fx.adapter();
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
      const adapter = fx.adapter();
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
