import { HttpException } from '@nestjs/common';
import { DEFAULT_STATUS, ErrorCode } from 'src/common/error-code';

/** The one exception services throw for a refusal; the global filter renders it. */
export class AppException extends HttpException {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    status: number = DEFAULT_STATUS[code],
    readonly headers?: Record<string, string>,
  ) {
    super({ code, message, details }, status);
  }

  static notFound(what: string, id?: string | number): AppException {
    return new AppException(
      ErrorCode.NOT_FOUND,
      id === undefined ? `${what} not found` : `${what} ${id} not found`,
    );
  }

  static forbidden(message = 'You may not do this'): AppException {
    return new AppException(ErrorCode.FORBIDDEN, message);
  }
}
