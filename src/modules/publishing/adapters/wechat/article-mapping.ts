import { ErrorCode } from 'src/common/error-code';
import { imageSources, replaceImageSources } from 'src/common/html-text';
import {
  AdapterError,
  MediaReader,
  PublishContent,
} from 'src/modules/publishing/adapters/channel-adapter';
import {
  DownloadedImage,
  WechatSession,
  mediaForm,
  nonEmptyString,
  requireId,
} from 'src/modules/publishing/adapters/wechat/wechat-session';

/**
 * The official account's documented limits for a news article (draft/add, uploadimg,
 * add_material). Lengths are counted by {@link wechatLength}.
 */
export const WECHAT_LIMITS = {
  titleChars: 32,
  authorChars: 16,
  digestChars: 128,
  /** The content must be *fewer* than this many characters, markup included. */
  contentChars: 20_000,
  /** ...and under 1 MB. */
  contentBytes: 1024 * 1024,
  sourceUrlBytes: 1024,
  /** uploadimg: jpg/png under 1 MB. */
  bodyImageBytes: 1024 * 1024,
  /** add_material type=image: up to 10 MB. */
  coverImageBytes: 10 * 1024 * 1024,
} as const;

const WECHAT_IMAGE_HOST = 'mmbiz.qpic.cn';

/**
 * Length as WeChat counts "字": one per Unicode code point, so a Chinese character, a Latin
 * letter and an emoji each count once (a surrogate pair is not two). For the content the
 * whole HTML string counts, tags and attributes included, as WeChat measures it.
 */
export function wechatLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** The channel settings that go into every article. */
export interface ArticleSettings {
  author: string | null;
  /** The "阅读原文" link; `{postId}` is replaced. */
  contentSourceUrl: string | null;
}

export interface ArticleFields {
  title: string;
  author?: string;
  digest?: string;
  content_source_url?: string;
}

/** The article's own fields, checked against WeChat's limits before anything is sent. */
export function articleFields(content: PublishContent, settings: ArticleSettings): ArticleFields {
  const title = content.title.trim();
  if (!title) throw contentLimit('WeChat requires an article title');
  limit('title', title, WECHAT_LIMITS.titleChars);
  const digest = content.summary?.trim() || null;
  if (digest) limit('digest (summary)', digest, WECHAT_LIMITS.digestChars);
  if (settings.author) {
    limit('author (channel config)', settings.author, WECHAT_LIMITS.authorChars);
  }
  const sourceUrl = settings.contentSourceUrl?.split('{postId}').join(content.postId) ?? null;
  if (sourceUrl && Buffer.byteLength(sourceUrl) > WECHAT_LIMITS.sourceUrlBytes) {
    throw contentLimit(`WeChat limits content_source_url to ${WECHAT_LIMITS.sourceUrlBytes} bytes`);
  }
  checkContent(content.body, '');
  return {
    title,
    ...(settings.author ? { author: settings.author } : {}),
    ...(digest ? { digest } : {}),
    ...(sourceUrl ? { content_source_url: sourceUrl } : {}),
  };
}

/** One entry of draft/add's `articles`: comments stay closed. */
export function draftArticle(fields: ArticleFields, html: string, thumbMediaId: string) {
  return {
    ...fields,
    content: html,
    thumb_media_id: thumbMediaId,
    need_open_comment: 0,
    only_fans_can_comment: 0,
  };
}

function limit(field: string, value: string, max: number): void {
  const length = wechatLength(value);
  if (length > max) {
    throw contentLimit(`WeChat limits the ${field} to ${max} characters; this one has ${length}`);
  }
}

export function checkContent(html: string, when: string): void {
  const length = wechatLength(html);
  if (length >= WECHAT_LIMITS.contentChars) {
    throw contentLimit(
      `WeChat requires the content (HTML included) to be under ` +
        `${WECHAT_LIMITS.contentChars} characters; this one has ${length}${when}`,
    );
  }
  if (Buffer.byteLength(html) >= WECHAT_LIMITS.contentBytes) {
    throw contentLimit(`WeChat requires the content to be under 1 MB${when}`);
  }
}

