import type { Channel } from 'src/modules/channels/channel.entity';
import {
  AdapterContext,
  AdapterError,
  AdapterResult,
  ChannelAdapter,
  Operation,
  PublishContent,
} from 'src/modules/publishing/adapters/channel-adapter';

export const WECHAT_DEFAULT_BASE_URL = 'https://api.weixin.qq.com';

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

const TOKEN_ERRCODES = new Set([40001, 40014, 42001]);
const RATE_LIMITED = 45009;
const SYSTEM_BUSY = -1;
const RATE_LIMIT_WAIT_MS = 60_000;
/** WeChat rotates a stable token 5 minutes before it expires; stop using ours by then. */
const TOKEN_EARLY_REFRESH_MS = 5 * 60_000;
const DEFAULT_TOKEN_SECONDS = 7200;
const DEFAULT_POLL_AFTER_MS = 2_000;
const WECHAT_IMAGE_HOST = 'mmbiz.qpic.cn';

const ERRCODE_MEANINGS: Record<number, string> = {
  [-1]: 'system busy',
  40001: 'access token invalid',
  40007: 'invalid media_id',
  40013: 'invalid AppID',
  40014: 'access token invalid',
  40125: 'invalid AppSecret',
  40164: "the gateway's IP address is not in the account's IP whitelist",
  42001: 'access token expired',
  45009: 'API call quota reached',
  45166: 'content rejected as invalid',
  47001: 'data format error',
  48001: 'API not authorised for this account',
};

/** freepublish/get publish_status values other than 0 (published) and 1 (publishing). */
const PUBLISH_FAILURES: Record<number, string> = {
  2: 'the original-content (原创) declaration failed',
  3: 'publishing failed',
  4: 'the platform review rejected the article',
  5: 'the account deleted the article after it was published',
  6: 'the platform banned the article after it was published',
};

export interface WechatMpAdapterOptions {
  /** Used when the channel's `config.baseUrl` is not set. */
  baseUrl?: string;
  /** Clock for the token cache, in milliseconds. */
  now?: () => number;
}

interface WechatChannelConfig {
  baseUrl: string;
  pollAfterMs: number;
  author: string | null;
  contentSourceUrl: string | null;
}

type Reply = Record<string, unknown>;

/** What a failed attempt keeps so the next one does not upload or draft twice. */
interface DraftProgress {
  contentHash: string;
  thumbMediaId?: string;
  /** Original image URL → its mmbiz URL. */
  images?: Record<string, string>;
  /** The draft's media_id, once draft/add answered. */
  mediaId?: string;
}

/**
 * Publishes a post to a WeChat official account: cover as permanent material, body images
 * re-hosted on WeChat, `draft/add`, `freepublish/submit`, then `freepublish/get` polling.
 *
 * State between calls (the caller stores it and passes it back as `ctx.state`):
 * - `publish` answers `pending` with `state {publishId, mediaId}` and `externalId` publish_id;
 *   pass that state to `poll` until it answers `done` with `externalId` article_id and `url`.
 * - A retryable failure carries `AdapterError.state` (cover media_id, re-hosted images, draft
 *   media_id, keyed by the content hash): pass it to the next `publish` attempt so nothing is
 *   uploaded or drafted twice. `publish` ignores a `publishId` in its state: pending work is
 *   for `poll`.
 * - `retract` needs the published article_id (the publication's externalId) in
 *   `ctx.state.articleId`; failing that, a `publishId` is looked up.
 *
 * Channel config: `baseUrl`, `pollAfterMs` (default 2000), `author` (at most 16 characters),
 * `contentSourceUrl` (the "阅读原文" link; `{postId}` is replaced). Credentials:
 * `{appId, appSecret}`. Access tokens (stable_token) are cached per account in this instance.
 */
export class WechatMpAdapter implements ChannelAdapter {
  readonly platform = 'wechat_mp' as const;
  private readonly baseUrl: string;
  private readonly tokens: TokenCache;

  constructor(options: WechatMpAdapterOptions = {}) {
    this.baseUrl = trimSlash(options.baseUrl ?? WECHAT_DEFAULT_BASE_URL);
    this.tokens = new TokenCache(options.now ?? Date.now);
  }

