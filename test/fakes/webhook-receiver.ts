import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  json: { type: string; timestamp: string; data: Record<string, unknown> };
  answeredWith: number;
  at: number;
}

/**
 * A receiver on 127.0.0.1 that records every delivery and answers as told:
 * `plan` gives the status for each next request (then `fallback`).
 */
export async function startReceiver(
  opts: { plan?: number[]; fallback?: number; delayMs?: number; hang?: number } = {},
) {
  let hang = opts.hang ?? 0;
  const deliveries: Delivery[] = [];
  const plan = [...(opts.plan ?? [])];
  let fallback = opts.fallback ?? 200;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (hang > 0) {
        // Never answered: the delivery is in flight until the sender goes away.
        hang--;
        deliveries.push({
          headers: req.headers,
          body,
          json: JSON.parse(body),
          answeredWith: 0,
          at: Date.now(),
        });
        return;
      }
      const status = plan.length ? plan.shift()! : fallback;
      const answer = () => {
        deliveries.push({
          headers: req.headers,
          body,
          json: JSON.parse(body),
          answeredWith: status,
          at: Date.now(),
        });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(
          status < 300
            ? JSON.stringify({
                externalId: `ext-${deliveries.length}`,
                url: `https://news.example.edu.cn/${deliveries.length}`,
              })
            : '{"error":"nope"}',
        );
      };
      if (opts.delayMs) setTimeout(answer, opts.delayMs);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    deliveries,
    setFallback(status: number) {
      fallback = status;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
