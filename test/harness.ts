import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import request from 'supertest';
import type { App } from 'supertest/types';
import { createApp } from 'src/app.factory';
import { AppConfig } from 'src/config/app-config';
import { Role } from 'src/common/roles';
import { UsersService } from 'src/modules/users/users.service';

export const PASSWORD = 'correct-horse-battery';
export const USING_MYSQL = !!process.env.TEST_MYSQL_URL;

export interface TestApp {
  app: NestExpressApplication;
  http: App;
  config: AppConfig;
  adminToken: string;
  close(): Promise<void>;
}

/** A fresh, empty MySQL database named by TEST_MYSQL_URL: dropped and created anew. */
async function freshMysqlDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const db = decodeURIComponent(u.pathname.slice(1));
  u.pathname = '/';
  const conn = await createConnection(u.toString());
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await conn.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await conn.end();
  }
}

/**
 * The real HTTP application on a real database: a new SQLite file per call, or,
 * when TEST_MYSQL_URL is set, that MySQL database recreated empty. Migrations
 * run at start-up, as in production. An administrator is created as the CLI does.
 */
export async function startApp(
  env: Record<string, string> = {},
  opts: { admin?: boolean } = {},
): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sanshen-test-'));
  const base: Record<string, string> = {
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    // The fake receivers and platforms listen on loopback (any port), which the guarded fetcher
    // refuses unless listed. A test of the refusal sets its own exact list.
    OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
  };
  if (USING_MYSQL) {
    await freshMysqlDatabase(process.env.TEST_MYSQL_URL!);
    base.DATABASE_URL = process.env.TEST_MYSQL_URL!;
  }
  if (process.env.TEST_REDIS_URL) {
    base.REDIS_URL = process.env.TEST_REDIS_URL;
    base.QUEUE_PREFIX = `test-${process.pid}-${Date.now().toString(36)}`;
  }
  const config = AppConfig.fromEnv({ ...base, ...env });
  const app = await createApp(config);
  await app.init();
  const http = app.getHttpServer() as App;
  let adminToken = '';
  if (opts.admin !== false) {
    await app.get(UsersService).ensureAdmin('root', PASSWORD);
    adminToken = await login(http, 'root');
  }
  return {
    app,
    http,
    config,
    adminToken,
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function login(http: App, username: string, password = PASSWORD): Promise<string> {
  const res = await request(http).post('/api/v1/auth/login').send({ username, password });
  if (res.status !== 200)
    throw new Error(`login ${username}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.accessToken as string;
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

let seq = 0;
export const unique = (prefix: string) =>
  `${prefix}${Date.now().toString(36)}${(seq++).toString(36)}`;

/** Builders that go through the admin API, so every fixture is on the audit chain too. */
export class Org {
  constructor(private readonly t: TestApp) {}

  async department(overrides: Partial<{ name: string; code: string; isPropaganda: boolean }> = {}) {
    const code = overrides.code ?? unique('D');
    const res = await request(this.t.http)
      .post('/api/v1/departments')
      .set(bearer(this.t.adminToken))
      .send({ name: `部门 ${code}`, code, ...overrides });
    if (res.status !== 201)
      throw new Error(`department: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as { id: string; code: string; name: string; isPropaganda: boolean };
  }

  async user(
    roles: Role[],
    departmentId: string,
    overrides: Partial<{ username: string; displayName: string }> = {},
  ) {
    const username = overrides.username ?? unique('u');
    const res = await request(this.t.http)
      .post('/api/v1/users')
      .set(bearer(this.t.adminToken))
      .send({
        username,
        displayName: `用户 ${username}`,
        password: PASSWORD,
        roles,
        departmentId,
        ...overrides,
      });
    if (res.status !== 201) throw new Error(`user: ${res.status} ${JSON.stringify(res.body)}`);
    const token = await login(this.t.http, username);
    return {
      ...(res.body as { id: string; username: string; roles: Role[]; departmentId: string }),
      token,
    };
  }

  async channel(
    departmentId: string,
    overrides: Partial<{
      name: string;
      platform: string;
      acceptsSubmissions: boolean;
      config: object;
      credentials: object;
    }> = {},
  ) {
    const res = await request(this.t.http)
      .post('/api/v1/channels')
      .set(bearer(this.t.adminToken))
      .send({ name: unique('频道'), platform: 'website', departmentId, ...overrides });
    if (res.status !== 201) throw new Error(`channel: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as {
      id: string;
      name: string;
      platform: string;
      departmentId: string;
      generatedSecret?: string;
    };
  }
}