  async publish(content: PublishContent, ctx: AdapterContext): Promise<AdapterResult> {
    const credentials = credentialsOf(ctx);
    const config = this.configOf(ctx.channel);
    const article = articleFields(content, config);
    if (!content.coverImageUrl) {
      throw new AdapterError(
        'WeChat requires a cover image for a news article: add a cover image to the post',
        false,
      );
    }
    const api = this.session(config, credentials, ctx.signal);
    const progress = resumableProgress(ctx.state, content.contentHash);
    try {
      if (!progress.mediaId) {
        progress.thumbMediaId ??= await this.uploadCover(api, content.coverImageUrl);
        const html = await this.rehostImages(api, content.body, progress);
        checkContent(html, ' after re-hosting its images');
        const draft = await api.call('draft/add', () =>
          json({
            articles: [
              {
                ...article,
                content: html,
                thumb_media_id: progress.thumbMediaId,
                need_open_comment: 0,
                only_fans_can_comment: 0,
              },
            ],
          }),
        );
        progress.mediaId = requireId(draft, 'media_id', 'draft/add');
      }
      const mediaId = progress.mediaId;
      const submitted = await api.call('freepublish/submit', () => json({ media_id: mediaId }));
      const publishId = requireId(submitted, 'publish_id', 'freepublish/submit');
      return {
        kind: 'pending',
        pollAfterMs: config.pollAfterMs,
        state: { publishId, mediaId },
        externalId: publishId,
      };
    } catch (err) {
      // Only a retry may reuse what was uploaded; a permanent failure starts afresh if retried.
      if (err instanceof AdapterError && err.retryable && err.state === undefined) {
        throw new AdapterError(err.message, true, err.retryAfterMs, { ...progress });
      }
      throw err;
    }
  }

  async poll(
    _content: PublishContent,
    ctx: AdapterContext,
    operation: Operation,
  ): Promise<AdapterResult> {
    // Retraction finishes synchronously; there is nothing to wait for.
    if (operation === 'retract') return { kind: 'done' };
    const publishId = stateString(ctx.state, 'publishId');
    if (!publishId) {
      throw new AdapterError('WeChat publication has no publish_id to poll in its state', false);
    }
    const config = this.configOf(ctx.channel);
    const api = this.session(config, credentialsOf(ctx), ctx.signal);
    const reply = await api.call('freepublish/get', () => json({ publish_id: publishId }));
    const status = reply.publish_status;
    if (status === 0) {
      const articleId = idOf(reply.article_id);
      if (!articleId) {
        throw new AdapterError(
          'WeChat freepublish/get reported success without an article_id',
          true,
        );
      }
      return { kind: 'done', externalId: articleId, url: articleUrl(reply) };
    }
    if (status === 1) {
      return {
        kind: 'pending',
        pollAfterMs: config.pollAfterMs,
        state: { ...ctx.state, publishId },
        externalId: publishId,
      };
    }
    const reason =
      typeof status === 'number' && PUBLISH_FAILURES[status]
        ? PUBLISH_FAILURES[status]
        : 'an unknown publishing status';
    throw new AdapterError(
      `WeChat did not publish the article: ${reason} (publish_status ${String(status)}` +
        `${failedIndexes(reply)})`,
      false,
    );
  }

  async retract(_content: PublishContent, ctx: AdapterContext): Promise<AdapterResult> {
    const config = this.configOf(ctx.channel);
    const api = this.session(config, credentialsOf(ctx), ctx.signal);
    let articleId = stateString(ctx.state, 'articleId');
    const publishId = stateString(ctx.state, 'publishId');
    if (!articleId && publishId) {
      const reply = await api.call('freepublish/get', () => json({ publish_id: publishId }));
      // Already deleted or banned: nothing is left to retract.
      if (reply.publish_status === 5 || reply.publish_status === 6) return { kind: 'done' };
      articleId = reply.publish_status === 0 ? idOf(reply.article_id) : null;
    }
    if (!articleId) {
      throw new AdapterError(
        'WeChat retraction needs the published article_id (the publication externalId) in its state',
        false,
      );
    }
    const id = articleId;
    // index 0 deletes every article of the published message; ours hold exactly one.
    await api.call('freepublish/delete', () => json({ article_id: id, index: 0 }));
    return { kind: 'done', externalId: articleId };
  }

