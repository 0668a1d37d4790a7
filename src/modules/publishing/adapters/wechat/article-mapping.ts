import { AdapterError, PublishContent } from 'src/modules/publishing/adapters/channel-adapter';
import {
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
  if (!title) throw new AdapterError('WeChat requires an article title', false);
  limit('title', title, WECHAT_LIMITS.titleChars);
  const digest = content.summary?.trim() || null;
  if (digest) limit('digest (summary)', digest, WECHAT_LIMITS.digestChars);
  if (settings.author) {
    limit('author (channel config)', settings.author, WECHAT_LIMITS.authorChars);
  }
  const sourceUrl = settings.contentSourceUrl?.split('{postId}').join(content.postId) ?? null;
  if (sourceUrl && Buffer.byteLength(sourceUrl) > WECHAT_LIMITS.sourceUrlBytes) {
    throw new AdapterError(
      `WeChat limits content_source_url to ${WECHAT_LIMITS.sourceUrlBytes} bytes`,
      false,
    );
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
    throw new AdapterError(
      `WeChat limits the ${field} to ${max} characters; this one has ${length}`,
      false,
    );
  }
}

export function checkContent(html: string, when: string): void {
  const length = wechatLength(html);
  if (length >= WECHAT_LIMITS.contentChars) {
    throw new AdapterError(
      `WeChat requires the content (HTML included) to be under ` +
        `${WECHAT_LIMITS.contentChars} characters; this one has ${length}${when}`,
      false,
    );
  }
  if (Buffer.byteLength(html) >= WECHAT_LIMITS.contentBytes) {
    throw new AdapterError(`WeChat requires the content to be under 1 MB${when}`, false);
  }
}

/** Uploads the cover as permanent material; its media_id is the article's thumb_media_id. */
export async function uploadCover(api: WechatSession, coverUrl: string): Promise<string> {
  const image = await api.download(coverUrl, WECHAT_LIMITS.coverImageBytes, 'cover image');
  const reply = await api.call('material/add_material', () => mediaForm(image), {
    type: 'image',
  });
  return requireId(reply, 'media_id', 'material/add_material');
}

/**
 * WeChat drops images hosted elsewhere, so each one is uploaded and its src replaced.
 * `rehosted` (original URL → mmbiz URL) is filled as uploads succeed, so a retry skips them.
 */
export async function rehostImages(
  api: WechatSession,
  html: string,
  rehosted: Record<string, string>,
): Promise<string> {
  for (const match of html.matchAll(IMG_SRC)) {
    const src = decodeEntities(match[3]);
    if (!needsRehosting(src) || rehosted[src]) continue;
    const image = await api.download(src, WECHAT_LIMITS.bodyImageBytes, 'body image');
    const reply = await api.call('media/uploadimg', () => mediaForm(image));
    const url = nonEmptyString(reply.url);
    if (!url) throw new AdapterError('WeChat media/uploadimg answered without a url', true);
    rehosted[src] = url;
  }
  return html.replace(IMG_SRC, (whole, before: string, quote: string, raw: string) => {
    const url = rehosted[decodeEntities(raw)];
    return url ? `${before}${quote}${encodeAttribute(url)}${quote}` : whole;
  });
}

/** `<img ... src="...">`: groups 1 everything before the value, 2 the quote, 3 the raw value. */
const IMG_SRC = /(<img\b[^>]*?\ssrc\s*=\s*)(["'])(.*?)\2/gi;

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

function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|amp|quot|apos|lt|gt);/gi, (_, entity: string) => {
    const name = entity.toLowerCase();
    if (name.startsWith('#x')) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
    return { amp: '&', quot: '"', apos: "'", lt: '<', gt: '>' }[name] ?? _;
  });
}

function encodeAttribute(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}
