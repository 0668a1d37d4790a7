import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, RequestHandler, Response } from 'express';
import multer, { MulterError } from 'multer';
import { Observable } from 'rxjs';
import { AppException } from 'src/common/app.exception';
import { ErrorCode } from 'src/common/error-code';
import { AppConfig } from 'src/config/app-config';

/**
 * Reads one multipart file part named `file` into memory (never to disk), at most
 * MEDIA_MAX_BYTES, and turns multer's refusals into the API's codes.
 */
@Injectable()
export class MediaUploadInterceptor implements NestInterceptor {
  private readonly upload: RequestHandler;

  constructor(config: AppConfig) {
    this.upload = multer({
      storage: multer.memoryStorage(),
      limits: { fileSize: config.media.maxBytes, files: 1, fields: 4, parts: 5 },
    }).single('file');
  }

  async intercept(ctx: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = ctx.switchToHttp();
    const req = http.getRequest<Request>();
    if (!req.is('multipart/form-data')) {
      throw new AppException(
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        'Send the image as multipart/form-data with a part named "file"',
      );
    }
    await new Promise<void>((resolve, reject) =>
      this.upload(req, http.getResponse<Response>(), (err: unknown) =>
        err ? reject(refusal(err)) : resolve(),
      ),
    );
    return next.handle();
  }
}

function refusal(err: unknown): AppException {
  if (err instanceof MulterError) {
    if (err.code === 'LIMIT_FILE_SIZE') {
      return new AppException(ErrorCode.PAYLOAD_TOO_LARGE, 'The image is too large');
    }
    return new AppException(ErrorCode.BAD_REQUEST, `Bad multipart upload: ${err.message}`, {
      field: err.field,
    });
  }
  return new AppException(ErrorCode.BAD_REQUEST, 'Bad multipart upload');
}