  private configOf(channel: Channel): WechatChannelConfig {
    const config = channel.config ?? {};
    const baseUrl = nonEmptyString(config.baseUrl);
    const pollAfterMs = config.pollAfterMs;
    return {
      baseUrl: baseUrl ? trimSlash(baseUrl) : this.baseUrl,
      pollAfterMs:
        typeof pollAfterMs === 'number' && Number.isFinite(pollAfterMs) && pollAfterMs >= 0
          ? pollAfterMs
          : DEFAULT_POLL_AFTER_MS,
      author: nonEmptyString(config.author),
      contentSourceUrl: nonEmptyString(config.contentSourceUrl),
    };
  }

  private session(
    config: WechatChannelConfig,
    credentials: Credentials,
    signal: AbortSignal,
  ): WechatSession {
    return new WechatSession(config.baseUrl, credentials, signal, this.tokens);
  }

  private async uploadCover(api: WechatSession, coverUrl: string): Promise<string> {
    const image = await api.download(coverUrl, WECHAT_LIMITS.coverImageBytes, 'cover image');
    const reply = await api.call('material/add_material', () => mediaForm(image), {
      type: 'image',
    });
    return requireId(reply, 'media_id', 'material/add_material');
  }

  /** WeChat drops images hosted elsewhere, so each one is uploaded and its src replaced. */
  private async rehostImages(
    api: WechatSession,
    html: string,
    progress: DraftProgress,
  ): Promise<string> {
    const rehosted = (progress.images ??= {});
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
}

interface Credentials {
  appId: string;
  appSecret: string;
}

interface DownloadedImage {
  bytes: Uint8Array<ArrayBuffer>;
  type: string;
  filename: string;
}

/** One operation's conversation with the API: its credentials, signal and the secrets to hide. */
class WechatSession {
  private readonly secrets = new Set<string>();

  constructor(
    private readonly base: string,
    private readonly credentials: Credentials,
    private readonly signal: AbortSignal,
    private readonly tokens: TokenCache,
  ) {
    this.secrets.add(credentials.appSecret);
  }

  /**
   * POSTs to `/cgi-bin/{name}` with an access token. A token WeChat no longer accepts is
   * replaced and the call made once more.
   */
  async call(name: string, body: () => RequestInit, query: Record<string, string> = {}) {
    let token = await this.token();
    let reply = await this.send(name, this.apiUrl(name, token, query), body());
    if (TOKEN_ERRCODES.has(errcodeOf(reply))) {
      token = await this.token(token);
      reply = await this.send(name, this.apiUrl(name, token, query), body());
    }
    if (errcodeOf(reply) !== 0) throw this.refusal(name, reply);
    return reply;
  }

  async download(url: string, maxBytes: number, what: string): Promise<DownloadedImage> {
    const shown = shorten(url);
    let res: Response;
    try {
      res = await fetch(url, { signal: this.signal, redirect: 'follow' });
    } catch (err) {
      throw this.transportError(`downloading the ${what} ${shown}`, err);
    }
    if (!res.ok) {
      throw new AdapterError(
        `Could not download the ${what} ${shown}: HTTP ${res.status}`,
        retryableStatus(res.status),
      );
    }
    const tooBig = () =>
      new AdapterError(
        `The ${what} ${shown} is larger than WeChat accepts (${maxBytes / 1024 / 1024} MB)`,
        false,
      );
    if (Number(res.headers.get('content-length') ?? 0) > maxBytes) throw tooBig();
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      throw this.transportError(`downloading the ${what} ${shown}`, err);
    }
    if (bytes.byteLength === 0) throw new AdapterError(`The ${what} ${shown} is empty`, false);
    if (bytes.byteLength > maxBytes) throw tooBig();
    const type = (res.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    return { bytes, type: type || typeFromName(url), filename: filenameFor(url, type) };
  }

  private async token(rejected?: string): Promise<string> {
    const key = `${this.base} ${this.credentials.appId}`;
    const token = await this.tokens.get(key, (force) => this.fetchToken(force), rejected);
    this.secrets.add(token);
    return token;
  }

  private async fetchToken(forceRefresh: boolean): Promise<IssuedToken> {
    const reply = await this.send(
      'stable_token',
      `${this.base}/cgi-bin/stable_token`,
      json({
        grant_type: 'client_credential',
        appid: this.credentials.appId,
        secret: this.credentials.appSecret,
        force_refresh: forceRefresh,
      }),
    );
    if (errcodeOf(reply) !== 0) throw this.refusal('stable_token', reply);
    const token = nonEmptyString(reply.access_token);
    if (!token) throw new AdapterError('WeChat stable_token answered without a token', true);
    this.secrets.add(token);
    const expiresIn = reply.expires_in;
    return {
      token,
      expiresInSeconds:
        typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : DEFAULT_TOKEN_SECONDS,
    };
  }

