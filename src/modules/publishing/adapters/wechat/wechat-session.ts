import { Answer, OutboundError, OutboundFetcher } from 'src/common/outbound-fetch';
import {
  AdapterContext,
  AdapterError,
  refusedEndpoint,
} from 'src/modules/publishing/adapters/channel-adapter';
import {
  IssuedToken,
  TOKEN_ERRCODES,
  TokenCache,
} from 'src/modules/publishing/adapters/wechat/token-cache';

const RATE_LIMITED = 45009;
const SYSTEM_BUSY = -1;
const RATE_LIMIT_WAIT_MS = 60_000;
const DEFAULT_TOKEN_SECONDS = 7200;
/** WeChat's replies are small JSON objects; anything longer is not one. */
const MAX_REPLY_BYTES = 1024 * 1024;

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

export type Reply = Record<string, unknown>;

export interface Credentials {
  appId: string;
  appSecret: string;
}

export interface DownloadedImage {
  bytes: Uint8Array<ArrayBuffer>;
  type: string;
  filename: string;
}

/** One operation's conversation with the API: its credentials, signal and the secrets to hide. */
export class WechatSession {
  private readonly secrets = new Set<string>();

  constructor(
    private readonly base: string,
    private readonly credentials: Credentials,
    private readonly signal: AbortSignal,
    private readonly tokens: TokenCache,
    private readonly outbound: OutboundFetcher,
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
    let res: Answer;
    try {
      // Request encodes a FormData body (and its boundary) as fetch would have.
      const encoded = new Request(url, { ...init, method: 'POST' });
      res = await this.outbound.request(url, {
        method: 'POST',
        headers: Object.fromEntries(encoded.headers),
        body: Buffer.from(await encoded.arrayBuffer()),
        signal: this.signal,
        maxBytes: MAX_REPLY_BYTES,
      });
    } catch (err) {
      if (err instanceof OutboundError && !err.retryable) {
        throw refusedEndpoint(`WeChat ${name}`, err);
      }
      throw this.transportError(`calling WeChat ${name}`, err);
    }
    if (res.status < 200 || res.status >= 300) {
      throw new AdapterError(
        `WeChat ${name} answered HTTP ${res.status}`,
        retryableStatus(res.status),
      );
    }
    const text = res.truncated ? '' : res.text;
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
    return new AdapterError(message, false, undefined, undefined, 'PLATFORM_REJECTED');
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

export function credentialsOf(ctx: AdapterContext): Credentials {
  const appId = nonEmptyString(ctx.credentials?.appId);
  const appSecret = nonEmptyString(ctx.credentials?.appSecret);
  if (!appId || !appSecret) {
    throw new AdapterError(
      'WeChat channel credentials are missing: set appId and appSecret on the channel',
      false,
      undefined,
      undefined,
      'CHANNEL_MISCONFIGURED',
    );
  }
  return { appId, appSecret };
}

export function json(body: unknown): RequestInit {
  return { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

export function mediaForm(image: DownloadedImage): RequestInit {
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
export function idOf(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return nonEmptyString(value);
}

export function requireId(reply: Reply, field: string, name: string): string {
  const id = idOf(reply[field]);
  if (!id) throw new AdapterError(`WeChat ${name} answered without a ${field}`, true);
  return id;
}

export function nonEmptyString(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

function retryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

function describeError(err: unknown): string {
  if (err instanceof OutboundError) return err.reason;
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  const detail =
    cause instanceof Error ? ((cause as { code?: string }).code ?? cause.message) : undefined;
  return detail ? `${err.message} (${detail})` : err.message;
}
