import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from 'src/config/app-config';
import { Media } from 'src/modules/media/media.entity';
import { FileMediaStorage, MediaStorage } from 'src/modules/media/media-storage';
import { MediaService } from 'src/modules/media/media.service';
import { MediaUploadInterceptor } from 'src/modules/media/media-upload.interceptor';

/** Stored images: uploads, imports through the guarded fetcher, the bytes publishers send. */
@Module({
  imports: [TypeOrmModule.forFeature([Media])],
  providers: [
    MediaService,
    MediaUploadInterceptor,
    {
      provide: MediaStorage,
      inject: [AppConfig],
      useFactory: (c: AppConfig) => new FileMediaStorage(c.media.dir),
    },
  ],
  exports: [MediaService, MediaUploadInterceptor],
})
export class MediaModule {}
