import { spawn } from 'node:child_process';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from 'src/database/data-source-options';
import { startReceiver, waitFor } from 'test/fakes/webhook-receiver';
import { bearer, PASSWORD, startApp, TestApp } from 'test/harness';
import { freePort, GatewayProcess } from 'test/support/gateway-process';
import { buildCampus, expectOk, Flow } from 'test/workflow';

const ROOT = join(__dirname, '..');

/** Runs a CLI entry point as its own process, as `npm run …` does, and waits for it to end. */
function runCli(script: string, args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      ['-r', join(ROOT, 'test/support/register-ts.js'), join(ROOT, script), ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', NODE_PATH: ROOT, LOG_LEVEL: 'warn', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('the CLI root', () => {
  let t: TestApp;

  afterAll(() => t?.close());

  it('admin:create never starts an executor: a due publication stays undelivered while it runs', async () => {
    // The receiver refuses the first delivery, so the publication waits for a retry far ahead.
    const rx = await startReceiver({ plan: [503], fallback: 200 });
    try {
      t = await startApp({
        PUBLISH_POLL_MS: '50',
        PUBLISH_BACKOFF_MS: '3600000',
        PUBLISH_MAX_ATTEMPTS: '5',
      });
      const c = await buildCampus(t);
      const flow = new Flow(t);
      const ch = await c.org.channel(c.school.id, { platform: 'webhook', config: { url: rx.url } });
      const p = await flow.create(c.people.editor, [ch.id]);
      expectOk(await flow.submit(c.people.editor, p));
      expectOk(await flow.approve(c.people.head, p));
      expectOk(await flow.approve(c.people.prop, p));
      const pubs = () =>
        request(t.http).get(`/api/v1/publications?postId=${p.id}`).set(bearer(c.people.prop.token));
      await waitFor('the first, refused attempt', async () => {
        const items = (await pubs()).body.items as { status: string; attempts: number }[];
        return items[0]?.status === 'queued' && items[0].attempts === 1;
      });
      expect(rx.deliveries).toHaveLength(1);
      const { config } = t;
      await t.app.close();

      // Make it due now, as if the backoff had passed while nothing ran.
      const ds = new DataSource(dataSourceOptions(config.database));
      await ds.initialize();
      const due = async () =>
        (await ds.query(
          'SELECT status, attempts, nextAttemptAt FROM publications WHERE postId = ?',
          [p.id],
        )) as { status: string; attempts: number }[];
      try {
        await ds.query('UPDATE publications SET nextAttemptAt = ? WHERE postId = ?', [
          config.database.type === 'mysql' ? new Date(0) : '1970-01-01 00:00:00.000',
          p.id,
        ]);
        const env: Record<string, string> = {
          NODE_ENV: 'test',
          DATA_DIR: config.dataDir,
          ADMIN_PASSWORD: PASSWORD,
          ...(config.database.type === 'mysql' ? { DATABASE_URL: config.database.url } : {}),
        };
        const cli = await runCli('src/cli/admin-create.ts', ['--username', 'ops_admin'], env);
        expect(cli.output).toContain('Created administrator ops_admin');
        expect(cli.code).toBe(0);
        await new Promise((r) => setTimeout(r, 1000));
        expect(rx.deliveries).toHaveLength(1);
        expect(await due()).toEqual([expect.objectContaining({ status: 'queued', attempts: 1 })]);

        // The same row, due, is delivered as soon as an API runs: it was waiting all along.
        const api = new GatewayProcess(await freePort(), { ...env, PUBLISH_POLL_MS: '50' });
        await api.start();
        try {
          await waitFor('delivery by the API', () => rx.deliveries.length === 2);
          expect(rx.deliveries[1].headers['webhook-id']).toBe(
            rx.deliveries[0].headers['webhook-id'],
          );
        } finally {
          await api.stop();
        }
      } finally {
        await ds.destroy();
      }
    } finally {
      await rx.close();
    }
  });
});
