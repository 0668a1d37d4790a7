import type { RedisOptions } from 'ioredis';

/** REDIS_URL (`redis://` or `rediss://`, user, password, db) as ioredis connection options. */
export function redisConnection(url: string): RedisOptions {
  const redis = new URL(url);
  return {
    host: redis.hostname,
    port: Number(redis.port || 6379),
    username: redis.username || undefined,
    password: redis.password ? decodeURIComponent(redis.password) : undefined,
    db: redis.pathname.length > 1 ? Number(redis.pathname.slice(1)) : 0,
    tls: redis.protocol === 'rediss:' ? {} : undefined,
  };
}

/** Reconnect after 0.5 s, 1 s, 2 s … at most every 5 s, with jitter: never a tight loop. */
export function redisRetryDelay(times: number): number {
  const base = Math.min(500 * 2 ** Math.min(times - 1, 4), 5000);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/**
 * For queue producers (the relay, /health's figures): a command while Redis is down
 * fails at once, so no caller waits on Redis; the table keeps the work.
 */
export function producerConnection(url: string): RedisOptions {
  return {
    ...redisConnection(url),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: redisRetryDelay,
  };
}

/**
 * For BullMQ workers: commands wait while Redis is away (maxRetriesPerRequest null, as
 * BullMQ requires of a worker) and the connection comes back by itself with backoff.
 * A worker given the producer's fail-fast options spins on "Stream isn't writeable".
 */
export function workerConnection(url: string): RedisOptions {
  return {
    ...redisConnection(url),
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    retryStrategy: redisRetryDelay,
  };
}