  private apiUrl(name: string, token: string, query: Record<string, string>): string {
    const params = new URLSearchParams({ access_token: token, ...query });
    return `${this.base}/cgi-bin/${name}?${params.toString()}`;
  }

  private async send(name: string, url: string, init: RequestInit): Promise<Reply> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { ...init, method: 'POST', signal: this.signal });
      text = await res.text();
    } catch (err) {
      throw this.transportError(`calling WeChat ${name}`, err);
    }
    if (!res.ok) {
      throw new AdapterError(
        `WeChat ${name} answered HTTP ${res.status}`,
        retryableStatus(res.status),
      );
    }
    let reply: unknown;
    try {
      reply = JSON.parse(text);
    } catch {
      reply = null;
    }
    if (!reply || typeof reply !== 'object' || Array.isArray(reply)) {
      throw new AdapterError(`WeChat ${name} answered something other than a JSON object`, true);
    }
    return reply as Reply;
  }

  private refusal(name: string, reply: Reply): AdapterError {
    const code = errcodeOf(reply);
    const meaning =
      name === 'stable_token' && code === 40001 ? 'AppSecret rejected' : ERRCODE_MEANINGS[code];
    const errmsg = typeof reply.errmsg === 'string' ? this.scrub(reply.errmsg) : '';
    const message =
      `WeChat ${name} refused: errcode ${code}` +
      (meaning ? ` (${meaning})` : '') +
      (errmsg ? `: ${errmsg}` : '');
    if (code === RATE_LIMITED) return new AdapterError(message, true, RATE_LIMIT_WAIT_MS);
    if (code === SYSTEM_BUSY) return new AdapterError(message, true);
    // A fresh token was refused too: likely a race with another process's refresh.
    if (TOKEN_ERRCODES.has(code) && name !== 'stable_token') return new AdapterError(message, true);
    return new AdapterError(message, false);
  }

  private transportError(doing: string, err: unknown): AdapterError {
    if (this.signal.aborted) return new AdapterError(`Timed out ${doing}`, true);
    return new AdapterError(`Network error ${doing}: ${this.scrub(describeError(err))}`, true);
  }

  private scrub(text: string): string {
    let clean = text.replace(/access_token=[^&\s"']+/gi, 'access_token=***');
    for (const secret of this.secrets) {
      if (secret.length >= 4) clean = clean.split(secret).join('***');
    }
    return clean;
  }
}

interface IssuedToken {
  token: string;
  expiresInSeconds: number;
}

/** Access tokens per account, shared by every operation of one adapter instance. */
class TokenCache {
  private readonly tokens = new Map<string, { token: string; usableUntil: number }>();
  private readonly fetching = new Map<string, Promise<string>>();

  constructor(private readonly now: () => number) {}

  /**
   * A usable token; never `rejected`, the one WeChat just refused. Stable tokens are shared
   * by every process of the account, so a refresh asks for the current one first and forces
   * a new one (which invalidates the others' copies) only when WeChat hands back the refused one.
   */
  async get(
    key: string,
    fetchToken: (forceRefresh: boolean) => Promise<IssuedToken>,
    rejected?: string,
  ): Promise<string> {
    const cached = this.tokens.get(key);
    if (cached && cached.token !== rejected && this.now() < cached.usableUntil) {
      return cached.token;
    }
    if (cached) this.tokens.delete(key);
    let fetching = this.fetching.get(key);
    if (!fetching) {
      fetching = this.refresh(key, fetchToken, rejected).finally(() => this.fetching.delete(key));
      this.fetching.set(key, fetching);
    }
    const token = await fetching;
    return token === rejected ? this.refresh(key, fetchToken, rejected) : token;
  }

  private async refresh(
    key: string,
    fetchToken: (forceRefresh: boolean) => Promise<IssuedToken>,
    rejected?: string,
  ): Promise<string> {
    let issued = await fetchToken(false);
    if (rejected !== undefined && issued.token === rejected) issued = await fetchToken(true);
    this.tokens.set(key, {
      token: issued.token,
      usableUntil: this.now() + issued.expiresInSeconds * 1000 - TOKEN_EARLY_REFRESH_MS,
    });
    return issued.token;
  }
}

function credentialsOf(ctx: AdapterContext): Credentials {
  const appId = nonEmptyString(ctx.credentials?.appId);
  const appSecret = nonEmptyString(ctx.credentials?.appSecret);
  if (!appId || !appSecret) {
    throw new AdapterError(
      'WeChat channel credentials are missing: set appId and appSecret on the channel',
      false,
    );
  }
  return { appId, appSecret };
}

/** The article's own fields, checked against WeChat's limits before anything is sent. */
function articleFields(content: PublishContent, config: WechatChannelConfig) {
  const title = content.title.trim();
  if (!title) throw new AdapterError('WeChat requires an article title', false);
  limit('title', title, WECHAT_LIMITS.titleChars);
  const digest = content.summary?.trim() || null;
  if (digest) limit('digest (summary)', digest, WECHAT_LIMITS.digestChars);
  if (config.author) limit('author (channel config)', config.author, WECHAT_LIMITS.authorChars);
  const sourceUrl = config.contentSourceUrl?.split('{postId}').join(content.postId) ?? null;
  if (sourceUrl && Buffer.byteLength(sourceUrl) > WECHAT_LIMITS.sourceUrlBytes) {
    throw new AdapterError(
      `WeChat limits content_source_url to ${WECHAT_LIMITS.sourceUrlBytes} bytes`,
      false,
    );
  }
  checkContent(content.body, '');
  return {
    title,
    ...(config.author ? { author: config.author } : {}),
    ...(digest ? { digest } : {}),
    ...(sourceUrl ? { content_source_url: sourceUrl } : {}),
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

function checkContent(html: string, when: string): void {
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

function resumableProgress(
  state: Record<string, unknown> | null,
  contentHash: string,
): DraftProgress {
  const progress: DraftProgress = { contentHash };
  if (!state || state.contentHash !== contentHash) return progress;
  const thumbMediaId = nonEmptyString(state.thumbMediaId);
  const mediaId = nonEmptyString(state.mediaId);
  if (thumbMediaId) progress.thumbMediaId = thumbMediaId;
  if (mediaId) progress.mediaId = mediaId;
  if (state.images && typeof state.images === 'object' && !Array.isArray(state.images)) {
    progress.images = Object.fromEntries(
      Object.entries(state.images).filter((entry): entry is [string, string] =>
        Boolean(nonEmptyString(entry[1])),
      ),
    );
  }
  return progress;
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

function json(body: unknown): RequestInit {
  return { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function mediaForm(image: DownloadedImage): RequestInit {
  const form = new FormData();
  form.append('media', new Blob([image.bytes], { type: image.type }), image.filename);
  return { body: form };
}

function errcodeOf(reply: Reply): number {
  const code = reply.errcode;
  if (code === undefined || code === null) return 0;
  return typeof code === 'number' ? code : Number(code);
}

/** publish_id is documented as a string and seen as a number; article ids are strings. */
function idOf(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return nonEmptyString(value);
}

function requireId(reply: Reply, field: string, name: string): string {
  const id = idOf(reply[field]);
  if (!id) throw new AdapterError(`WeChat ${name} answered without a ${field}`, true);
  return id;
}

function articleUrl(reply: Reply): string | null {
  const detail = reply.article_detail as { item?: Array<{ article_url?: unknown }> } | undefined;
  return nonEmptyString(detail?.item?.[0]?.article_url);
}

function failedIndexes(reply: Reply): string {
  const failIdx = reply.fail_idx;
  return Array.isArray(failIdx) && failIdx.length > 0
    ? `, failed article index ${failIdx.join(', ')}`
    : '';
}

function stateString(state: Record<string, unknown> | null, key: string): string | null {
  return idOf(state?.[key]);
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

function retryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  const detail =
    cause instanceof Error ? ((cause as { code?: string }).code ?? cause.message) : undefined;
  return detail ? `${err.message} (${detail})` : err.message;
}

function typeFromName(url: string): string {
  return /\.png(?:$|[?#])/i.test(url) ? 'image/png' : 'image/jpeg';
}

function filenameFor(url: string, type: string): string {
  let base = 'image';
  try {
    base = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '') || base;
  } catch {
    // keep the default
  }
  base = base.replace(/[^\w.-]/g, '_').slice(-80);
  if (/\.(jpe?g|png|gif|bmp)$/i.test(base)) return base;
  return `${base}${type === 'image/png' ? '.png' : '.jpg'}`;
}

function shorten(url: string): string {
  return url.length > 200 ? `${url.slice(0, 197)}...` : url;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
