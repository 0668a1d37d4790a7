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
