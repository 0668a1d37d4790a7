import Redis from 'ioredis';
import {
  RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import { AppException } from 'src/common/app.exception';
import { ErrorCode } from 'src/common/error-code';
import { redisConnection } from 'src/common/redis-connection';

export interface ThrottleLimits {
  maxPerUser: number;
  maxPerIp: number;
  windowSeconds: number;
}

export interface ThrottleStore {
  /** REDIS_URL: counters shared by every API process. Without it, this process's memory. */
  redisUrl?: string;
  /** Keeps test runs (and deployments) sharing one Redis apart. */
  keyPrefix?: string;
}

/** A sign-in attempt that holds a place in both counters until it is settled. */
export interface Reservation {
  username: string;
  ip: string | null;
}

/**
 * Sign-in attempts per username and per IP in a fixed window of `windowSeconds`.
 *
 * An attempt is reserved (counted) before the password is verified, so concurrent
 * attempts cannot all slip past the check; a successful sign-in gives its points
 * back (the username's all of them, the IP's the one it took). What is counted is
 * therefore the failures, as before, but race-free.
 *
 * With REDIS_URL the counters live in Redis (atomic increments), shared by every
 * API process. When Redis cannot answer (down, not yet connected, slower than
 * 500 ms), each process falls back to its own in-memory counters with the same
 * limits (rate-limiter-flexible's insurance limiter): sign-in stays available
 * and limited, never a 500 and never unlimited; the limit is per process for
 * that time. See docs/decisions.md.
 */
export class LoginThrottle {
  private readonly perUser: RateLimiterAbstract;
  private readonly perIp: RateLimiterAbstract;
  private readonly redis?: Redis;

  constructor(
    private readonly limits: ThrottleLimits,
    store: ThrottleStore = {},
  ) {
    const prefix = `${store.keyPrefix ?? 'sanshen'}:login`;
    const memory = (points: number, keyPrefix: string) =>
      new RateLimiterMemory({ points, duration: limits.windowSeconds, keyPrefix });
    if (store.redisUrl) {
      this.redis = new Redis({
        ...redisConnection(store.redisUrl),
        // Fail fast instead of queueing while disconnected: the insurance limiter answers then.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        commandTimeout: 500,
        lazyConnect: false,
      });
      // Errors are handled per call (insurance); without a listener ioredis would log each one.
      this.redis.on('error', () => undefined);
      const redis = (points: number, keyPrefix: string) =>
        new RateLimiterRedis({
          storeClient: this.redis,
          points,
          duration: limits.windowSeconds,
          keyPrefix,
          rejectIfRedisNotReady: true,
          insuranceLimiter: memory(points, keyPrefix),
        });
      this.perUser = redis(limits.maxPerUser, `${prefix}:u`);
      this.perIp = redis(limits.maxPerIp, `${prefix}:ip`);
    } else {
      this.perUser = memory(limits.maxPerUser, `${prefix}:u`);
      this.perIp = memory(limits.maxPerIp, `${prefix}:ip`);
    }
  }

  /**
   * Takes one attempt from the username's and the IP's allowance, or throws
   * 429 THROTTLED with Retry-After when either is used up.
   */
  async reserve(given: string, ip: string | null): Promise<Reservation> {
    const username = given.toLowerCase();
    const taken = await Promise.allSettled([
      this.perUser.consume(username),
      ip ? this.perIp.consume(ip) : Promise.resolve(null),
    ]);
    const refused = taken
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => r.reason as unknown);
    if (!refused.length) return { username, ip };
    const waitMs = Math.max(
      ...refused.map((r) =>
        r instanceof RateLimiterRes ? r.msBeforeNext : this.limits.windowSeconds * 1000,
      ),
    );
    const wait = Math.max(1, Math.ceil(waitMs / 1000));
    throw new AppException(
      ErrorCode.THROTTLED,
      `Too many failed sign-ins; try again in ${wait} s`,
      { retryAfterSeconds: wait },
      429,
      { 'Retry-After': String(wait) },
    );
  }

  /** A successful sign-in clears the username's count and returns the IP's point. */
  async succeeded(r: Reservation): Promise<void> {
    await Promise.allSettled([
      this.perUser.delete(r.username),
      r.ip ? this.perIp.reward(r.ip, 1) : Promise.resolve(),
    ]);
  }

  async close(): Promise<void> {
    if (this.redis) this.redis.disconnect();
  }
}
