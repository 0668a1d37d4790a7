import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import request from 'supertest';

const ROOT = join(__dirname, '..', '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** The gateway as its own OS process (src/main.ts through the swc hook), for crash tests. */
export class GatewayProcess {
  private child?: ChildProcess;
  readonly output: string[] = [];

  constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn(
      process.execPath,
      ['-r', join(ROOT, 'test/support/register-ts.js'), join(ROOT, 'src/main.ts')],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          NODE_PATH: ROOT,
          LOG_LEVEL: 'warn',
          // As startApp: the tests' receivers listen on loopback.
          OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
          ...this.env,
          PORT: String(this.port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child.stdout!.on('data', (d: Buffer) => this.output.push(d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => this.output.push(d.toString()));
    const until = Date.now() + 60_000;
    for (;;) {
      if (!this.running) throw new Error(`gateway exited: ${this.output.join('')}`);
      const ok = await request(this.url)
        .get('/health')
        .then((r) => r.status === 200 || r.status === 503)
        .catch(() => false);
      if (ok) return;
      if (Date.now() > until) throw new Error(`gateway did not start: ${this.output.join('')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  private get running(): boolean {
    // A process ended by a signal has a signalCode and no exitCode.
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** No shutdown hooks, no goodbyes: what a power cut or an OOM kill does. */
  async kill(): Promise<void> {
    const c = this.child;
    if (!c || !this.running) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || !this.running) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
    if (this.running) await this.kill();
  }
}
