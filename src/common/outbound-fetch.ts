import { lookup as dnsLookup } from 'node:dns/promises';
import http, { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import https from 'node:https';
import { BlockList, isIP, LookupFunction } from 'node:net';
import { AppException } from 'src/common/app.exception';
import { ErrorCode } from 'src/common/error-code';
import { ImageType, sniffImage } from 'src/common/image-type';

/*
 * The one way the gateway fetches a URL that a user supplied: an image in a post body or a cover
 * (`fetch`, `fetchImage`), and a channel's endpoint an administrator set, its webhook or API
 * (`request`). An administrator's URL is guarded the same: a channel pointed at 127.0.0.1:6379
 * or the cloud metadata address would otherwise make the gateway speak for whoever set it.
 *
 * The name is resolved once per hop, every address it resolves to is checked, and the connection
 * is made to the checked address through a pinned `lookup`, so a second DNS answer (rebinding)
 * cannot move it. TLS still verifies, and the Host header still names, the original host.
 */

export const MAX_REDIRECTS = 3;

type Family = 4 | 6;
export interface ResolvedAddress {
  address: string;
  family: Family;
}
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

const defaultResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/** Addresses nothing a user names may reach: loopback, private, link-local, reserved... */
const FORBIDDEN = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // RFC 1918
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  FORBIDDEN.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b::', 96], // NAT64: reaches IPv4 behind a translator
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo, ORCHID...)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: embeds any IPv4 address
  ['fc00::', 7], // unique local (ULA)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  FORBIDDEN.addSubnet(net, prefix, 'ipv6');
}

/** The eight 16-bit groups of an IPv6 address (any valid textual form). */
function ipv6Groups(ip: string): number[] {
  let text = ip.split('%')[0];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill =
    tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((g) => parseInt(g, 16));
}

/** The IPv4 address an IPv6 one stands for (IPv4-mapped ::ffff:a.b.c.d, or IPv4-compatible). */
function embeddedIpv4(ip: string): string | null {
  const g = ipv6Groups(ip);
  if (g.length !== 8 || g.slice(0, 5).some((x) => x !== 0)) return null;
  if (g[5] !== 0xffff && !(g[5] === 0 && (g[6] !== 0 || g[7] > 1))) return null;
  return [g[6] >> 8, g[6] & 0xff, g[7] >> 8, g[7] & 0xff].join('.');
}

/** Whether a user-named URL may reach this address (an IP literal, either family). */
export function isForbiddenAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return FORBIDDEN.check(ip, 'ipv4');
  if (family !== 6) return true;
  const v4 = embeddedIpv4(ip);
  if (v4) return FORBIDDEN.check(v4, 'ipv4');
  return FORBIDDEN.check(ip.split('%')[0], 'ipv6');
}

/** One `OUTBOUND_ALLOW_HOSTS` entry: a host, and the port it is allowed on (any when null). */
export interface AllowedHost {
  host: string;
  port: string | null;
}

/**
 * Parses `host[:port]` entries, comma-separated. Hosts are normalised as URLs normalise them, so
 * `127.1` and `127.0.0.1` are one entry; IPv6 hosts are written in brackets.
 */
export function parseAllowHosts(value: string | undefined): AllowedHost[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      let url: URL;
      try {
        url = new URL(`http://${entry}`);
      } catch {
        throw new Error(`"${entry}" is not a host or host:port`);
      }
      if (url.pathname !== '/' || url.username || url.search) {
        throw new Error(`"${entry}" is not a host or host:port`);
      }
      const explicitPort = /:\d+$/.test(entry);
      return { host: url.hostname.toLowerCase(), port: explicitPort ? url.port || '80' : null };
    });
}

export interface OutboundPolicy {
  allowHosts: readonly AllowedHost[];
  /** For each fetch, all hops included. */
  timeoutMs: number;
  /** For tests only: stands in for DNS. */
  resolver?: Resolver;
}

export interface FetchOptions {
  maxBytes: number;
  signal?: AbortSignal;
  accept?: string;
}

/** An API call: no redirect is followed, whatever the status it is the caller's to judge. */
export interface RequestOptions {
  method: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Bounds the call; without one, the policy's timeout does. */
  signal?: AbortSignal;
  /** The most of the answer's body read; the rest is dropped (`truncated`). */
  maxBytes: number;
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as UTF-8, at most `maxBytes` of it. */
  text: string;
  truncated: boolean;
}

export interface Fetched {
  /** The URL that answered, after redirects. */
  url: string;
  contentType: string;
  bytes: Buffer;
}

