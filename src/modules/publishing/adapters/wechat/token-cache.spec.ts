import { WechatServer } from 'test/fakes/wechat-server';
import { useWechatServer } from 'test/fakes/wechat-fixtures';

describe('WeChat access tokens (stable_token), cached per account', () => {
  const fx = useWechatServer();
  const { ctx, content, publishToDone } = fx;
  let server: WechatServer;

  beforeEach(() => {
    server = fx.server;
  });

  it('reuses the access token across publishes', async () => {
    const adapter = fx.adapter();
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
    const adapter = fx.adapter({ now: () => now });
    await adapter.publish(content(), ctx());

    now += (7200 - 301) * 1000;
    await adapter.publish(content(), ctx());
    expect(server.callsTo('stable_token')).toHaveLength(1);

    now += 2000;
    await adapter.publish(content(), ctx());
    expect(server.callsTo('stable_token')).toHaveLength(2);
  });

  it('gets a fresh token when it expires mid-flow and finishes the publication', async () => {
    const adapter = fx.adapter();
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

    const result = await fx.adapter().publish(content(), ctx());

    expect(result.kind).toBe('pending');
    expect(server.callsTo('stable_token').map((c) => c.json.force_refresh)).toEqual([
      false,
      false,
      true,
    ]);
    expect(server.callsTo('draft/add')).toHaveLength(2);
  });
});
