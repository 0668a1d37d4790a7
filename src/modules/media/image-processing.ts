import sharp, { type Metadata } from 'sharp';
import { IMAGE_TYPES, ImageType, sniffImage } from 'src/common/image-type';

export interface ProcessedImage {
  bytes: Buffer;
  type: ImageType;
  width: number | null;
  height: number | null;
}

export class ImageRejected extends Error {}

const FORMATS: Record<string, ImageType> = {
  png: IMAGE_TYPES.png,
  jpeg: IMAGE_TYPES.jpg,
  gif: IMAGE_TYPES.gif,
  webp: IMAGE_TYPES.webp,
};

/** Beyond this a "small" file may decode into gigabytes (a decompression bomb). */
const MAX_PIXELS = 50_000_000;

/**
 * The bytes to store for an image: the type sniffed from the bytes (and confirmed by decoding),
 * and EXIF/XMP/IPTC metadata, where phones put the GPS position, removed. An image without such
 * metadata is stored as it came, so nothing is re-encoded needlessly; one with it is re-encoded
 * in its own format, turned upright first so that dropping the EXIF orientation tag does not
 * turn the picture, and keeping its colour profile. See docs/decisions.md.
 */
export async function processImage(input: Buffer): Promise<ProcessedImage> {
  const sniffed = sniffImage(input);
  if (!sniffed) throw new ImageRejected('not a PNG, JPEG, GIF or WebP file');
  const animated = sniffed.ext === 'gif' || sniffed.ext === 'webp';
  const open = () =>
    sharp(input, { animated, failOn: 'error', limitInputPixels: MAX_PIXELS, autoOrient: false });
  let meta: Metadata;
  try {
    meta = await open().metadata();
  } catch (err) {
    throw new ImageRejected(`cannot be decoded: ${(err as Error).message}`);
  }
  const type = FORMATS[meta.format ?? ''];
  if (!type || type.ext !== sniffed.ext) {
    throw new ImageRejected(`its bytes say ${sniffed.ext} but it decodes as ${meta.format}`);
  }
  const pages = meta.pages ?? 1;
  const height = meta.pageHeight ?? meta.height ?? null;
  const width = meta.width ?? null;
  const carriesMetadata =
    Boolean(meta.exif || meta.xmp || meta.iptc) || (meta.orientation ?? 1) !== 1;
  if (!carriesMetadata) return { bytes: input, type, width, height };

  let pipeline = open();
  // Rotating is defined for one frame; animations carry no orientation worth keeping.
  if (pages === 1) pipeline = pipeline.autoOrient();
  pipeline = pipeline.keepIccProfile();
  switch (type.ext) {
    case 'jpg':
      pipeline = pipeline.jpeg({ quality: 92 });
      break;
    case 'png':
      pipeline = pipeline.png();
      break;
    case 'webp':
      pipeline = pipeline.webp({ quality: 92 });
      break;
    case 'gif':
      pipeline = pipeline.gif();
      break;
  }
  try {
    const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
    return {
      bytes: data,
      type,
      width: info.width ?? width,
      height: info.pageHeight ?? info.height ?? height,
    };
  } catch (err) {
    throw new ImageRejected(`cannot be re-encoded: ${(err as Error).message}`);
  }
}
