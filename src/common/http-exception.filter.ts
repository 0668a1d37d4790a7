import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { QueryFailedError } from 'typeorm';
import { AppException } from 'src/common/app.exception';
import { ErrorCode } from 'src/common/error-code';
import { isDatabaseUnavailable, isUniqueViolation } from 'src/common/db-errors';
import { safeError } from 'src/common/log-safe';
import { jsonShapeProblem } from 'src/common/validation';

/** Seconds a client is asked to wait after a dependency outage: about one reconnect. */
export const OUTAGE_RETRY_AFTER_SECONDS = 2;

interface ErrorBody {
  statusCode: number;
  code: ErrorCode | string;
  message: string;
  details?: unknown;
  requestId?: string;
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: ErrorCode.BAD_REQUEST,
  401: ErrorCode.UNAUTHENTICATED,
  403: ErrorCode.FORBIDDEN,
  404: ErrorCode.NOT_FOUND,
  409: ErrorCode.CONFLICT,
  413: ErrorCode.PAYLOAD_TOO_LARGE,
  415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
  422: ErrorCode.BUSINESS_RULE,
  429: ErrorCode.THROTTLED,
  503: ErrorCode.SERVICE_UNAVAILABLE,
};

/** Errors raised by Express' body parser carry `type` and `status`. */
interface BodyParserError {
  type?: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
}

/**
 * Maps every error to the shape of docs/spec.md, "Errors":
 * `{statusCode, code, message, details?, requestId}`.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    const requestId = (req as Request & { id?: string }).id;
    if (isDatabaseUnavailable(exception)) {
      // Once, here, with the request id; the statement and its parameters stay out of the log.
      this.logger.error(
        { requestId, db: safeError(exception) },
        'database unavailable: answered 503',
      );
      if (!res.headersSent) {
        res.setHeader('Retry-After', String(OUTAGE_RETRY_AFTER_SECONDS));
        res.status(503).json({
          statusCode: 503,
          code: ErrorCode.SERVICE_UNAVAILABLE,
          message: 'The service is temporarily unavailable; try again shortly',
          requestId,
        } satisfies ErrorBody);
      }
      return;
    }
    const body = this.toBody(exception);
    body.requestId = requestId;
    if (body.statusCode >= 500) {
      // Never the error object itself: a QueryFailedError carries the SQL and its parameters.
      const err = safeError(exception);
      this.logger.error({ err, requestId }, err.message);
    }
    if (exception instanceof AppException && exception.headers) {
      for (const [k, v] of Object.entries(exception.headers)) res.setHeader(k, v);
    }
    if (body.statusCode === 503 && !res.getHeader('Retry-After')) {
      res.setHeader('Retry-After', String(OUTAGE_RETRY_AFTER_SECONDS));
    }
    if (res.headersSent) return;
    res.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown): ErrorBody {
    if (exception instanceof AppException) {
      return {
        statusCode: exception.getStatus(),
        code: exception.code,
        message: exception.message,
        ...(exception.details === undefined ? {} : { details: exception.details }),
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const message =
        typeof response === 'object' && response && 'message' in response
          ? String((response as { message: unknown }).message)
          : exception.message;
      return {
        statusCode: status,
        code:
          CODE_BY_STATUS[status] ?? (status >= 500 ? ErrorCode.INTERNAL : ErrorCode.BAD_REQUEST),
        message,
      };
    }
    if (exception instanceof QueryFailedError && isUniqueViolation(exception)) {
      return {
        statusCode: 409,
        code: ErrorCode.DUPLICATE,
        message: 'A record with this key exists',
      };
    }
    const bp = exception as BodyParserError;
    const carried = bp && typeof bp === 'object' ? (bp.status ?? bp.statusCode) : undefined;
    if (typeof carried === 'number' && carried >= 400 && carried < 500 && !bp.type) {
      // Any other error that says it is the client's (http-errors and the like) stays a 4xx.
      return {
        statusCode: carried,
        code: CODE_BY_STATUS[carried] ?? ErrorCode.BAD_REQUEST,
        message: bp.expose && exception instanceof Error ? exception.message : 'Bad request',
      };
    }
    if (bp && typeof bp === 'object' && typeof bp.type === 'string') {
      if (bp.type === 'entity.parse.failed') {
        return {
          statusCode: 400,
          code: ErrorCode.MALFORMED_JSON,
          message: 'Request body is not valid JSON',
        };
      }
      if (bp.type === 'entity.too.large') {
        return {
          statusCode: 413,
          code: ErrorCode.PAYLOAD_TOO_LARGE,
          message: 'Request body is too large',
        };
      }
      const status = bp.status ?? bp.statusCode ?? 400;
      if (status >= 400 && status < 500) {
        return {
          statusCode: status,
          code: CODE_BY_STATUS[status] ?? ErrorCode.BAD_REQUEST,
          message: 'The request body could not be read',
        };
      }
    }
    return { statusCode: 500, code: ErrorCode.INTERNAL, message: 'Internal server error' };
  }
}

/**
 * Express error middleware placed right after the body parsers: turns their
 * refusals into AppExceptions before Nest flattens them into a bare 400.
 */
export function bodyParserErrors(
  err: unknown,
  _req: Request,
  _res: Response,
  next: (e?: unknown) => void,
): void {
  const bp = err as BodyParserError;
  if (bp?.type === 'entity.parse.failed') {
    return next(new AppException(ErrorCode.MALFORMED_JSON, 'Request body is not valid JSON'));
  }
  if (bp?.type === 'entity.too.large') {
    return next(new AppException(ErrorCode.PAYLOAD_TOO_LARGE, 'Request body is too large'));
  }
  if (bp?.type === 'charset.unsupported' || bp?.type === 'encoding.unsupported') {
    return next(
      new AppException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'Request body encoding is not supported'),
    );
  }
  const status = bp?.status ?? bp?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // A body that says gzip (deflate, br) but is not, or a stream that broke off.
    return next(
      new AppException(
        ErrorCode.MALFORMED_BODY,
        'The request body could not be read (bad content encoding or truncated)',
      ),
    );
  }
  next(err);
}

/**
 * Limits on a JSON body's shape, checked before any pipe walks it: class-transformer
 * recurses (a 10,000-deep body overflowed the stack) and copies every item of an
 * array or object (100,000 ids took most of a second). No DTO takes anything near
 * these; a body that needs more is a different API (an upload).
 */
export const JSON_LIMITS = { maxDepth: 32, maxItems: 1000 } as const;

/** Express middleware after the JSON parser: 400 JSON_TOO_DEEP / JSON_TOO_COMPLEX. */
export function jsonShapeLimit(req: Request, _res: Response, next: (e?: unknown) => void): void {
  const body: unknown = req.body;
  if (body === null || typeof body !== 'object') return next();
  const problem = jsonShapeProblem(body, JSON_LIMITS);
  if (problem === 'depth') {
    return next(
      new AppException(
        ErrorCode.JSON_TOO_DEEP,
        `Request body is nested deeper than ${JSON_LIMITS.maxDepth} levels`,
      ),
    );
  }
  if (problem === 'items') {
    return next(
      new AppException(
        ErrorCode.JSON_TOO_COMPLEX,
        `Request body has an array or object of more than ${JSON_LIMITS.maxItems} entries`,
      ),
    );
  }
  next();
}
