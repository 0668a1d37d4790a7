import { AppException } from 'src/common/app.exception';
import { ErrorCode } from 'src/common/error-code';

export interface ThrottleLimits {
  maxPerUser: number;
  maxPerIp: number;
  windowSeconds: number;
}

/**
 * Counts failed sign-ins per username and per IP in a sliding window. Kept in
 * memory: one API process sees its own failures (see docs/operations.md).
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();
  private sweeps = 0;

  constructor(
    private readonly limits: ThrottleLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws 429 THROTTLED with Retry-After when either key has used up its failures. */
  assertAllowed(username: string, ip: string | null): void {
    const waits = [
      this.waitFor(`u:${username.toLowerCase()}`, this.limits.maxPerUser),
      ip ? this.waitFor(`ip:${ip}`, this.limits.maxPerIp) : 0,
    ];
    const wait = Math.max(...waits);
    if (wait > 0) {
      throw new AppException(
        ErrorCode.THROTTLED,
        `Too many failed sign-ins; try again in ${wait} s`,
        { retryAfterSeconds: wait },
        429,
        { 'Retry-After': String(wait) },
      );
    }
  }

  recordFailure(username: string, ip: string | null): void {
    const t = this.now();
    this.push(`u:${username.toLowerCase()}`, t);
    if (ip) this.push(`ip:${ip}`, t);
    if (++this.sweeps % 1000 === 0) this.sweep();
  }

  /** A successful sign-in clears the username's failures (not the IP's). */
  recordSuccess(username: string): void {
    this.failures.delete(`u:${username.toLowerCase()}`);
  }

  private waitFor(key: string, max: number): number {
    const recent = this.recent(key);
    if (recent.length < max) return 0;
    const oldestCounted = recent[recent.length - max];
    return Math.max(
      1,
      Math.ceil((oldestCounted + this.limits.windowSeconds * 1000 - this.now()) / 1000),
    );
  }

  private recent(key: string): number[] {
    const since = this.now() - this.limits.windowSeconds * 1000;
    const list = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (list.length) this.failures.set(key, list);
    else this.failures.delete(key);
    return list;
  }

  private push(key: string, t: number): void {
    const list = this.recent(key);
    list.push(t);
    this.failures.set(key, list);
  }

  private sweep(): void {
    for (const key of [...this.failures.keys()]) this.recent(key);
  }
}
