import { AppException } from 'src/common/app.exception';
import { LoginThrottle } from 'src/modules/auth/login-throttle';

describe('LoginThrottle', () => {
  const throttle = () => new LoginThrottle({ maxPerUser: 3, maxPerIp: 5, windowSeconds: 60 });

  async function refusal(p: Promise<unknown>): Promise<AppException | undefined> {
    try {
      await p;
    } catch (e) {
      return e as AppException;
    }
    return undefined;
  }

  it('refuses a username once its attempts are used up, with Retry-After', async () => {
    const t = throttle();
    for (let i = 0; i < 3; i++) await t.reserve('Editor', '10.0.0.1');
    const e = await refusal(t.reserve('editor', '10.0.0.2'));
    expect(e?.getStatus()).toBe(429);
    const wait = Number(e?.headers?.['Retry-After']);
    expect(wait).toBeGreaterThan(50);
    expect(wait).toBeLessThanOrEqual(60);
  });

  it('lets at most the limit through of many concurrent attempts', async () => {
    const t = throttle();
    const all = await Promise.allSettled(
      Array.from({ length: 40 }, () => t.reserve('admin', null)),
    );
    expect(all.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
  });

  it('refuses an IP that fails across many usernames', async () => {
    const t = throttle();
    for (let i = 0; i < 5; i++) await t.reserve(`user${i}`, '10.0.0.9');
    expect((await refusal(t.reserve('someone-else', '10.0.0.9')))?.getStatus()).toBe(429);
    expect(await refusal(t.reserve('someone-else', '10.0.0.8'))).toBeUndefined();
  });

  it('clears a username on success and gives the IP its point back', async () => {
    const t = throttle();
    for (let i = 0; i < 2; i++) await t.reserve('admin', '10.0.0.7');
    await t.succeeded(await t.reserve('admin', '10.0.0.7'));
    for (let i = 0; i < 3; i++) await t.reserve('admin', '10.0.0.7');
    expect((await refusal(t.reserve('x', '10.0.0.7')))?.getStatus()).toBe(429);
  });

  it('falls back to per-process counters when Redis is unreachable: limited, never an error', async () => {
    const t = new LoginThrottle(
      { maxPerUser: 2, maxPerIp: 50, windowSeconds: 60 },
      { redisUrl: 'redis://127.0.0.1:1', keyPrefix: 'unit' },
    );
    try {
      await t.reserve('a', null);
      await t.reserve('a', null);
      expect((await refusal(t.reserve('a', null)))?.getStatus()).toBe(429);
    } finally {
      await t.close();
    }
  });
});
