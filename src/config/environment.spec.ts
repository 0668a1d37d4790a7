import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from 'src/config/app-config';
import { ConfigError, parseEnvironment } from 'src/config/environment';

describe('configuration', () => {
  const fail = (env: NodeJS.ProcessEnv): string => {
    try {
      parseEnvironment(env);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    throw new Error('expected a ConfigError');
  };

  it('defaults to the embedded database and port 3000', () => {
    const e = parseEnvironment({});
    expect(e.PORT).toBe(3000);
    expect(e.DATABASE_URL).toBeUndefined();
  });

  it.each([
    [{ PORT: 'eighty' }, /^PORT /],
    [{ PORT: '70000' }, /^PORT /],
    [{ DATABASE_URL: 'postgres://x' }, /^DATABASE_URL /],
    [{ REDIS_URL: 'localhost:6379' }, /^REDIS_URL /],
    [{ JWT_SECRET: 'short' }, /^JWT_SECRET /],
    [{ CREDENTIALS_KEY: 'abc' }, /^CREDENTIALS_KEY /],
    [{ NODE_ENV: 'prod' }, /^NODE_ENV /],
  ])('stops on a malformed value with one line naming it: %j', (env, pattern) => {
    const msg = fail(env);
    expect(msg).toMatch(pattern);
    expect(msg).not.toContain('\n');
  });

  it('requires secrets and MySQL in production', () => {
    expect(fail({ NODE_ENV: 'production' })).toMatch(/^JWT_SECRET is required/);
    const secrets = {
      NODE_ENV: 'production',
      JWT_SECRET: 'x'.repeat(40),
      CREDENTIALS_KEY: 'ab'.repeat(32),
      AUDIT_SIGNING_KEY: 'MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF',
    };
    expect(fail(secrets)).toMatch(/^DATABASE_URL must be a mysql/);
    expect(fail({ ...secrets, DATABASE_URL: 'sqlite:/tmp/x.db' })).toMatch(/^DATABASE_URL/);
    expect(
      parseEnvironment({ ...secrets, DATABASE_URL: 'mysql://u:p@db:3306/sanshen' }).NODE_ENV,
    ).toBe('production');
  });

  it('generates missing secrets once under DATA_DIR, readable only by the owner, and keeps them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sanshen-config-'));
    const a = AppConfig.fromEnv({ DATA_DIR: dir });
    const b = AppConfig.fromEnv({ DATA_DIR: dir });
    expect(a.jwtSecret).toBe(b.jwtSecret);
    expect(a.credentialsKey.equals(b.credentialsKey)).toBe(true);
    expect(a.credentialsKey).toHaveLength(32);
    expect(statSync(join(dir, 'jwt-secret')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'audit-signing-key.pem'), 'utf8')).toContain('PRIVATE KEY');
    expect(a.database).toEqual({ type: 'sqlite', path: join(dir, 'sanshen.sqlite') });
  });

  it('listens on 127.0.0.1 unless production or HOST says otherwise', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sanshen-config-'));
    expect(AppConfig.fromEnv({ DATA_DIR: dir }).host).toBe('127.0.0.1');
    expect(AppConfig.fromEnv({ DATA_DIR: dir, HOST: '::' }).host).toBe('::');
    expect(AppConfig.fromEnv({ DATA_DIR: dir }).dbLockWaitTimeoutSeconds).toBe(3);
    expect(
      AppConfig.fromEnv({
        DATA_DIR: dir,
        NODE_ENV: 'production',
        JWT_SECRET: 'x'.repeat(40),
        CREDENTIALS_KEY: 'ab'.repeat(32),
        AUDIT_SIGNING_KEY: 'MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF',
        DATABASE_URL: 'mysql://u:p@db:3306/sanshen',
      }).host,
    ).toBe('0.0.0.0');
    expect(fail({ HOST: 'a b' })).toMatch(/^HOST /);
  });
});
