import { createHash } from 'node:crypto';
import { OutboundFetcher, parseAllowHosts } from 'src/common/outbound-fetch';
import type { Channel } from 'src/modules/channels/channel.entity';
import { mediaRefOf } from 'src/modules/media/media.service';
import {
  AdapterContext,
  AdapterError,
  AdapterResult,
  MediaReader,
  PublishContent,
  StoredImageBytes,
} from 'src/modules/publishing/adapters/channel-adapter';
import {
  WechatMpAdapter,
  WechatMpAdapterOptions,
} from 'src/modules/publishing/adapters/wechat/wechat-mp.adapter';
import { startWechatServer, WechatServer } from 'test/fakes/wechat-server';

export interface WechatFixture {
  /** A fresh fake WeChat server for each test. */
  readonly server: WechatServer;
  channel(config?: Record<string, unknown>): Channel;
  ctx(overrides?: Partial<AdapterContext> & { config?: Record<string, unknown> }): AdapterContext;
  content(overrides?: Partial<PublishContent>): PublishContent;
  /** Publishes, then polls until the publication is no longer pending. */
  publishToDone(
    adapter: WechatMpAdapter,
    post: PublishContent,
    context: AdapterContext,
  ): Promise<{ first: AdapterResult; done: AdapterResult; polls: number }>;
  failure(promise: Promise<unknown>): Promise<AdapterError>;
  /** The paths the server was called on, in order. */
  paths(): string[];
  /** The stored images the adapter reads (in memory). */
  readonly media: MediaReader;
  /** Stores a fake image (JPEG, or PNG for a .png name) and answers its media URL. */
  image(name: string, size?: number): string;
  /** An adapter reading this fixture's stored images. */
  adapter(options?: Partial<WechatMpAdapterOptions>): WechatMpAdapter;
}

/** The fake server listens on loopback, which the guarded fetcher refuses unless it is listed. */
export const LOOPBACK_OUTBOUND = new OutboundFetcher({
  allowHosts: parseAllowHosts('127.0.0.1'),
  timeoutMs: 10_000,
});

const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff, 0xe0]);
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * For the WeChat adapter's specs: starts a fake server before each test of the calling
 * `describe`, closes it after, and builds a channel, context and post pointing at it.
 */
export function useWechatServer(): WechatFixture {
  let server: WechatServer | undefined;
  const stored = new Map<string, StoredImageBytes>();
  const media: MediaReader = {
    imageFor(url) {
      const ref = mediaRefOf(url);
      return Promise.resolve(ref ? (stored.get(`${ref.sha256}.${ref.ext}`) ?? null) : null);
    },
  };
  const image = (name: string, size = 0): string => {
    const png = name.endsWith('.png');
    const payload = size > 0 ? Buffer.alloc(size, 7) : Buffer.from(`fake image ${name}`);
    const bytes = Buffer.concat([png ? PNG_MAGIC : JPEG_MAGIC, payload]);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const ext = png ? 'png' : 'jpg';
    const filename = `${sha256}.${ext}`;
    stored.set(filename, { bytes, mimeType: png ? 'image/png' : 'image/jpeg', filename, sha256 });
    return `https://gateway.test/media/${filename}`;
  };

  beforeEach(async () => {
    server = await startWechatServer();
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const current = (): WechatServer => {
    if (!server) throw new Error('the fake WeChat server runs only inside a test');
    return server;
  };

  const channel = (config: Record<string, unknown> = {}): Channel => ({
    id: 'ch-wechat',
    name: '校团委公众号',
    platform: 'wechat_mp',
    departmentId: 'dept-youth-league',
    acceptsSubmissions: true,
    active: true,
    config: { baseUrl: current().url, pollAfterMs: 25, ...config },
    credentials: null,
    createdAt: new Date(),
    updatedAt: new Date(),
  });

  return {
    get server() {
      return current();
    },
    channel,
    ctx(overrides = {}) {
      const { config, ...rest } = overrides;
      return {
        channel: channel(config),
        credentials: { appId: current().appId, appSecret: current().appSecret },
        deliveryId: 'pub-1:publish',
        attempt: 1,
        state: null,
        signal: new AbortController().signal,
        ...rest,
      };
    },
    content(overrides = {}) {
      return {
        postId: 'post-1',
        publicationId: 'pub-1',
        revisionId: 'rev-2',
        revisionNumber: 2,
        contentHash: 'hash-rev-2',
        title: '我校隆重举行2025级新生开学典礼',
        summary: '九月一日上午，我校在体育馆隆重举行2025级新生开学典礼。',
        body: '<p>九月的校园，桂花飘香。</p>',
        coverImageUrl: image('cover.jpg'),
        channel: { id: 'ch-wechat', name: '校团委公众号' },
        ...overrides,
      };
    },
    async publishToDone(adapter, post, context) {
      const first = await adapter.publish(post, context);
      let result = first;
      let polls = 0;
      while (result.kind === 'pending') {
        if (++polls > 10) throw new Error('the publication never finished');
        result = await adapter.poll(post, { ...context, state: result.state }, 'publish');
      }
      return { first, done: result, polls };
    },
    async failure(promise) {
      try {
        await promise;
      } catch (err) {
        expect(err).toBeInstanceOf(AdapterError);
        return err as AdapterError;
      }
      throw new Error('expected an AdapterError');
    },
    paths: () => current().calls.map((c) => c.path),
    media,
    image,
    adapter: (options = {}) =>
      new WechatMpAdapter({ media, outbound: LOOPBACK_OUTBOUND, ...options }),
  };
}
