import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Child, childEnv, ROOT } from './process';
import { sleep } from './stats';

/** Secrets a production-mode gateway needs, fresh for each run. */
export interface BenchKeys {
  jwt: string;
  credentials: string;
  audit: string;
}

export function benchKeys(): BenchKeys {
  return {
    jwt: randomBytes(48).toString('base64url'),
    credentials: randomBytes(32).toString('hex'),
    audit: generateKeyPairSync('ed25519')
      .privateKey.export({ type: 'pkcs8', format: 'der' })
      .toString('base64'),
  };
}

/** The environment the gateway's processes (API and worker) share in a bench. */
export function gatewayEnv(o: {
  databaseUrl: string;
  dataDir: string;
  keys: BenchKeys;
  extra?: Record<string, string>;
}): NodeJS.ProcessEnv {
  return childEnv({
    NODE_ENV: 'production',
    DATABASE_URL: o.databaseUrl,
    LOG_LEVEL: 'warn',
    DATA_DIR: o.dataDir,
    JWT_SECRET: o.keys.jwt,
    CREDENTIALS_KEY: o.keys.credentials,
    AUDIT_SIGNING_KEY: o.keys.audit,
    AUDIT_CHECKPOINT_INTERVAL_SECONDS: '0',
    // The benches' webhook receivers listen on loopback, which channel endpoints may not reach
    // unless listed.
    OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
    ...o.extra,
  });
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Polls GET /health until it answers 200. */
export async function waitForHealth(baseUrl: string, timeoutMs = 60_000): Promise<unknown> {
  const until = performance.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const res = await fetch(`${baseUrl}/health`);
      const body = await res.text();
      if (res.status === 200) return JSON.parse(body) as unknown;
      last = `${res.status} ${body.slice(0, 200)}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (performance.now() > until) throw new Error(`gateway not healthy: ${last}`);
    await sleep(200);
  }
}

/**
 * The built HTTP gateway (`dist/src/main.js`) as its own OS process on a free port,
 * started with `env` (see gatewayEnv), ready once /health answers 200.
 */
export class Gateway {
  private constructor(
    readonly child: Child,
    readonly baseUrl: string,
  ) {}

  static async start(
    env: NodeJS.ProcessEnv,
    opts: { preload?: string[]; port?: number; timeoutMs?: number } = {},
  ): Promise<Gateway> {
    const port = opts.port ?? (await freePort());
    const args = [
      // e.g. BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the gateway.
      ...(process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean),
      ...(opts.preload ?? []).flatMap((p) => ['-r', p]),
      join(ROOT, 'dist/src/main.js'),
    ];
    const child = new Child(
      'gateway',
      args,
      { ...env, PORT: String(port) },
      'Sanshen Gateway is up',
    );
    const gw = new Gateway(child, `http://127.0.0.1:${port}`);
    try {
      await child.waitReady(opts.timeoutMs ?? 60_000);
      await waitForHealth(gw.baseUrl, opts.timeoutMs ?? 60_000);
    } catch (e) {
      await child.stop();
      throw e;
    }
    return gw;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  cpuSeconds(): number | null {
    return this.child.cpuSeconds();
  }

  /**
   * Statements sent so far by the gateway's mysql2 connections, when it was started with
   * the sql-probe preloaded (null otherwise, or if it does not answer within a second).
   */
  async sqlCount(): Promise<number | null> {
    return new Promise<number | null>((resolve) => {
      const off = this.child.onProbe('SQL', (payload) => {
        clearTimeout(timer);
        off();
        const n = Number(payload);
        resolve(Number.isFinite(n) && n >= 0 ? n : null);
      });
      const timer = setTimeout(() => {
        off();
        resolve(null);
      }, 1000);
      this.child.signal('SIGWINCH');
    });
  }

  stop(): Promise<void> {
    return this.child.stop();
  }
}

/** Where the compiled sql-probe lives, for `Gateway.start(env, { preload: [SQL_PROBE] })`. */
export const SQL_PROBE = join(__dirname, 'sql-probe.js');