export interface FetchedImage extends Fetched {
  type: ImageType;
}

/**
 * A refusal of a user-supplied URL. `message` is safe to show to whoever supplied it; `reason`
 * (an upstream status or socket error) is for logs and reviewers, since shown to the author it
 * would turn the gateway into a port scanner.
 */
export class OutboundError extends AppException {
  constructor(
    code: ErrorCode,
    message: string,
    readonly url: string,
    readonly reason: string,
    readonly retryable = false,
  ) {
    super(code, message, { url });
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function safeUrl(url: string): string {
  return url.length > 300 ? `${url.slice(0, 297)}...` : url;
}

export class OutboundFetcher {
  private readonly resolve: Resolver;

  constructor(private readonly policy: OutboundPolicy) {
    this.resolve = policy.resolver ?? defaultResolver;
  }

  /** GET with every guard on; answers the body of the final 2xx, or throws an OutboundError. */
  async fetch(raw: string, options: FetchOptions): Promise<Fetched> {
    const signal = AbortSignal.any([
      AbortSignal.timeout(this.policy.timeoutMs),
      ...(options.signal ? [options.signal] : []),
    ]);
    let url = this.parse(raw, raw);
    for (let hop = 0; ; hop++) {
      const address = await this.check(url, raw);
      const res = await this.open(url, address, signal, raw, {
        method: 'GET',
        headers: {
          accept: options.accept ?? '*/*',
          'user-agent': 'SanshenGateway/1 (+media import)',
        },
      });
      const location = res.headers.location;
      if (REDIRECTS.has(res.statusCode ?? 0) && location) {
        res.destroy();
        if (hop >= MAX_REDIRECTS) {
          throw this.unreachable(raw, `more than ${MAX_REDIRECTS} redirects`);
        }
        url = this.parse(new URL(location, url).toString(), raw);
        continue;
      }
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        res.destroy();
        throw this.unreachable(
          raw,
          `HTTP ${status} from ${safeUrl(url.toString())}`,
          status >= 500,
        );
      }
      const contentType = (res.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      const bytes = await this.read(res, options.maxBytes, signal, raw);
      return { url: url.toString(), contentType, bytes };
    }
  }

  /**
   * One request to an endpoint, every address check of `fetch` included. A redirect is not
   * followed (a POST replayed elsewhere is not the call that was meant, and the hop would need
   * the same checks): its 3xx is the answer. Refusals and transport failures are OutboundErrors.
   */
  async request(raw: string, options: RequestOptions): Promise<Answer> {
    const signal = options.signal ?? AbortSignal.timeout(this.policy.timeoutMs);
    const url = this.parse(raw, raw);
    const address = await this.check(url, raw);
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    const res = await this.open(url, address, signal, raw, {
      method: options.method,
      headers: {
        accept: '*/*',
        'user-agent': 'SanshenGateway/1',
        ...options.headers,
        ...(body ? { 'content-length': String(body.length) } : {}),
      },
      body,
    });
    const { bytes, truncated } = await this.readAtMost(res, options.maxBytes, signal, raw);
    return {
      status: res.statusCode ?? 0,
      headers: res.headers,
      text: bytes.toString('utf8'),
      truncated,
    };
  }

  /** An image: fetched as above, with an image Content-Type and bytes that are PNG/JPEG/GIF/WebP. */
  async fetchImage(raw: string, options: FetchOptions): Promise<FetchedImage> {
    const got = await this.fetch(raw, { accept: 'image/*', ...options });
    if (!got.contentType.startsWith('image/')) {
      throw new OutboundError(
        ErrorCode.OUTBOUND_BAD_TYPE,
        'The URL did not answer with an image',
        raw,
        `Content-Type ${got.contentType || '(none)'}`,
      );
    }
    const type = sniffImage(got.bytes);
    if (!type) {
      throw new OutboundError(
        ErrorCode.OUTBOUND_BAD_TYPE,
        'The image is not a PNG, JPEG, GIF or WebP file',
        raw,
        `bytes of ${got.contentType} do not match a supported image format`,
      );
    }
    return { ...got, type };
  }

  private parse(candidate: string, raw: string): URL {
    let url: URL;
    try {
      url = new URL(candidate);
    } catch {
      throw new OutboundError(ErrorCode.OUTBOUND_BAD_URL, 'Not a valid URL', raw, 'unparsable');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new OutboundError(
        ErrorCode.OUTBOUND_BAD_URL,
        'Only http and https URLs can be fetched',
        raw,
        `scheme ${url.protocol}`,
      );
    }
    if (url.username || url.password) {
      throw new OutboundError(
        ErrorCode.OUTBOUND_BAD_URL,
        'URLs with a user name or password are not fetched',
        raw,
        'userinfo in URL',
      );
    }
    return url;
  }

  private allowed(url: URL): boolean {
    const host = url.hostname.toLowerCase();
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    return this.policy.allowHosts.some(
      (a) => a.host === host && (a.port === null || a.port === port),
    );
  }

  /** The address to connect to, once every address the name has is known to be allowed. */
  private async check(url: URL, raw: string): Promise<ResolvedAddress> {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const literal = isIP(host);
    let addresses: ResolvedAddress[];
    if (literal) {
      addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
    } else {
      try {
        addresses = await this.resolve(host);
      } catch (err) {
        throw this.unreachable(raw, `DNS: ${(err as { code?: string }).code ?? String(err)}`, true);
      }
      if (!addresses.length) throw this.unreachable(raw, 'DNS: no address', true);
    }
    if (!this.allowed(url)) {
      const bad = addresses.find((a) => isForbiddenAddress(a.address));
      if (bad) {
        throw new OutboundError(
          ErrorCode.OUTBOUND_ADDRESS_FORBIDDEN,
          'The URL points at an address the gateway does not fetch from',
          raw,
          `${url.hostname} resolves to ${bad.address}`,
        );
      }
    }
    return addresses[0];
  }

  private open(
    url: URL,
    address: ResolvedAddress,
    signal: AbortSignal,
    raw: string,
    send: { method: string; headers: Record<string, string>; body?: Buffer },
  ): Promise<IncomingMessage> {
    // Always the checked address: a second resolution here could answer differently.
    const pinned: LookupFunction = (_host, opts, callback) => {
      if ((opts as { all?: boolean }).all) {
        (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [address]);
      } else {
        callback(null, address.address, address.family);
      }
    };
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = client.request(url, {
        method: send.method,
        agent: false,
        lookup: pinned,
        signal,
        headers: send.headers,
      });
      req.once('response', resolve);
      req.once('error', (err) => reject(this.transportError(raw, err, signal)));
      req.end(send.body);
    });
  }