/** A refusal for content over the platform's limits: the author must change the post. */
function contentLimit(message: string): AdapterError {
  return new AdapterError(message, false, undefined, undefined, 'CONTENT_LIMIT');
}

/**
 * The stored bytes of an image the revision names: what was approved, image for image. An image
 * URL that names no stored image (a revision saved before images were imported) is refused
 * rather than fetched.
 */
async function storedImage(
  media: MediaReader,
  url: string,
  maxBytes: number,
  what: string,
  types: readonly string[],
): Promise<DownloadedImage> {
  const image = await media.imageFor(url);
  if (!image) {
    throw new AdapterError(
      `The ${what} ${shorten(url)} is not an image stored by the gateway; edit and save the post ` +
        'again to import it',
      false,
      undefined,
      undefined,
      ErrorCode.MEDIA_NOT_IMPORTED,
    );
  }
  if (!types.includes(image.mimeType)) {
    throw new AdapterError(
      `WeChat does not accept the ${what} ${image.filename} (${image.mimeType}) here`,
      false,
      undefined,
      undefined,
      ErrorCode.OUTBOUND_BAD_TYPE,
    );
  }
  if (image.bytes.length > maxBytes) {
    throw new AdapterError(
      `The ${what} ${image.filename} is larger than WeChat accepts (${maxBytes / 1024 / 1024} MB)`,
      false,
      undefined,
      undefined,
      ErrorCode.OUTBOUND_TOO_LARGE,
    );
  }
  return { bytes: new Uint8Array(image.bytes), type: image.mimeType, filename: image.filename };
}

/** Uploads the cover as permanent material; its media_id is the article's thumb_media_id. */
export async function uploadCover(
  api: WechatSession,
  media: MediaReader,
  coverUrl: string,
): Promise<string> {
  const image = await storedImage(
    media,
    coverUrl,
    WECHAT_LIMITS.coverImageBytes,
    'cover image',
    COVER_TYPES,
  );
  const reply = await api.call('material/add_material', () => mediaForm(image), {
    type: 'image',
  });
  return requireId(reply, 'media_id', 'material/add_material');
}

/** add_material type=image: bmp/png/jpeg/jpg/gif; uploadimg: jpg/png only. */
const COVER_TYPES = ['image/png', 'image/jpeg', 'image/gif'];
const BODY_TYPES = ['image/png', 'image/jpeg'];

/**
 * WeChat drops images hosted elsewhere, so each one is uploaded and its src replaced.
 * `rehosted` (stored image URL → mmbiz URL) is filled as uploads succeed, so a retry skips them.
 * The `<img src>` are read by the HTML parser, as the reviewer's browser reads them.
 */
export async function rehostImages(
  api: WechatSession,
  media: MediaReader,
  html: string,
  rehosted: Record<string, string>,
): Promise<string> {
  for (const src of imageSources(html)) {
    if (!needsRehosting(src) || rehosted[src]) continue;
    const image = await storedImage(
      media,
      src,
      WECHAT_LIMITS.bodyImageBytes,
      'body image',
      BODY_TYPES,
    );
    const reply = await api.call('media/uploadimg', () => mediaForm(image));
    const url = nonEmptyString(reply.url);
    if (!url) throw new AdapterError('WeChat media/uploadimg answered without a url', true);
    rehosted[src] = url;
  }
  return replaceImageSources(html, (src) => rehosted[src]);
}

function needsRehosting(src: string): boolean {
  try {
    const url = new URL(src);
    return (
      (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== WECHAT_IMAGE_HOST
    );
  } catch {
    return false;
  }
}

function shorten(url: string): string {
  return url.length > 200 ? `${url.slice(0, 197)}...` : url;
}
