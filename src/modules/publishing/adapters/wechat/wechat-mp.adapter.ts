import type { OutboundFetcher } from 'src/common/outbound-fetch';
import type { Channel } from 'src/modules/channels/channel.entity';
import {
  AdapterContext,
  AdapterError,
  AdapterResult,
  ChannelAdapter,
  MediaReader,
  Operation,
  PublishContent,
} from 'src/modules/publishing/adapters/channel-adapter';
import {
  ArticleSettings,
  articleFields,
  checkContent,
  draftArticle,
  rehostImages,
  uploadCover,
} from 'src/modules/publishing/adapters/wechat/article-mapping';
import { TokenCache } from 'src/modules/publishing/adapters/wechat/token-cache';
import {
  Credentials,
  Reply,
  WechatSession,
  credentialsOf,
  idOf,
  json,
  nonEmptyString,
  requireId,
} from 'src/modules/publishing/adapters/wechat/wechat-session';

export const WECHAT_DEFAULT_BASE_URL = 'https://api.weixin.qq.com';

const DEFAULT_POLL_AFTER_MS = 2_000;

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
  /** The stored images the revision names (the only images it uploads). */
  media: MediaReader;
  /** How it reaches the API: the channel's baseUrl is checked as any outbound URL. */
  outbound: OutboundFetcher;
}

interface WechatChannelConfig extends ArticleSettings {
  baseUrl: string;
  pollAfterMs: number;
}

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
  private readonly media: MediaReader;
  private readonly outbound: OutboundFetcher;

  constructor(options: WechatMpAdapterOptions) {
    this.baseUrl = trimSlash(options.baseUrl ?? WECHAT_DEFAULT_BASE_URL);
    this.tokens = new TokenCache(options.now ?? Date.now);
    this.media = options.media;
    this.outbound = options.outbound;
  }

  async publish(content: PublishContent, ctx: AdapterContext): Promise<AdapterResult> {
    const credentials = credentialsOf(ctx);
    const config = this.configOf(ctx.channel);
    const article = articleFields(content, config);
    if (!content.coverImageUrl) {
      throw new AdapterError(
        'WeChat requires a cover image for a news article: add a cover image to the post',
        false,
        undefined,
        undefined,
        'COVER_REQUIRED',
      );
    }
    const api = this.session(config, credentials, ctx.signal);
    const progress = resumableProgress(ctx.state, content.contentHash);
    try {
      if (!progress.mediaId) {
        progress.thumbMediaId ??= await uploadCover(api, this.media, content.coverImageUrl);
        const thumbMediaId = progress.thumbMediaId;
        const html = await rehostImages(api, this.media, content.body, (progress.images ??= {}));
        checkContent(html, ' after re-hosting its images');
        const draft = await api.call('draft/add', () =>
          json({ articles: [draftArticle(article, html, thumbMediaId)] }),
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
        throw new AdapterError(err.message, true, err.retryAfterMs, { ...progress }, err.code);
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
      undefined,
      undefined,
      'PLATFORM_REJECTED',
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
    return new WechatSession(config.baseUrl, credentials, signal, this.tokens, this.outbound);
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

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