  /** Up to `maxBytes` of the body; the connection is dropped past that. */
  private readAtMost(
    res: IncomingMessage,
    maxBytes: number,
    signal: AbortSignal,
    raw: string,
  ): Promise<{ bytes: Buffer; truncated: boolean }> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      const done = (truncated: boolean) => {
        if (settled) return;
        settled = true;
        if (truncated) res.destroy();
        resolve({ bytes: Buffer.concat(chunks), truncated });
      };
      res.on('data', (chunk: Buffer) => {
        const room = maxBytes - size;
        size += chunk.length;
        chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
        if (size > maxBytes) done(true);
      });
      res.once('end', () => done(false));
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        res.destroy();
        reject(this.transportError(raw, err, signal));
      };
      res.once('error', fail);
      res.once('aborted', () => fail(new Error('aborted')));
    });
  }

  private read(
    res: IncomingMessage,
    maxBytes: number,
    signal: AbortSignal,
    raw: string,
  ): Promise<Buffer> {
    const tooLarge = () =>
      new OutboundError(
        ErrorCode.OUTBOUND_TOO_LARGE,
        `The file is larger than ${maxBytes} bytes`,
        raw,
        `over ${maxBytes} bytes`,
      );
    const declared = Number(res.headers['content-length'] ?? 0);
    if (declared > maxBytes) {
      res.destroy();
      return Promise.reject(tooLarge());
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      const fail = (err: OutboundError) => {
        if (settled) return;
        settled = true;
        res.destroy();
        reject(err);
      };
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) fail(tooLarge());
        else chunks.push(chunk);
      });
      res.once('end', () => {
        if (settled) return;
        settled = true;
        resolve(Buffer.concat(chunks));
      });
      res.once('error', (err) => fail(this.transportError(raw, err, signal)));
      res.once('aborted', () => fail(this.transportError(raw, new Error('aborted'), signal)));
    });
  }

  private transportError(raw: string, err: unknown, signal: AbortSignal): OutboundError {
    if (signal.aborted) return this.unreachable(raw, 'timed out', true);
    const code = (err as { code?: string }).code;
    return this.unreachable(raw, code ?? (err instanceof Error ? err.message : String(err)), true);
  }

  private unreachable(raw: string, reason: string, retryable = false): OutboundError {
    return new OutboundError(
      ErrorCode.OUTBOUND_UNREACHABLE,
      'The URL could not be fetched',
      raw,
      reason,
      retryable,
    );
  }
}
