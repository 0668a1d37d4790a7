import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode } from 'src/common/error-code';
import {
  isForbiddenAddress,
  OutboundError,
  OutboundFetcher,
  parseAllowHosts,
} from 'src/common/outbound-fetch';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);

interface Local {
  port: number;
  requests: IncomingMessage[];
  server: Server;
}

async function local(handler: (req: IncomingMessage, res: any) => void): Promise<Local> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, requests, server };
}

async function refusal(p: Promise<unknown>): Promise<OutboundError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OutboundError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('isForbiddenAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '100.64.0.1',
    '169.254.169.254',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '240.0.0.1',
    '::',
    '::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:169.254.169.254',
    '::ffff:a00:1',
    '::127.0.0.1',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    'fe80::1%eth0',
    'ff02::1',
    '64:ff9b::7f00:1',
    '2002:7f00:1::',
    'not an address',
  ])('refuses %s', (ip) => expect(isForbiddenAddress(ip)).toBe(true));

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
  ])('allows %s', (ip) => expect(isForbiddenAddress(ip)).toBe(false));
});

describe('parseAllowHosts', () => {
  it('normalises hosts as URLs do and keeps the port when given', () => {
    expect(parseAllowHosts(' 127.1:8080, Images.Example.edu.cn ,[::1]:9000')).toEqual([
      { host: '127.0.0.1', port: '8080' },
      { host: 'images.example.edu.cn', port: null },
      { host: '[::1]', port: '9000' },
    ]);
    expect(parseAllowHosts('')).toEqual([]);
    expect(() => parseAllowHosts('a/b')).toThrow();
  });
});

