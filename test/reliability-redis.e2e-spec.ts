import { Logger } from '@nestjs/common';
import { createServer, connect, Server, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startApp, TestApp } from 'test/harness';
import { startReceiver, waitFor } from 'test/fakes/webhook-receiver';
import { buildCampus, Campus, Flow } from 'test/workflow';

/** A TCP proxy in front of Redis that the test can cut and restore, on one port. */
async function redisProxy(target: URL) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const up = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port || 6379), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => undefined);
          s.on('close', () => sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as AddressInfo).port;
        resolve();
      });
    });
  const down = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server?.close(() => resolve());
    });
  await up();
  return { url: () => `redis://127.0.0.1:${port}`, up, down };
}

const redisDescribe = process.env.TEST_REDIS_URL ? describe : describe.skip;
if (!process.env.TEST_REDIS_URL) {
  process.stdout.write('reliability-redis skipped: TEST_REDIS_URL is not set\n');
}

redisDescribe('a Redis outage under the worker', () => {
  it('does not spin or flood the log, approvals keep committing, delivery resumes by itself, and stop is bounded', async () => {
    const proxy = await redisProxy(new URL(process.env.TEST_REDIS_URL!));
    const t: TestApp = await startApp({
      REDIS_URL: proxy.url(),
      PUBLISH_POLL_MS: '50',
      PUBLISH_BACKOFF_MS: '100',
      SHUTDOWN_GRACE_MS: '1500',
    });
    let closed = false;
    const rx = await startReceiver();
    try {
      const c: Campus = await buildCampus(t);
      const flow = new Flow(t);
      const ch = await c.b.channel({
        departmentId: c.school.id,
        platform: 'webhook',
        config: { url: rx.url },
      });
      await flow.at(c, 'approved', { channelIds: [ch.id] });
      await waitFor('first delivery', () => rx.deliveries.length === 1);

      const warned = jest.spyOn(Logger.prototype, 'warn');
      await proxy.down();
      const cpu0 = process.cpuUsage();
      const t0 = Date.now();
      // Approvals commit while Redis is away: the table is the outbox.
      const during = await flow.at(c, 'approved', { channelIds: [ch.id] });
      expect(during.state).toBe('approved');
      await new Promise((r) => setTimeout(r, 3000));
      const cpu = process.cpuUsage(cpu0);
      const busyMs = (cpu.user + cpu.system) / 1000;
      // A worker spinning on a fail-fast connection burns the whole 3 s (and logs per try).
      expect(busyMs).toBeLessThan((Date.now() - t0) * 0.6);
      const lines = warned.mock.calls.length;
      expect(lines).toBeLessThanOrEqual(6);
      expect(rx.deliveries).toHaveLength(1);

      await proxy.up();
      const back = Date.now();
      await waitFor('delivery after Redis returns', () => rx.deliveries.length >= 2, 10000);
      process.stdout.write(`delivery resumed ${Date.now() - back} ms after Redis returned\n`);
      warned.mockRestore();

      // A stop while Redis is away ends within the grace period (plus the forced close).
      await proxy.down();
      await new Promise((r) => setTimeout(r, 300));
      const s0 = Date.now();
      await t.close();
      closed = true;
      expect(Date.now() - s0).toBeLessThan(1500 + 3000);
    } finally {
      if (!closed) await t.close();
      await rx.close();
      await proxy.down();
    }
  }, 60000);
});
