import { Queue } from 'bullmq';
import { Redis, RedisOptions } from 'ioredis';
import { PUBLICATIONS_QUEUE } from 'src/modules/publishing/executor';

/** The same mapping of a redis:// URL as PublishingModule's. */
export function redisOptions(url: string): RedisOptions & { host: string; port: number } {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}

/** Commands the server has processed so far (everyone's). */
export async function redisCommands(redis: Redis): Promise<number> {
  const info = await redis.info('stats');
  const m = /total_commands_processed:(\d+)/.exec(info);
  return m ? Number(m[1]) : 0;
}

export async function redisVersion(redis: Redis): Promise<string> {
  return /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
}

/** Removes the publications queue of each prefix (a bench run's keys); errors are ignored. */
export async function obliterateQueues(url: string, prefixes: readonly string[]): Promise<void> {
  for (const prefix of prefixes) {
    const q = new Queue(PUBLICATIONS_QUEUE, { connection: redisOptions(url), prefix });
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close();
  }
}
