import { createPrivateKey, generateKeyPairSync, KeyObject, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { AllowedHost, parseAllowHosts } from 'src/common/outbound-fetch';
import { ConfigError, Environment, parseEnvironment } from 'src/config/environment';

export type DatabaseConfig = { type: 'sqlite'; path: string } | { type: 'mysql'; url: string };

/**
 * The resolved configuration: the validated environment plus the secrets it names,
 * or those generated once under DATA_DIR for the embedded default.
 */
export class AppConfig {
  readonly env: Environment['NODE_ENV'];
  readonly port: number;
  /** Interface the API listens on (HOST). */
  readonly host: string;
  /** MySQL innodb_lock_wait_timeout for every pooled session. */
  readonly dbLockWaitTimeoutSeconds: number;
  /** How long a stopping worker waits for running deliveries. */
  readonly shutdownGraceMs: number;
  readonly dataDir: string;
  readonly database: DatabaseConfig;
  readonly redisUrl?: string;
  readonly jwtSecret: string;
  readonly credentialsKey: Buffer;
  readonly auditSigningKey: KeyObject;
  /** Seconds between periodic audit checkpoints; 0: none. */
  readonly auditCheckpointIntervalSeconds: number;
  readonly seedDemoPassword?: string;
  readonly corsOrigins: string[] | boolean;
  readonly logLevel: string;
  readonly logFormat: 'json' | 'pretty';
  readonly accessTokenTtlSeconds: number;
  /** How long one process trusts a session it checked; see AuthService.resolve. */
  readonly sessionCacheMs: number;
  readonly refreshTokenTtlSeconds: number;
  readonly login: { maxPerUser: number; maxPerIp: number; windowSeconds: number };
  readonly bodyLimit: string;
  readonly publicBaseUrl: string;
  readonly publishing: {
    maxAttempts: number;
    backoffMs: number;
    timeoutMs: number;
    leaseSeconds: number;
    pollMs: number;
    concurrency: number;
    workersInApi: boolean;
    wechatBaseUrl: string;
    queuePrefix: string;
  };
  readonly trustProxy: boolean | number | string;
  /** Fetches of user-supplied URLs (see src/common/outbound-fetch.ts). */
  readonly outbound: { allowHosts: AllowedHost[]; timeoutMs: number };
  readonly media: { maxBytes: number; dir: string };

  constructor(e: Environment) {
    this.env = e.NODE_ENV;
    this.port = e.PORT;
    // Only production opens every interface by default: a trial install is not reachable from the LAN.
    this.host = e.HOST ?? (e.NODE_ENV === 'production' ? '0.0.0.0' : '127.0.0.1');
    this.dbLockWaitTimeoutSeconds = e.DB_LOCK_WAIT_TIMEOUT_SECONDS;
    this.shutdownGraceMs = e.SHUTDOWN_GRACE_MS;
    this.dataDir = resolve(e.DATA_DIR);
    this.database = parseDatabaseUrl(e.DATABASE_URL, this.dataDir);
    this.redisUrl = e.REDIS_URL;
    this.jwtSecret =
      e.JWT_SECRET ?? this.keptSecret('jwt-secret', () => randomBytes(48).toString('base64url'));
    this.credentialsKey = decodeKey(
      e.CREDENTIALS_KEY ??
        this.keptSecret('credentials-key', () => randomBytes(32).toString('hex')),
    );
    this.auditSigningKey = loadSigningKey(
      e.AUDIT_SIGNING_KEY ??
        this.keptSecret('audit-signing-key.pem', () =>
          generateKeyPairSync('ed25519')
            .privateKey.export({ type: 'pkcs8', format: 'pem' })
            .toString(),
        ),
    );
    this.auditCheckpointIntervalSeconds = e.AUDIT_CHECKPOINT_INTERVAL_SECONDS;
    this.seedDemoPassword = e.SEED_DEMO_PASSWORD;
    this.corsOrigins = e.CORS_ORIGINS
      ? e.CORS_ORIGINS === '*'
        ? true
        : e.CORS_ORIGINS.split(',').map((s) => s.trim())
      : false;
    this.logLevel = e.LOG_LEVEL;
    this.logFormat = e.LOG_FORMAT ?? (e.NODE_ENV === 'production' ? 'json' : 'pretty');
    this.accessTokenTtlSeconds = e.ACCESS_TOKEN_TTL_SECONDS;
    this.sessionCacheMs = e.AUTH_SESSION_CACHE_MS;
    this.refreshTokenTtlSeconds = e.REFRESH_TOKEN_TTL_SECONDS;
    this.login = {
      maxPerUser: e.LOGIN_MAX_FAILURES_PER_USER,
      maxPerIp: e.LOGIN_MAX_FAILURES_PER_IP,
      windowSeconds: e.LOGIN_THROTTLE_WINDOW_SECONDS,
    };
    this.bodyLimit = e.BODY_LIMIT;
    this.publicBaseUrl = (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
    this.publishing = {
      maxAttempts: e.PUBLISH_MAX_ATTEMPTS,
      backoffMs: e.PUBLISH_BACKOFF_MS,
      timeoutMs: e.PUBLISH_TIMEOUT_MS,
      leaseSeconds: e.PUBLISH_LEASE_SECONDS,
      pollMs: e.PUBLISH_POLL_MS,
      concurrency: e.PUBLISH_CONCURRENCY,
      workersInApi: e.PUBLISH_WORKERS_IN_API === 'true',
      wechatBaseUrl: e.WECHAT_API_BASE_URL,
      queuePrefix: e.QUEUE_PREFIX,
    };
    try {
      this.outbound = {
        allowHosts: parseAllowHosts(e.OUTBOUND_ALLOW_HOSTS),
        timeoutMs: e.OUTBOUND_TIMEOUT_MS,
      };
    } catch (err) {
      throw new ConfigError(`OUTBOUND_ALLOW_HOSTS: ${(err as Error).message}`);
    }
    this.media = { maxBytes: e.MEDIA_MAX_BYTES, dir: join(this.dataDir, 'media') };
    this.trustProxy =
      e.TRUST_PROXY === 'true'
        ? true
        : e.TRUST_PROXY === 'false'
          ? false
          : /^\d+$/.test(e.TRUST_PROXY)
            ? Number(e.TRUST_PROXY)
            : e.TRUST_PROXY;
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env): AppConfig {
    return new AppConfig(parseEnvironment(env));
  }

  get isEmbedded(): boolean {
    return this.database.type === 'sqlite';
  }

  /** A secret kept in a file under DATA_DIR, created on first use with mode 0600. */
  private keptSecret(file: string, generate: () => string): string {
    const path = join(this.dataDir, file);
    if (existsSync(path)) return readFileSync(path, 'utf8').trim();
    mkdirSync(this.dataDir, { recursive: true });
    const value = generate();
    writeFileSync(path, value + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
    return value;
  }
}

export function parseDatabaseUrl(url: string | undefined, dataDir: string): DatabaseConfig {
  if (!url) return { type: 'sqlite', path: join(dataDir, 'sanshen.sqlite') };
  if (url.startsWith('sqlite:')) {
    const p = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (!p) throw new ConfigError('DATABASE_URL sqlite: needs a file path');
    return { type: 'sqlite', path: p === ':memory:' ? p : isAbsolute(p) ? p : resolve(p) };
  }
  try {
    const u = new URL(url);
    if (u.protocol !== 'mysql:' || !u.hostname || u.pathname.length < 2) throw new Error();
  } catch {
    throw new ConfigError('DATABASE_URL must be mysql://user:pass@host:port/db or sqlite:<path>');
  }
  return { type: 'mysql', url };
}

function decodeKey(value: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(value)
    ? Buffer.from(value, 'hex')
    : Buffer.from(value, 'base64');
  if (key.length !== 32) throw new ConfigError('CREDENTIALS_KEY must decode to 32 bytes');
  return key;
}

function loadSigningKey(value: string): KeyObject {
  try {
    const key = value.includes('BEGIN')
      ? createPrivateKey(value)
      : createPrivateKey({ key: Buffer.from(value, 'base64'), format: 'der', type: 'pkcs8' });
    if (key.asymmetricKeyType !== 'ed25519') throw new Error();
    return key;
  } catch {
    throw new ConfigError(
      'AUDIT_SIGNING_KEY must be an Ed25519 private key (PKCS#8 PEM or base64 DER)',
    );
  }
}

/** For entry points: the configuration, or one line naming the bad setting and exit 1. */
export function configOrExit(env: NodeJS.ProcessEnv = process.env): AppConfig {
  try {
    return AppConfig.fromEnv(env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}
