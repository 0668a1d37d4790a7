import { AppException } from 'src/common/app.exception';
import { LoginThrottle } from 'src/modules/auth/login-throttle';

describe('LoginThrottle', () => {
  let now = 1_000_000;
  const clock = () => now;
  const throttle = () =>
    new LoginThrottle({ maxPerUser: 3, maxPerIp: 5, windowSeconds: 60 }, clock);

  function refusal(fn: () => void): AppException | undefined {
    try {
      fn();
    } catch (e) {
      return e as AppException;
    }
    return undefined;
  }

  it('refuses a username after its failures, with Retry-After until the window frees one', () => {
    const t = throttle();
    for (let i = 0; i < 3; i++) {
      t.assertAllowed('Editor', '10.0.0.1');
      t.recordFailure('Editor', '10.0.0.1');
      now += 1000;
    }
    const e = refusal(() => t.assertAllowed('editor', '10.0.0.2'));
    expect(e?.getStatus()).toBe(429);
    expect(e?.headers?.['Retry-After']).toBe('57');
    now += 57_000;
    expect(refusal(() => t.assertAllowed('editor', '10.0.0.2'))).toBeUndefined();
  });

  it('refuses an IP that fails across many usernames', () => {
    const t = throttle();
    for (let i = 0; i < 5; i++) t.recordFailure(`user${i}`, '10.0.0.9');
    expect(refusal(() => t.assertAllowed('someone-else', '10.0.0.9'))?.getStatus()).toBe(429);
    expect(refusal(() => t.assertAllowed('someone-else', '10.0.0.8'))).toBeUndefined();
  });

  it('clears a username on success', () => {
    const t = throttle();
    for (let i = 0; i < 3; i++) t.recordFailure('admin', null);
    t.recordSuccess('admin');
    expect(refusal(() => t.assertAllowed('admin', null))).toBeUndefined();
  });
});
