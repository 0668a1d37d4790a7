import { createServer, Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import pinoHttp, { Options } from 'pino-http';
import request from 'supertest';
import { loggerModuleParams } from 'src/common/logging';
import { AppConfig } from 'src/config/app-config';
import { ConfigError } from 'src/config/environment';

const PRODUCTION = {
  NODE_ENV: 'production',
  JWT_SECRET: 'x'.repeat(40),
  CREDENTIALS_KEY: 'ab'.repeat(32),
  AUDIT_SIGNING_KEY: 'MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF',
  DATABASE_URL: 'mysql://u:p@db:3306/sanshen',
};

describe('log format', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sanshen-logging-'));
  const formatOf = (env: NodeJS.ProcessEnv) =>
    AppConfig.fromEnv({ DATA_DIR: dataDir, ...env }).logFormat;

  it.each([
    ['the embedded default', 'pretty', {}],
    ['NODE_ENV=development', 'pretty', { NODE_ENV: 'development' }],
    ['NODE_ENV=test', 'pretty', { NODE_ENV: 'test' }],
    ['NODE_ENV=production', 'json', PRODUCTION],
    ['LOG_FORMAT=json on the default', 'json', { LOG_FORMAT: 'json' }],
    ['LOG_FORMAT=pretty in production', 'pretty', { ...PRODUCTION, LOG_FORMAT: 'pretty' }],
    ['an empty LOG_FORMAT', 'pretty', { LOG_FORMAT: '' }],
  ])('%s gives %s', (_name, expected, env) => {
    expect(formatOf(env)).toBe(expected);
  });

  it('stops on an unknown LOG_FORMAT with one line naming it', () => {
    expect(() => formatOf({ LOG_FORMAT: 'xml' })).toThrow(ConfigError);
    expect(() => formatOf({ LOG_FORMAT: 'xml' })).toThrow(/^LOG_FORMAT /);
  });
});

/** The logger exactly as the app builds it, behind a bare HTTP server, writing into `lines`. */
async function serve(
  logFormat: 'json' | 'pretty',
  logLevel = 'info',
): Promise<{ server: Server; lines: string[]; log: ReturnType<typeof pinoHttp>['logger'] }> {
  const lines: string[] = [];
  const out: DestinationStream = { write: (s: string) => void lines.push(s) };
  const [options, stream] = loggerModuleParams({ logFormat, logLevel }, out).pinoHttp as [
    Options,
    DestinationStream,
  ];
  const middleware = pinoHttp(options, stream);
  const server = createServer((req, res) => {
    middleware(req, res);
    res.statusCode = Number(new URL(req.url!, 'http://x').pathname.slice(1));
    res.setHeader('set-cookie', 'sid=secret-cookie');
    res.end('{}');
  });
  return { server, lines, log: middleware.logger };
}

const get = (server: Server, path: string) =>
  request(server)
    .get(path)
    .set('authorization', 'Bearer secret-token')
    .set('cookie', 'sid=secret-cookie');

describe('readable logs', () => {
  it('print nothing for a normal or refused request at the default level', async () => {
    const { server, lines } = await serve('pretty');
    await get(server, '/200');
    await get(server, '/404');
    expect(lines).toEqual([]);
  });

  it('print a server error as one line with the request id, never the query or the token', async () => {
    const { server, lines } = await serve('pretty');
    await get(server, '/500?q=personal');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] ERROR: GET \/500\?\[Redacted\] 500 .* \(request [\w-]+\)\n$/,
    );
    expect(lines[0]).not.toMatch(/personal|secret|pid|hostname|\{/);
  });

  it('print request lines at debug', async () => {
    const { server, lines } = await serve('pretty', 'debug');
    await get(server, '/200');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[[\d:.]+\] DEBUG: GET \/200 200 \d+ ms\n$/);
  });

  it('show the context before the message and keep Nest wiring for debug', async () => {
    const { lines, log } = await serve('pretty');
    log.info({ context: 'RouterExplorer' }, 'Mapped {/x, GET} route');
    log.info({ context: 'InstanceLoader' }, 'XModule dependencies initialized');
    log.info({ context: 'NestApplication' }, 'Nest application successfully started');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\[[\d:.]+\] INFO: \[NestApplication\] Nest application successfully started\n$/,
    );
  });
});

describe('JSON logs', () => {
  it('write one JSON object per request, with secrets and query strings redacted', async () => {
    const { server, lines } = await serve('json');
    await get(server, '/200?q=personal');
    await get(server, '/404');
    await get(server, '/500');
    const records = lines.map((l) => JSON.parse(l) as Record<string, any>);
    expect(records.map((r) => r.level)).toEqual([30, 40, 50]);
    expect(records[0].req.url).toBe('/200?[Redacted]');
    expect(records[0].req.query).toBeUndefined();
    expect(records[0].req.headers.authorization).toBe('[Redacted]');
    expect(records[0].req.headers.cookie).toBe('[Redacted]');
    expect(records[0].res.headers['set-cookie']).toBe('[Redacted]');
    expect(lines.join('')).not.toMatch(/personal|secret/);
  });

  it('keep Nest wiring for debug too', async () => {
    const { lines, log } = await serve('json');
    log.info({ context: 'RoutesResolver' }, 'XController {/x}:');
    expect(lines).toEqual([]);
  });
});
