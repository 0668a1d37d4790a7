import { QueryFailedError } from 'typeorm';

interface DriverError {
  code?: string;
  errno?: number;
}

function driverError(e: unknown): DriverError | undefined {
  if (!(e instanceof QueryFailedError)) return undefined;
  return (e as QueryFailedError & { driverError?: DriverError }).driverError;
}

export function isUniqueViolation(e: unknown): boolean {
  const d = driverError(e);
  return (
    !!d &&
    (d.code === 'ER_DUP_ENTRY' ||
      d.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
      d.code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
  );
}

/** MySQL deadlock or lock-wait timeout: the whole transaction may be retried. */
export function isRetryableConflict(e: unknown): boolean {
  const d = driverError(e);
  return (
    !!d &&
    (d.code === 'ER_LOCK_DEADLOCK' || d.code === 'ER_LOCK_WAIT_TIMEOUT' || d.code === 'SQLITE_BUSY')
  );
}

/** Codes of a database that is unreachable, gone away, overloaded or shutting down. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_SERVER_SHUTDOWN',
  'ER_SERVER_GONE_ERROR',
  'ER_SERVER_LOST',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_LOCK_NOWAIT',
  'ER_LOCK_DEADLOCK',
  'ER_STATEMENT_TIMEOUT',
  'ER_QUERY_TIMEOUT',
  'SQLITE_BUSY',
]);

/** mysql2's own messages for a closed or exhausted pool (they carry no code). */
const UNAVAILABLE_MESSAGES = [
  /Pool is closed/i,
  /Queue limit reached/i,
  /Connection lost/i,
  /connect ETIMEDOUT/i,
  /Can't add new command when connection is in closed state/i,
];

function codeOf(e: unknown): string | undefined {
  const d = driverError(e) ?? (e as DriverError | undefined);
  return d && typeof d === 'object' && typeof d.code === 'string' ? d.code : undefined;
}

/**
 * The database (not the request) is the problem: unreachable, lost, out of connections,
 * or a lock that was not granted in time. Clients get 503 with Retry-After for these,
 * never 401 or 500: what they sent may well succeed a moment later.
 */
export function isDatabaseUnavailable(e: unknown): boolean {
  if (!e || typeof e !== 'object') return false;
  const code = codeOf(e);
  if (code && UNAVAILABLE_CODES.has(code)) return true;
  // TypeORM: the query runner was released or the data source lost its connection.
  const name = (e as Error).name;
  if (name === 'ConnectionIsNotSetError' || name === 'QueryRunnerAlreadyReleasedError') return true;
  const message = (e as Error).message;
  return typeof message === 'string' && UNAVAILABLE_MESSAGES.some((r) => r.test(message));
}

/** A row lock not granted: NOWAIT refused (MySQL 3572, MariaDB 1205) or the wait timed out. */
export function isLockNotGranted(e: unknown): boolean {
  const d = driverError(e);
  return (
    !!d &&
    (d.code === 'ER_LOCK_WAIT_TIMEOUT' ||
      d.code === 'ER_LOCK_NOWAIT' ||
      d.errno === 1205 ||
      d.errno === 3572)
  );
}