describe('OutboundFetcher', () => {
  let target: Local;
  let redirector: Local;

  beforeAll(async () => {
    target = await local((req, res) => {
      if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'image/png' });
        res.write(PNG);
        res.end(Buffer.alloc(5000));
        return;
      }
      if (req.url === '/html') {
        res.writeHead(200, { 'content-type': 'image/png' }).end('<html></html>');
        return;
      }
      if (req.url === '/text') {
        res.writeHead(200, { 'content-type': 'text/html' }).end(PNG);
        return;
      }
      if (req.url === '/missing') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'image/png', 'x-host': req.headers.host }).end(PNG);
    });
    redirector = await local((req, res) => {
      const to = decodeURIComponent((req.url ?? '/').slice('/to/'.length));
      res.writeHead(302, { location: to }).end();
    });
  });
  afterAll(async () => {
    await new Promise((r) => target.server.close(r));
    await new Promise((r) => redirector.server.close(r));
  });

  const guarded = (allow = '', resolver?: (h: string) => Promise<any>) =>
    new OutboundFetcher({ allowHosts: parseAllowHosts(allow), timeoutMs: 2000, resolver });

  it('fetches an allowed host', async () => {
    const got = await guarded(`127.0.0.1:${target.port}`).fetchImage(
      `http://127.0.0.1:${target.port}/a.png`,
      { maxBytes: 1000 },
    );
    expect(got.type.ext).toBe('png');
    expect(got.bytes.equals(PNG)).toBe(true);
  });

  it.each([
    (p: number) => `http://127.0.0.1:${p}/x.png`,
    (p: number) => `http://127.1:${p}/x.png`,
    (p: number) => `http://0x7f000001:${p}/x.png`,
    (p: number) => `http://2130706433:${p}/x.png`,
    (p: number) => `http://[::1]:${p}/x.png`,
    (p: number) => `http://[::ffff:127.0.0.1]:${p}/x.png`,
    (p: number) => `http://localhost:${p}/x.png`,
  ])('refuses loopback in any spelling without connecting (%#)', async (form) => {
    const before = target.requests.length;
    const err = await refusal(guarded().fetch(form(target.port), { maxBytes: 1000 }));
    expect(err.code).toBe(ErrorCode.OUTBOUND_ADDRESS_FORBIDDEN);
    expect(err.getStatus()).toBe(422);
    expect(target.requests.length).toBe(before);
  });

  it('refuses a name that resolves to a private address', async () => {
    const err = await refusal(
      guarded('', async () => [{ address: '10.0.0.5', family: 4 }]).fetch(
        'http://intranet.example/x',
        { maxBytes: 10 },
      ),
    );
    expect(err.code).toBe(ErrorCode.OUTBOUND_ADDRESS_FORBIDDEN);
    expect(err.reason).toContain('10.0.0.5');
  });

  it('refuses when any of the addresses is internal', async () => {
    const err = await refusal(
      guarded('', async () => [
        { address: '93.184.216.34', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ]).fetch('http://mixed.example/x', { maxBytes: 10 }),
    );
    expect(err.code).toBe(ErrorCode.OUTBOUND_ADDRESS_FORBIDDEN);
  });

  it('connects to the address it checked, resolving once, with the original Host', async () => {
    let lookups = 0;
    const resolver = async () => {
      lookups++;
      return [{ address: '127.0.0.1', family: 4 as const }];
    };
    const got = await guarded(`pinned.test:${target.port}`, resolver).fetch(
      `http://pinned.test:${target.port}/p.png`,
      { maxBytes: 1000 },
    );
    expect(got.bytes.equals(PNG)).toBe(true);
    expect(lookups).toBe(1);
    expect(target.requests.at(-1)!.headers.host).toBe(`pinned.test:${target.port}`);
  });

  it('checks every redirect hop: an allowed host cannot send it to a forbidden one', async () => {
    const before = target.requests.length;
    const to = encodeURIComponent(`http://127.0.0.1:${target.port}/secret`);
    const err = await refusal(
      guarded(`127.0.0.1:${redirector.port}`).fetch(
        `http://127.0.0.1:${redirector.port}/to/${to}`,
        { maxBytes: 1000 },
      ),
    );
    expect(err.code).toBe(ErrorCode.OUTBOUND_ADDRESS_FORBIDDEN);
    expect(target.requests.length).toBe(before);
  });

  it('follows at most 3 redirects', async () => {
    const allow = `127.0.0.1:${redirector.port},127.0.0.1:${target.port}`;
    let url = `http://127.0.0.1:${target.port}/end.png`;
    for (let i = 0; i < 3; i++) {
      url = `http://127.0.0.1:${redirector.port}/to/${encodeURIComponent(url)}`;
    }
    const got = await guarded(allow).fetch(url, { maxBytes: 1000 });
    expect(got.url).toBe(`http://127.0.0.1:${target.port}/end.png`);
    const err = await refusal(
      guarded(allow).fetch(`http://127.0.0.1:${redirector.port}/to/${encodeURIComponent(url)}`, {
        maxBytes: 1000,
      }),
    );
    expect(err.code).toBe(ErrorCode.OUTBOUND_UNREACHABLE);
    expect(err.reason).toMatch(/redirects/);
  });

  it('refuses other schemes and credentials in the URL', async () => {
    for (const url of [
      'file:///etc/passwd',
      'ftp://example.org/x',
      'gopher://x',
      'http://u:p@x/',
    ]) {
      expect((await refusal(guarded().fetch(url, { maxBytes: 10 }))).code).toBe(
        ErrorCode.OUTBOUND_BAD_URL,
      );
    }
  });

  it('caps the size, checks the type and the magic bytes, and keeps upstream detail out of the message', async () => {
    const f = guarded(`127.0.0.1:${target.port}`);
    const base = `http://127.0.0.1:${target.port}`;
    expect((await refusal(f.fetchImage(`${base}/big`, { maxBytes: 1000 }))).code).toBe(
      ErrorCode.OUTBOUND_TOO_LARGE,
    );
    expect((await refusal(f.fetchImage(`${base}/html`, { maxBytes: 1000 }))).code).toBe(
      ErrorCode.OUTBOUND_BAD_TYPE,
    );
    expect((await refusal(f.fetchImage(`${base}/text`, { maxBytes: 1000 }))).code).toBe(
      ErrorCode.OUTBOUND_BAD_TYPE,
    );
    const missing = await refusal(f.fetchImage(`${base}/missing`, { maxBytes: 1000 }));
    expect(missing.code).toBe(ErrorCode.OUTBOUND_UNREACHABLE);
    expect(missing.message).not.toMatch(/404/);
    expect(missing.reason).toMatch(/404/);
  });

  it('times out', async () => {
    const slow = await local(() => undefined);
    try {
      const f = new OutboundFetcher({
        allowHosts: parseAllowHosts(`127.0.0.1:${slow.port}`),
        timeoutMs: 200,
      });
      const err = await refusal(f.fetch(`http://127.0.0.1:${slow.port}/`, { maxBytes: 10 }));
      expect(err.code).toBe(ErrorCode.OUTBOUND_UNREACHABLE);
      expect(err.reason).toMatch(/timed out/);
    } finally {
      slow.server.closeAllConnections();
      await new Promise((r) => slow.server.close(r));
    }
  });

  describe('request (a channel endpoint)', () => {
    let api: Local;
    const bodies: string[] = [];

    beforeAll(async () => {
      api = await local((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          bodies.push(body);
          if (req.url === '/moved') {
            res.writeHead(307, { location: `http://127.0.0.1:${target.port}/elsewhere` }).end();
          } else if (req.url === '/long') {
            res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(5000));
          } else {
            res
              .writeHead(201, { 'content-type': 'application/json', 'x-seen': req.method })
              .end(JSON.stringify({ method: req.method, type: req.headers['content-type'], body }));
          }
        });
      });
    });
    afterAll(async () => {
      await new Promise((r) => api.server.close(r));
    });

    const post = (path: string, allow = `127.0.0.1:${api?.port}`) =>
      guarded(allow).request(`http://127.0.0.1:${api.port}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":1}',
        maxBytes: 1000,
      });

    it('sends the method, headers and body, and answers status, headers and text', async () => {
      const res = await post('/call');
      expect(res.status).toBe(201);
      expect(res.headers['x-seen']).toBe('POST');
      expect(res.truncated).toBe(false);
      expect(JSON.parse(res.text)).toEqual({
        method: 'POST',
        type: 'application/json',
        body: '{"a":1}',
      });
    });

    it('refuses a loopback endpoint not listed, without connecting', async () => {
      const before = api.requests.length;
      const err = await refusal(post('/call', ''));
      expect(err.code).toBe(ErrorCode.OUTBOUND_ADDRESS_FORBIDDEN);
      expect(err.retryable).toBe(false);
      expect(api.requests.length).toBe(before);
    });

    it('a host listed without a port is allowed on any port', async () => {
      expect((await post('/call', '127.0.0.1')).status).toBe(201);
    });

    it('does not follow a redirect: the 3xx is the answer', async () => {
      const before = target.requests.length;
      const res = await post('/moved');
      expect(res.status).toBe(307);
      expect(target.requests.length).toBe(before);
    });

    it('reads at most maxBytes of the answer', async () => {
      const res = await post('/long');
      expect(res.status).toBe(200);
      expect(res.truncated).toBe(true);
      expect(res.text).toHaveLength(1000);
    });

    it("is bounded by the caller's signal", async () => {
      const slow = await local(() => undefined);
      try {
        const err = await refusal(
          guarded('127.0.0.1').request(`http://127.0.0.1:${slow.port}/`, {
            method: 'POST',
            body: 'x',
            maxBytes: 10,
            signal: AbortSignal.timeout(100),
          }),
        );
        expect(err.code).toBe(ErrorCode.OUTBOUND_UNREACHABLE);
        expect(err.retryable).toBe(true);
        expect(err.reason).toMatch(/timed out/);
      } finally {
        slow.server.closeAllConnections();
        await new Promise((r) => slow.server.close(r));
      }
    });
  });
});
