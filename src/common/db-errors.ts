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
