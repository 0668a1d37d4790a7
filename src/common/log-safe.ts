import { QueryFailedError } from 'typeorm';

/** What a log line may say about an error: never SQL, bound parameters, bodies or secrets. */
export interface SafeError {
  type: string;
  message: string;
  code?: string;
  errno?: number;
  stack?: string;
}

const MAX_MESSAGE = 300;

/**
 * A database error is logged by its driver code only: its message may quote
 * values ("Duplicate entry '…'") and the error carries the query and its
 * parameters. Other errors keep a bounded message and their stack frames (the
 * first stack line repeats the message and is dropped).
 */
export function safeError(e: unknown): SafeError {
  if (e instanceof QueryFailedError) {
    const d = (e as QueryFailedError & { driverError?: { code?: unknown; errno?: unknown } })
      .driverError;
    const code = typeof d?.code === 'string' ? d.code : undefined;
    const errno = typeof d?.errno === 'number' ? d.errno : undefined;
    return {
      type: 'QueryFailedError',
      message: `query failed${code ? `: ${code}` : ''}${errno !== undefined ? ` (${errno})` : ''}`,
      code,
      errno,
      stack: frames(e.stack),
    };
  }
  if (e instanceof Error) {
    const code = (e as Error & { code?: unknown }).code;
    return {
      type: e.name,
      message: e.message.length > MAX_MESSAGE ? `${e.message.slice(0, MAX_MESSAGE)}…` : e.message,
      ...(typeof code === 'string' ? { code } : {}),
      stack: frames(e.stack),
    };
  }
  return { type: typeof e, message: 'non-error thrown' };
}

/** The message part of `safeError`, for one-line logs. */
export function safeMessage(e: unknown): string {
  return safeError(e).message;
}

function frames(stack: string | undefined): string | undefined {
  if (!stack) return undefined;
  const lines = stack.split('\n').filter((l) => /^\s+at /.test(l));
  return lines.length ? lines.join('\n') : undefined;
}
