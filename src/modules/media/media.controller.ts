import { Controller, Get, Param, Post, Res, UploadedFile, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AppException } from 'src/common/app.exception';
import type { AuthUser } from 'src/common/auth-user';
import { CurrentUser, Public, Roles } from 'src/common/decorators';
import { ErrorCode } from 'src/common/error-code';
import { Role } from 'src/common/roles';
import { MediaService, mediaRefOf } from 'src/modules/media/media.service';
import { MediaUploadInterceptor } from 'src/modules/media/media-upload.interceptor';

/** Uploads: an editor adds a picture, then names its URL in a post body or as the cover. */
@ApiTags('media')
@ApiBearerAuth()
@Controller('media')
export class MediaController {
  constructor(private readonly media: MediaService) {}

  @Roles(Role.EDITOR)
  @Post()
  @UseInterceptors(MediaUploadInterceptor)
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file'],
      properties: { file: { type: 'string', format: 'binary' } },
    },
  })
  upload(@UploadedFile() file: { buffer: Buffer } | undefined, @CurrentUser() user: AuthUser) {
    if (!file) {
      throw new AppException(ErrorCode.VALIDATION_FAILED, 'Invalid input: file', [
        { field: 'file', errors: ['a multipart part named "file" is required'] },
      ]);
    }
    return this.media.upload(file.buffer, user.id);
  }
}

/**
 * The stored images, public and outside /api/v1 like /sites: a published article and a
 * university page embed them. A URL names its bytes by digest, so it can be cached forever.
 */
@ApiTags('media')
@Public()
@Controller('media')
export class MediaFilesController {
  constructor(private readonly media: MediaService) {}

  @Get(':file')
  async serve(@Param('file') file: string, @Res() res: Response): Promise<void> {
    const ref = mediaRefOf(`http://x/media/${file}`);
    const found = ref ? await this.media.read(ref) : null;
    if (!found) throw AppException.notFound('Media', file.slice(0, 80));
    res
      .status(200)
      .set({
        'Content-Type': found.media.mimeType,
        'Content-Length': String(found.bytes.length),
        'Cache-Control': 'public, max-age=31536000, immutable',
        ETag: `"${found.media.sha256}"`,
        'X-Content-Type-Options': 'nosniff',
        // Embedded by other sites (the university's pages, feed readers).
        'Cross-Origin-Resource-Policy': 'cross-origin',
        'Content-Security-Policy': "default-src 'none'; sandbox",
      })
      .end(found.bytes);
  }
}
