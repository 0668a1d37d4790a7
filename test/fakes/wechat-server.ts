import { createHash, randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';

/**
 * A local stand-in for api.weixin.qq.com speaking the documented official-account protocol
 * (stable_token, media/uploadimg, material/add_material, draft/add, freepublish/submit|get|
 * delete) with in-memory state, plus `GET /img/<name>` serving images to download (a small real
 * JPEG, or PNG for a .png name, different for each name; `serveImage` replaces one).
 * Like WeChat it answers HTTP 200 with `{errcode, errmsg}` for refusals.
 */

export interface PublishOutcome {
  /** How many freepublish/get calls answer publish_status 1 before the final status. */
  pendingPolls: number;
  /** The final publish_status: 0 published, 2 original-content failure, 3 failure, 4 review rejected. */
  status: 0 | 2 | 3 | 4;
  /** fail_idx reported with a failure. */
  failIdx: number[];
}

export interface WechatServerOptions {
  appId?: string;
  appSecret?: string;
  /** expires_in of issued tokens, in seconds. */
  expiresIn?: number;
  publishOutcome?: Partial<PublishOutcome>;
}

export interface WechatCall {
  method: string;
  /** Without the query string, e.g. `/cgi-bin/draft/add`. */
  path: string;
  query: Record<string, string>;
  /** The parsed JSON body, if any. */
  json?: any;
  /** The multipart `media` part, if any. */
  media?: { filename: string | null; contentType: string | null; bytes: number; sha256: string };
}

export interface FakeArticle {
  title?: string;
  author?: string;
  digest?: string;
  content?: string;
  content_source_url?: string;
  thumb_media_id?: string;
  need_open_comment?: number;
  only_fans_can_comment?: number;
}

export interface PublishJob {
  publishId: string;
  mediaId: string;
  articles: FakeArticle[];
  outcome: PublishOutcome;
  polls: number;
  articleId: string | null;
}

export interface WechatServerState {
  tokens: Map<string, { expiresAt: number; valid: boolean; forced: boolean }>;
  currentToken: string | null;
  /** Images uploaded with media/uploadimg. */
  images: Array<{ url: string; filename: string | null; bytes: number }>;
  /** Permanent material from material/add_material, by media_id. */
  materials: Map<string, { type: string; url: string; filename: string | null; bytes: number }>;
  /** Drafts by media_id; a submitted draft leaves the draft box, as on WeChat. */
  drafts: Map<string, FakeArticle[]>;
  publishes: Map<string, PublishJob>;
  /** Published articles by article_id. */
  articles: Map<string, { publishId: string; url: string; deleted: boolean }>;
}

export interface WechatServer {
  url: string;
  appId: string;
  appSecret: string;
  state: WechatServerState;
  calls: WechatCall[];
  /** Outcome of freepublish/submit calls made from now on. */
  publishOutcome: PublishOutcome;
  callsTo(path: string): WechatCall[];
  /** Invalidates every token now: API calls answer 40001, stable_token issues a new one. */
  expireTokens(): void;
  /** Invalidates every token just before the next call of `path` is handled. */
  expireTokensOn(path: string): void;
  /** The next call of `path` answers `{errcode, errmsg}`. */
  failNext(path: string, errcode: number, errmsg?: string): void;
  /** The next call of `path` answers this HTTP status with a non-JSON body. */
  failNextHttp(path: string, status: number): void;
  /** The next call of `path` is answered only after `ms`. */
  delayNext(path: string, ms: number): void;
  /** From now on `GET /img/<name>` answers these bytes (or redirects, given a `location`). */
  serveImage(
    name: string,
    image: { bytes?: Buffer; contentType?: string; location?: string },
  ): void;
  close(): Promise<void>;
}

export const FAKE_IMAGE_HOST = 'http://mmbiz.qpic.cn';

export async function startWechatServer(opts: WechatServerOptions = {}): Promise<WechatServer> {
  const appId = opts.appId ?? 'wx0123456789abcdef';
  const appSecret = opts.appSecret ?? 'fake-app-secret-0123456789abcdef';
  const expiresIn = opts.expiresIn ?? 7200;
  const state: WechatServerState = {
    tokens: new Map(),
    currentToken: null,
    images: [],
    materials: new Map(),
    drafts: new Map(),
    publishes: new Map(),
    articles: new Map(),
  };
  const calls: WechatCall[] = [];
  const failures = new Map<string, Array<{ errcode: number; errmsg: string }>>();
  const httpFailures = new Map<string, number[]>();
  const delays = new Map<string, number[]>();
  const expireOn = new Set<string>();
  const served = new Map<string, { bytes?: Buffer; contentType?: string; location?: string }>();
  const timers = new Set<NodeJS.Timeout>();
  let counter = 0;
  const next = () => ++counter;
  const random = (n: number) => randomBytes(n).toString('base64url');

  const fake: WechatServer = {
    url: '',
    appId,
    appSecret,
    state,
    calls,
    publishOutcome: { pendingPolls: 1, status: 0, failIdx: [1], ...opts.publishOutcome },
    callsTo: (path) => calls.filter((c) => c.path === normalise(path)),
    expireTokens() {
      for (const token of state.tokens.values()) token.valid = false;
      state.currentToken = null;
    },
    expireTokensOn: (path) => void expireOn.add(normalise(path)),
    failNext: (path, errcode, errmsg = `fake error ${errcode}`) =>
      void queue(failures, normalise(path), { errcode, errmsg }),
    failNextHttp: (path, status) => void queue(httpFailures, normalise(path), status),
    delayNext: (path, ms) => void queue(delays, normalise(path), ms),
    serveImage: (name, image) => void served.set(name, image),
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer);
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };

  function issueToken(): { access_token: string; expires_in: number } {
    const token = `FAKE_TOKEN_${next()}_${random(24)}`;
    state.tokens.set(token, {
      expiresAt: Date.now() + expiresIn * 1000,
      valid: true,
      forced: false,
    });
    state.currentToken = token;
    return { access_token: token, expires_in: expiresIn };
  }

  function stableToken(body: any): object {
    if (body?.grant_type !== 'client_credential') return refuse(40002, 'invalid grant_type');
    if (body.appid !== appId) return refuse(40013, 'invalid appid');
    if (body.secret !== appSecret) return refuse(40125, 'invalid appsecret');
    const current = state.currentToken ? state.tokens.get(state.currentToken) : undefined;
    if (body.force_refresh !== true && current?.valid && current.expiresAt > Date.now()) {
      return {
        access_token: state.currentToken,
        expires_in: Math.floor((current.expiresAt - Date.now()) / 1000),
      };
    }
    if (current) current.valid = false;
    return issueToken();
  }

  /** null when the token is good, else WeChat's refusal. */
  function tokenRefusal(query: Record<string, string>): object | null {
    const token = query.access_token;
    if (!token) return refuse(41001, 'access_token missing');
    const entry = state.tokens.get(token);
    if (!entry || !entry.valid) {
      return refuse(40001, 'invalid credential, access_token is invalid or not latest');
    }
    if (entry.expiresAt <= Date.now()) return refuse(42001, 'access_token expired');
    return null;
  }

  function handleApi(call: WechatCall): object {
    switch (call.path) {
      case '/cgi-bin/media/uploadimg': {
        if (!call.media) return refuse(41005, 'media data missing');
        if (!/^image\/(jpeg|png)$/.test(call.media.contentType ?? '')) {
          return refuse(40005, 'invalid file type');
        }
        if (call.media.bytes >= 1024 * 1024) return refuse(40009, 'invalid image size');
        const url = `${FAKE_IMAGE_HOST}/mmbiz_jpg/fake${next()}${random(12)}/0?wx_fmt=jpeg`;
        state.images.push({ url, filename: call.media.filename, bytes: call.media.bytes });
        return { url, errcode: 0, errmsg: 'ok' };
      }
      case '/cgi-bin/material/add_material': {
        const type = call.query.type;
        if (!['image', 'voice', 'video', 'thumb'].includes(type)) {
          return refuse(40004, 'invalid media type');
        }
        if (!call.media) return refuse(41005, 'media data missing');
        const mediaId = `MATERIAL_${next()}_${random(16)}`;
        const url = `${FAKE_IMAGE_HOST}/mmbiz_jpg/material${next()}/0?wx_fmt=jpeg`;
        state.materials.set(mediaId, { type, url, ...call.media });
        return { media_id: mediaId, url, item: [] };
      }
      case '/cgi-bin/draft/add': {
        const articles: FakeArticle[] | undefined = call.json?.articles;
        if (!Array.isArray(articles) || articles.length === 0) {
          return refuse(47001, 'data format error');
        }
        for (const article of articles) {
          if (!article.title) return refuse(40227, 'title is empty');
          if (!article.content) return refuse(44003, 'empty news data');
          if (length(article.title) > 32) return refuse(45003, 'title size out of limit');
          if (article.digest && length(article.digest) > 128) {
            return refuse(45004, 'description size out of limit');
          }
          if (length(article.content) >= 20_000) return refuse(45002, 'content size out of limit');
          const thumb = article.thumb_media_id && state.materials.get(article.thumb_media_id);
          if (!thumb) return refuse(40007, 'invalid media_id');
        }
        const mediaId = `DRAFT_${next()}_${random(16)}`;
        state.drafts.set(mediaId, articles);
        return { media_id: mediaId };
      }
      case '/cgi-bin/freepublish/submit': {
        const mediaId = call.json?.media_id;
        const articles = typeof mediaId === 'string' ? state.drafts.get(mediaId) : undefined;
        if (!articles) return refuse(40007, 'invalid media_id');
        state.drafts.delete(mediaId);
        const publishId = String(2247483000 + next());
        state.publishes.set(publishId, {
          publishId,
          mediaId,
          articles,
          outcome: { ...fake.publishOutcome, failIdx: [...fake.publishOutcome.failIdx] },
          polls: 0,
          articleId: null,
        });
        return { errcode: 0, errmsg: 'ok', publish_id: publishId, msg_data_id: String(next()) };
      }
      case '/cgi-bin/freepublish/get': {
        const publishId = String(call.json?.publish_id ?? '');
        const job = state.publishes.get(publishId);
        if (!job) return refuse(47001, 'data format error: unknown publish_id');
        job.polls++;
        if (job.polls <= job.outcome.pendingPolls) {
          return { publish_id: publishId, publish_status: 1, fail_idx: [] };
        }
        if (job.outcome.status !== 0) {
          return {
            publish_id: publishId,
            publish_status: job.outcome.status,
            fail_idx: job.outcome.failIdx,
          };
        }
        if (!job.articleId) {
          job.articleId = `ARTICLE_${next()}_${random(16)}`;
          state.articles.set(job.articleId, {
            publishId,
            url: `https://mp.weixin.qq.com/s/${random(16)}`,
            deleted: false,
          });
        }
        const article = state.articles.get(job.articleId)!;
        return {
          publish_id: publishId,
          publish_status: article.deleted ? 5 : 0,
          article_id: job.articleId,
          article_detail: { count: 1, item: [{ idx: 1, article_url: article.url }] },
          fail_idx: [],
        };
      }
      case '/cgi-bin/freepublish/delete': {
        const article = state.articles.get(String(call.json?.article_id ?? ''));
        if (!article || article.deleted) return refuse(53600, 'invalid article_id');
        const index = call.json?.index ?? 0;
        if (index !== 0 && index !== 1) return refuse(40060, 'invalid article idx');
        article.deleted = true;
        return { errcode: 0, errmsg: 'ok' };
      }
      default:
        return refuse(48001, 'api unauthorized');
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = new URL(req.url ?? '/', 'http://fake');
    const body = await readBody(req);
    const call: WechatCall = {
      method: req.method ?? 'GET',
      path: target.pathname,
      query: Object.fromEntries(target.searchParams),
    };
    const contentType = req.headers['content-type'] ?? '';
    if (contentType.startsWith('application/json') && body.length > 0) {
      try {
        call.json = JSON.parse(body.toString('utf8'));
      } catch {
        call.json = undefined;
      }
    } else if (contentType.startsWith('multipart/form-data')) {
      call.media = mediaPart(body, contentType);
    }
    calls.push(call);

    const delay = delays.get(call.path)?.shift();
    if (delay) await new Promise((r) => timers.add(setTimeout(r, delay)));

    const status = httpFailures.get(call.path)?.shift();
    if (status) {
      res.writeHead(status, { 'content-type': 'text/html' }).end('<html>upstream error</html>');
      return;
    }
    if (call.path.startsWith('/img/')) return serveImage(call, res, served);
    const injected = failures.get(call.path)?.shift();
    if (injected) return send(res, injected);
    if (expireOn.delete(call.path)) fake.expireTokens();
    if (!call.path.startsWith('/cgi-bin/')) {
      res.writeHead(404).end();
      return;
    }
    if (call.method !== 'POST') return send(res, refuse(43002, 'require POST method'));
    if (call.path === '/cgi-bin/stable_token') return send(res, stableToken(call.json));
    const refusal = tokenRefusal(call.query);
    send(res, refusal ?? handleApi(call));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

async function serveImage(
  call: WechatCall,
  res: ServerResponse,
  served: Map<string, { bytes?: Buffer; contentType?: string; location?: string }>,
): Promise<void> {
  const name = call.path.slice('/img/'.length);
  const override = served.get(name);
  if (override?.location) {
    res.writeHead(302, { location: override.location }).end();
    return;
  }
  if (!name || name.startsWith('missing')) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  const png = name.endsWith('.png');
  const size = Number(call.query.bytes ?? 0);
  const image = override?.bytes ?? (await realImage(name, png));
  const body = size > 0 ? Buffer.concat([image, Buffer.alloc(size, 7)]) : image;
  res
    .writeHead(200, {
      'content-type': override?.contentType ?? (png ? 'image/png' : 'image/jpeg'),
      'content-length': body.length,
    })
    .end(body);
}

/** A small picture whose colour depends on the name, so each name has its own bytes. */
export function realImage(name: string, png: boolean): Promise<Buffer> {
  const [r, g, b] = createHash('sha256').update(name).digest();
  const picture = sharp({ create: { width: 8, height: 8, channels: 3, background: { r, g, b } } });
  return (png ? picture.png() : picture.jpeg()).toBuffer();
}

/** Just enough multipart parsing to find the `media` part, its filename, type and size. */
function mediaPart(body: Buffer, contentType: string): WechatCall['media'] {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!boundary) return undefined;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    const end = body.indexOf(delimiter, start + delimiter.length);
    if (end === -1) break;
    const part = body.subarray(start + delimiter.length + 2, end - 2);
    const headerEnd = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, Math.max(headerEnd, 0)).toString('utf8');
    if (headerEnd !== -1 && /name="media"/i.test(headers)) {
      return {
        filename: /filename="([^"]*)"/i.exec(headers)?.[1] ?? null,
        contentType: /content-type:\s*([^\r\n;]+)/i.exec(headers)?.[1].trim() ?? null,
        bytes: part.length - headerEnd - 4,
        sha256: createHash('sha256')
          .update(part.subarray(headerEnd + 4))
          .digest('hex'),
      };
    }
    start = end;
  }
  return undefined;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, body: object): void {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function refuse(errcode: number, errmsg: string): { errcode: number; errmsg: string } {
  return { errcode, errmsg: `${errmsg} rid: fake-${randomBytes(4).toString('hex')}` };
}

function queue<T>(map: Map<string, T[]>, key: string, value: T): void {
  map.set(key, [...(map.get(key) ?? []), value]);
}

function normalise(path: string): string {
  if (path.startsWith('/')) return path;
  return `/cgi-bin/${path}`;
}

function length(text: string): number {
  return [...text].length;
}
