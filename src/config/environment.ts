import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';

const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === ''
    ? undefined
    : /^-?\d+$/.test(String(value))
      ? Number(value)
      : value;
const emptyToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

/**
 * Every environment variable the gateway reads. Validated once at boot; the first
 * bad one stops start-up with a line that names it. See `.env.example`.
 */
export class Environment {
  @IsOptional()
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  /** Interface the API listens on. Unset: 0.0.0.0 when NODE_ENV=production, else 127.0.0.1. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^[0-9A-Za-z.:[\]-]+$/, { message: 'must be an address or host name, e.g. 127.0.0.1' })
  HOST?: string;

  /**
   * Seconds a MySQL statement waits for a row lock before it gives up (per session):
   * a request then fails with 503 rather than outliving its client.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(120)
  DB_LOCK_WAIT_TIMEOUT_SECONDS = 3;

  /** How long a stopping worker waits for running deliveries before it lets go of them. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600000)
  SHUTDOWN_GRACE_MS = 10000;

  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^(sqlite:.+|mysql:\/\/[^\s]+)$/, {
    message: 'must be mysql://user:pass@host:port/db or sqlite:<path>',
  })
  DATABASE_URL?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^rediss?:\/\/[^\s]+$/, { message: 'must be redis://host:port' })
  REDIS_URL?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'must be at least 32 characters' })
  JWT_SECRET?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/, {
    message: 'must be 32 bytes as 64 hex digits or base64',
  })
  CREDENTIALS_KEY?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @Matches(/BEGIN PRIVATE KEY|^[A-Za-z0-9+/=]{40,}$/, {
    message: 'must be an Ed25519 private key (PKCS#8 PEM or base64 DER)',
  })
  AUDIT_SIGNING_KEY?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(8, { message: 'must be at least 8 characters' })
  SEED_DEMO_PASSWORD?: string;

  /** Seconds between periodic signed audit checkpoints; 0 turns them off. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(24 * 24 * 3600) // Node's longest timer is just under 25 days
  AUDIT_CHECKPOINT_INTERVAL_SECONDS = 3600;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  DATA_DIR = 'data';

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  CORS_ORIGINS?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** Unset: `json` when NODE_ENV=production, else `pretty` (one readable line per record). */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsIn(['json', 'pretty'])
  LOG_FORMAT?: 'json' | 'pretty';

  @Transform(toInt)
  @IsInt()
  @Min(60)
  ACCESS_TOKEN_TTL_SECONDS = 900;

  /** How long one process trusts a session it checked (ms); 0: check on every request. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(60000)
  AUTH_SESSION_CACHE_MS = 2000;

  @Transform(toInt)
  @IsInt()
  @Min(300)
  REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  LOGIN_MAX_FAILURES_PER_USER = 5;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  LOGIN_MAX_FAILURES_PER_IP = 50;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  LOGIN_THROTTLE_WINDOW_SECONDS = 900;

  /** Express' "trust proxy": false, true, a hop count, or a list of proxy addresses. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  TRUST_PROXY = 'false';

  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^\d+(kb|mb)$/i, { message: 'must be a size like 512kb or 5mb' })
  BODY_LIMIT = '5mb';

  /** Where this gateway is reachable from outside: links in website feeds and pages. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'must be an http(s) URL' })
  PUBLIC_BASE_URL?: string;

  /** Attempts per publication (publish or retract) before it is `failed`. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(50)
  PUBLISH_MAX_ATTEMPTS = 8;

  /** First retry delay; doubles each attempt (with ±20% jitter), capped at one hour. */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  PUBLISH_BACKOFF_MS = 5000;

  /** How long one delivery may take before it counts as failed. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  PUBLISH_TIMEOUT_MS = 15000;

  /** How long an executor holds a publication while it delivers; a crash frees it after this. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  PUBLISH_LEASE_SECONDS = 60;

  /** How often the executor (or, with Redis, the relay) looks for due publications. */
  @Transform(toInt)
  @IsInt()
  @Min(20)
  PUBLISH_POLL_MS = 1000;

  /** Deliveries one process runs at once. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  PUBLISH_CONCURRENCY = 4;

  /** Run the publishing workers inside the API process (set false when running `npm run start:worker`). */
  @IsOptional()
  @IsIn(['true', 'false'])
  PUBLISH_WORKERS_IN_API = 'true';

  /** Prefix of the BullMQ keys in Redis: lets several gateways (or test runs) share one Redis. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,32}$/, { message: 'must be 1-32 letters, digits, _ or -' })
  QUEUE_PREFIX = 'sanshen';

  /**
   * Hosts that user-supplied URLs (post images, covers) may reach although they resolve to a
   * loopback, private or otherwise internal address: comma-separated `host[:port]`. Empty by
   * default in every mode; tests name their local servers here.
   */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(
    /^\s*(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?\s*(,\s*(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?\s*)*$/,
    {
      message: 'must be comma-separated host or host:port entries',
    },
  )
  OUTBOUND_ALLOW_HOSTS?: string;

  /** How long one fetch of a user-supplied URL may take, redirects included. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(120000)
  OUTBOUND_TIMEOUT_MS = 10000;

  /** Largest image accepted, uploaded or imported from a URL, in bytes. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(100 * 1024 * 1024)
  MEDIA_MAX_BYTES = 10 * 1024 * 1024;

  /** WeChat official-account API base (a local server speaking its protocol in tests). */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'must be an http(s) URL' })
  WECHAT_API_BASE_URL = 'https://api.weixin.qq.com';
}

export class ConfigError extends Error {}

/** Variables without a default (so absent from `new Environment()`'s keys). */
const OPTIONAL_KEYS = [
  'HOST',
  'PUBLIC_BASE_URL',
  'DATABASE_URL',
  'REDIS_URL',
  'JWT_SECRET',
  'CREDENTIALS_KEY',
  'AUDIT_SIGNING_KEY',
  'SEED_DEMO_PASSWORD',
  'CORS_ORIGINS',
  'LOG_FORMAT',
  'OUTBOUND_ALLOW_HOSTS',
];

/** Validates the environment; throws a ConfigError whose message is one line naming the variable. */
export function parseEnvironment(env: NodeJS.ProcessEnv): Environment {
  const known = Object.keys(new Environment());
  const raw: Record<string, string> = {};
  for (const key of [...known, ...OPTIONAL_KEYS]) {
    const v = env[key];
    if (v !== undefined) raw[key] = v;
  }
  const parsed = plainToInstance(Environment, raw, { exposeDefaultValues: true });
  const errors = validateSync(parsed, { skipMissingProperties: false });
  if (errors.length > 0) {
    const e = errors[0];
    const why = Object.values(e.constraints ?? {})[0] ?? 'is invalid';
    throw new ConfigError(`${e.property} ${why.replace(new RegExp(`^${e.property}\\s*`), '')}`);
  }
  if (parsed.NODE_ENV === 'production') {
    for (const name of ['JWT_SECRET', 'CREDENTIALS_KEY', 'AUDIT_SIGNING_KEY'] as const) {
      if (!parsed[name]) throw new ConfigError(`${name} is required when NODE_ENV=production`);
    }
    if (!parsed.DATABASE_URL?.startsWith('mysql://')) {
      throw new ConfigError('DATABASE_URL must be a mysql:// URL when NODE_ENV=production');
    }
  }
  return parsed;
}
