import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/** Who asked and from where: read by the audit log without threading it through every call. */
export interface RequestContext {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

export function runWithRequestContext<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

type IdentifiedRequest = Request & { id?: unknown };

/** The request id: a caller's `x-request-id` when it is sane, else a new UUID. Stable per request. */
export function requestIdOf(req: IdentifiedRequest): string {
  if (typeof req.id === 'string') return req.id;
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
  req.id = id;
  return id;
}

/** First middleware: every response, even a body-parser refusal, carries the request id. */
export function assignRequestId(req: Request, res: Response, next: NextFunction): void {
  res.setHeader('x-request-id', requestIdOf(req));
  next();
}

/**
 * Opens the request context. Registered after the body parsers: their stream
 * callbacks would otherwise run outside it.
 */
export function openRequestContext(req: Request, _res: Response, next: NextFunction): void {
  const userAgent = req.header('user-agent');
  storage.run(
    {
      requestId: requestIdOf(req),
      ip: req.ip ?? null,
      userAgent: userAgent ? userAgent.slice(0, 255) : null,
    },
    next,
  );
}
