import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AppException } from 'src/common/app.exception';
import { ErrorCode } from 'src/common/error-code';
import { imageSources, replaceImageSources } from 'src/common/html-text';
import { OutboundError, OutboundFetcher } from 'src/common/outbound-fetch';
import { AppConfig } from 'src/config/app-config';
import { ImageRejected, processImage } from 'src/modules/media/image-processing';
import { Media } from 'src/modules/media/media.entity';
import { MediaStorage } from 'src/modules/media/media-storage';

/** At most this many distinct images in one revision, body and cover together. */
export const MAX_IMAGES_PER_REVISION = 50;

/** `/media/<sha256>.<ext>`: the path of every stored image, whatever the host in front of it. */
const MEDIA_PATH = /^\/media\/([0-9a-f]{64})\.(png|jpg|gif|webp)$/;

export interface MediaRef {
  sha256: string;
  ext: string;
}

export interface MediaView {
  sha256: string;
  url: string;
  mimeType: string;
  bytes: number;
  width: number | null;
  height: number | null;
}

export interface StoredImage {
  bytes: Buffer;
  mimeType: string;
  /** A file name for platforms that want one: `<sha256>.<ext>`. */
  filename: string;
  sha256: string;
}

/** The digest named by a media URL (any host: the digest, not the host, names the bytes). */
export function mediaRefOf(url: string): MediaRef | null {
  try {
    const m = MEDIA_PATH.exec(new URL(url).pathname);
    return m ? { sha256: m[1], ext: m[2] } : null;
  } catch {
    return null;
  }
}

/**
 * The gateway's image store: uploads, imports of external image URLs (only through the guarded
 * fetcher), and the stored bytes for the publishers. A revision names its images by digest, so
 * the content hash of the revision covers the pictures, and what was approved is what goes out.
 */
@Injectable()
export class MediaService {
  private readonly log = new Logger(MediaService.name);
  private readonly fetcher: OutboundFetcher;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly storage: MediaStorage,
  ) {
    this.fetcher = new OutboundFetcher(config.outbound);
  }

  url(ref: MediaRef): string {
    return `${this.config.publicBaseUrl}/media/${ref.sha256}.${ref.ext}`;
  }

  /** An uploaded file (multipart): sniffed, stripped of location metadata, stored. */
  async upload(bytes: Buffer, userId: string): Promise<MediaView> {
    if (bytes.length > this.config.media.maxBytes) {
      throw new AppException(
        ErrorCode.PAYLOAD_TOO_LARGE,
        `Images may be at most ${this.config.media.maxBytes} bytes`,
      );
    }
    let media: Media;
    try {
      media = await this.store(bytes, null, userId);
    } catch (err) {
      if (err instanceof ImageRejected) {
        throw new AppException(
          ErrorCode.UNSUPPORTED_MEDIA_TYPE,
          'Only PNG, JPEG, GIF and WebP images are accepted',
          { reason: err.message },
        );
      }
      throw err;
    }
    return this.view(media);
  }

  /**
   * A revision's images brought home: every body `<img src>` and the cover that is not already a
   * stored image is fetched through the guarded fetcher and stored, and its URL replaced by the
   * stored image's. A URL that cannot be imported refuses the whole save with its code (422).
   */
  async importImages(
    content: { body: string; coverImageUrl: string | null },
    userId: string,
  ): Promise<{ body: string; coverImageUrl: string | null; digests: string[] }> {
    const sources = imageSources(content.body);
    const all = [
      ...new Set([...sources, ...(content.coverImageUrl ? [content.coverImageUrl] : [])]),
    ];
    if (all.length > MAX_IMAGES_PER_REVISION) {
      throw new AppException(ErrorCode.VALIDATION_FAILED, 'Invalid input: body', [
        { field: 'body', errors: [`at most ${MAX_IMAGES_PER_REVISION} images per post`] },
      ]);
    }
    const replaced = new Map<string, Media>();
    for (const src of all) replaced.set(src, await this.resolve(src, userId));
    const urlOf = (src: string) => {
      const m = replaced.get(src);
      return m ? this.url(m) : undefined;
    };
    const body = sources.length ? replaceImageSources(content.body, urlOf) : content.body;
    return {
      body,
      coverImageUrl: content.coverImageUrl ? urlOf(content.coverImageUrl)! : null,
      digests: [...new Set([...replaced.values()].map((m) => m.sha256))],
    };
  }

  /** The stored image a media URL names, for the publishers; null when it is not one. */
  async imageFor(url: string): Promise<StoredImage | null> {
    const ref = mediaRefOf(url);
    if (!ref) return null;
    const row = await this.find(ref);
    if (!row) return null;
    const bytes = await this.storage.get(row.sha256, row.ext);
    // The name is the digest of the stored bytes: anything else is not what was approved.
    if (!bytes || sha256(bytes) !== row.sha256) return null;
    return {
      bytes,
      mimeType: row.mimeType,
      filename: `${row.sha256}.${row.ext}`,
      sha256: row.sha256,
    };
  }

  /** For the public route: the row and its bytes, or null. */
  async read(ref: MediaRef): Promise<{ media: Media; bytes: Buffer } | null> {
    const media = await this.find(ref);
    if (!media) return null;
    const bytes = await this.storage.get(media.sha256, media.ext);
    return bytes ? { media, bytes } : null;
  }

  private find(ref: MediaRef): Promise<Media | null> {
    return this.dataSource.getRepository(Media).findOneBy({ sha256: ref.sha256, ext: ref.ext });
  }

  private async resolve(src: string, userId: string): Promise<Media> {
    const ref = mediaRefOf(src);
    if (ref) {
      const known = await this.find(ref);
      if (known) return known;
      if (src.startsWith(`${this.config.publicBaseUrl}/`)) {
        throw new AppException(ErrorCode.MEDIA_NOT_FOUND, 'No such stored image', { url: src });
      }
    }
    try {
      const got = await this.fetcher.fetchImage(src, { maxBytes: this.config.media.maxBytes });
      return await this.store(got.bytes, src, userId);
    } catch (err) {
      if (err instanceof OutboundError) {
        this.log.warn(`image import refused (${err.code}): ${err.reason}`);
        throw err;
      }
      if (err instanceof ImageRejected) {
        throw new OutboundError(
          ErrorCode.OUTBOUND_BAD_TYPE,
          'The image is not a PNG, JPEG, GIF or WebP file that can be read',
          src,
          err.message,
        );
      }
      throw err;
    }
  }

  private async store(input: Buffer, sourceUrl: string | null, userId: string): Promise<Media> {
    const image = await processImage(input);
    const digest = sha256(image.bytes);
    await this.storage.put(digest, image.type.ext, image.bytes);
    const row: Media = Object.assign(new Media(), {
      sha256: digest,
      mimeType: image.type.mime,
      ext: image.type.ext,
      bytes: image.bytes.length,
      width: image.width,
      height: image.height,
      sourceUrl: sourceUrl ? sourceUrl.slice(0, 2048) : null,
      createdBy: userId,
      createdAt: new Date(),
    });
    // The same bytes stored twice are one row: the first record of them stays.
    await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(Media)
      .values(row)
      .orIgnore()
      .execute();
    return (await this.find({ sha256: digest, ext: image.type.ext })) ?? row;
  }

  private view(m: Media): MediaView {
    return {
      sha256: m.sha256,
      url: this.url(m),
      mimeType: m.mimeType,
      bytes: m.bytes,
      width: m.width,
      height: m.height,
    };
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
