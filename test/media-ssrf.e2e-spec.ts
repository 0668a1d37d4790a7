import { createHash } from 'node:crypto';
import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import request from 'supertest';
import { bearer, startApp, TestApp } from 'test/harness';
import { realImage, startWechatServer, WechatServer } from 'test/fakes/wechat-server';
import { waitFor } from 'test/fakes/webhook-receiver';
import { buildCampus, Campus, expectOk, Flow, PostBody } from 'test/workflow';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const MEDIA_SRC = /\/media\/([0-9a-f]{64})\.(jpg|png)/;

/**
 * Issue 9: no server-side request forgery through post images, and the image bytes that were
 * approved are the bytes that go out. The WeChat stand-in (allowed by OUTBOUND_ALLOW_HOSTS) is
 * the channel and the allowed image host; a second loopback server, not allowed, must never
 * hear a request.
 */
describe('images: the guarded fetcher and the media the approval covers', () => {
  let t: TestApp;
  let c: Campus;
  let flow: Flow;
  let wx: WechatServer;
  let channelId: string;
  let forbidden: Server;
  let port: number;
  const heard: IncomingMessage[] = [];

  beforeAll(async () => {
    forbidden = createServer((req, res) => {
      heard.push(req);
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(Buffer.from([0xff, 0xd8, 0xff]));
    });
    await new Promise<void>((r) => forbidden.listen(0, '127.0.0.1', r));
    port = (forbidden.address() as AddressInfo).port;
    wx = await startWechatServer();
    t = await startApp({
      OUTBOUND_ALLOW_HOSTS: new URL(wx.url).host,
      PUBLISH_POLL_MS: '50',
      PUBLISH_BACKOFF_MS: '100',
      PUBLISH_MAX_ATTEMPTS: '2',
      MEDIA_MAX_BYTES: String(200 * 1024),
    });
    c = await buildCampus(t);
    flow = new Flow(t);
    channelId = (
      await c.org.channel(c.school.id, {
        platform: 'wechat_mp',
        config: { baseUrl: wx.url, pollAfterMs: 50 },
        credentials: { appId: wx.appId, appSecret: wx.appSecret },
      })
    ).id;
  });
  afterAll(async () => {
    await t.close();
    await wx.close();
    forbidden.closeAllConnections();
    await new Promise((r) => forbidden.close(r));
  });

  const createPost = (fields: Record<string, unknown>) =>
    request(t.http)
      .post('/api/v1/posts')
      .set(bearer(c.people.editor.token))
      .send({ title: '校园新闻', summary: '摘要', channelIds: [channelId], ...fields });

  async function approve(p: PostBody): Promise<void> {
    expectOk(await flow.submit(c.people.editor, p));
    expectOk(await flow.approve(c.people.head, p));
    expectOk(await flow.approve(c.people.prop, p));
  }

  const read = async (id: string, who = c.people.auditor) => (await flow.get(who, id)).body;

  const published = (id: string) =>
    waitFor('published', async () => {
      const post = await read(id);
      return post.state === 'published' ? post : false;
    });

  describe('SSRF', () => {
    const forms = [
      `http://127.0.0.1:${0}`,
      `http://127.1:${0}`,
      `http://0x7f000001:${0}`,
      `http://[::1]:${0}`,
      `http://[::ffff:127.0.0.1]:${0}`,
      `http://localhost:${0}`,
    ];
    const at = (form: string) => form.replace(/:0$/, `:${port}`);

    it.each(forms)(
      'refuses a body <img> at %s when the post is saved: nothing is fetched',
      async (form) => {
        const res = await createPost({
          body: `<p>正文</p><p><img src="${at(form)}/latest/meta-data/x.jpg"></p>`,
        });
        expect(res.status).toBe(422);
        expect(res.body.code).toBe('OUTBOUND_ADDRESS_FORBIDDEN');
        // The refusal names the URL the author wrote, and nothing the server found out.
        expect(JSON.stringify(res.body)).not.toMatch(/ECONNREFUSED|resolves to/);
        expect(heard).toHaveLength(0);
      },
    );

    it.each(forms)('refuses a cover image at %s', async (form) => {
      const res = await createPost({ body: '<p>正文</p>', coverImageUrl: `${at(form)}/cover.jpg` });
      // Some spellings already fail the cover's URL validation (400); the rest are refused here.
      expect([400, 422]).toContain(res.status);
      expect(['VALIDATION_FAILED', 'OUTBOUND_ADDRESS_FORBIDDEN']).toContain(res.body.code);
      expect(heard).toHaveLength(0);
    });

    it('checks every redirect hop: an allowed host cannot send the fetch to a forbidden one', async () => {
      wx.serveImage('hop.jpg', { location: `http://127.0.0.1:${port}/secret.jpg` });
      const body = `<p><img src="${wx.url}/img/hop.jpg"></p>`;
      const res = await createPost({ body });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('OUTBOUND_ADDRESS_FORBIDDEN');
      const cover = await createPost({ body: '<p>x</p>', coverImageUrl: `${wx.url}/img/hop.jpg` });
      expect(cover.body.code).toBe('OUTBOUND_ADDRESS_FORBIDDEN');
      expect(wx.callsTo('/img/hop.jpg').length).toBe(2);
      expect(heard).toHaveLength(0);
    });

    it('publishes an approved post whose <img> hides a forbidden URL in another attribute without fetching it', async () => {
      const smuggled = `http://127.0.0.1:${port}/smuggled.jpg`;
      const res = await createPost({
        body: `<p><img alt="图 src='${smuggled}'" src="${wx.url}/img/hall.jpg"></p><!-- <img src="${smuggled}"> -->`,
        coverImageUrl: `${wx.url}/img/cover-smuggle.jpg`,
      });
      expect(res.status).toBe(201);
      await approve(res.body);
      await published(res.body.id);
      expect(heard).toHaveLength(0);
      const draft = wx.callsTo('/cgi-bin/draft/add').at(-1)!.json.articles[0];
      expect(draft.content).toContain('mmbiz.qpic.cn');
    });
  });

  describe('channel endpoints', () => {
    it.each(['127.0.0.1', 'localhost'])(
      'fails a publication to a webhook on loopback (%s) not in OUTBOUND_ALLOW_HOSTS, sending nothing',
      async (host) => {
        const hook = await c.org.channel(c.school.id, {
          platform: 'webhook',
          config: { url: `http://${host}:${port}/hook` },
        });
        const res = await createPost({
          title: '内网回调',
          body: '<p>正文</p>',
          channelIds: [hook.id],
        });
        expect(res.status).toBe(201);
        await approve(res.body);
        const failed = await waitFor('failed', async () => {
          const pub = (await read(res.body.id)).publications[0];
          return pub?.status === 'failed' ? pub : false;
        });
        // Permanent: one attempt, no retry, however many PUBLISH_MAX_ATTEMPTS allows.
        expect(failed).toMatchObject({ attempts: 1, lastErrorCode: 'CHANNEL_MISCONFIGURED' });
        expect(failed.lastError).toMatch(
          /^webhook endpoint refused: .* resolves to .*, an internal address; list the host in OUTBOUND_ALLOW_HOSTS/,
        );
        const seenByEditor = (await read(res.body.id, c.people.editor)).publications[0];
        expect(seenByEditor.lastError).toBe('渠道配置有误，请联系管理员');
        expect(heard).toHaveLength(0);
      },
    );
  });

  describe('Images', () => {
    it('publishes the approved bytes even when the image behind the URL changed after approval', async () => {
      const before = await realImage('before', false);
      wx.serveImage('changing.jpg', { bytes: before, contentType: 'image/jpeg' });
      wx.serveImage('changing-cover.jpg', { bytes: before, contentType: 'image/jpeg' });
      const res = await createPost({
        body: `<p>现场</p><p><img src="${wx.url}/img/changing.jpg" alt="现场"></p>`,
        coverImageUrl: `${wx.url}/img/changing-cover.jpg`,
        publishAt: new Date(Date.now() + 3000).toISOString(),
      });
      expect(res.status).toBe(201);
      const post = await read(res.body.id);
      const rev = post.currentRevision;
      // The revision names the stored image by digest, so its content hash covers the picture.
      const [, bodyDigest] = MEDIA_SRC.exec(rev.body)!;
      const [, coverDigest] = MEDIA_SRC.exec(rev.coverImageUrl)!;
      expect(bodyDigest).toBe(sha256(before));
      expect(coverDigest).toBe(sha256(before));
      expect(rev.body).not.toContain(`${wx.url}/img/`);

      await approve(res.body);
      const after = await realImage('after', false);
      wx.serveImage('changing.jpg', { bytes: after, contentType: 'image/jpeg' });
      wx.serveImage('changing-cover.jpg', { bytes: after, contentType: 'image/jpeg' });
      const fetchesAtApproval = wx.callsTo('/img/changing.jpg').length;

      await published(res.body.id);
      expect(wx.callsTo('/img/changing.jpg').length).toBe(fetchesAtApproval);
      const uploads = wx.callsTo('/cgi-bin/media/uploadimg');
      const cover = wx.callsTo('/cgi-bin/material/add_material').at(-1)!;
      expect(uploads.at(-1)!.media!.sha256).toBe(sha256(before));
      expect(cover.media!.sha256).toBe(sha256(before));
      expect(uploads.at(-1)!.media!.sha256).not.toBe(sha256(after));
    });

    it('shows authors a code and a short message for a failed publication, reviewers the detail', async () => {
      wx.publishOutcome = { ...wx.publishOutcome, status: 4, pendingPolls: 0 };
      try {
        const res = await createPost({
          title: '将被平台拒绝',
          body: '<p>正文</p>',
          coverImageUrl: `${wx.url}/img/cover-rejected.jpg`,
        });
        await approve(res.body);
        await waitFor(
          'failed',
          async () => (await read(res.body.id)).publications[0]?.status === 'failed',
        );
        const seenByEditor = (await read(res.body.id, c.people.editor)).publications[0];
        expect(seenByEditor).toMatchObject({
          lastErrorCode: 'PLATFORM_REJECTED',
          lastError: '平台拒绝了稿件',
        });
        const seenByAuditor = (await read(res.body.id)).publications[0];
        expect(seenByAuditor.lastError).toMatch(/publish_status 4/);
        const seenByProp = (await read(res.body.id, c.people.prop)).publications[0];
        expect(seenByProp.lastError).toMatch(/publish_status 4/);
      } finally {
        wx.publishOutcome = { ...wx.publishOutcome, status: 0 };
      }
    });
  });

  describe('POST /api/v1/media and GET /media/<sha256>.<ext>', () => {
    it('stores an upload sniffed from its bytes, strips the EXIF location, and serves it immutable', async () => {
      const photo = await sharp({
        create: { width: 16, height: 8, channels: 3, background: { r: 200, g: 10, b: 10 } },
      })
        .jpeg()
        .withMetadata({ orientation: 6 })
        .withExif({ IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '39/1 54/1 0/1' } })
        .toBuffer();
      const original = await sharp(photo).metadata();
      expect(original.exif?.toString('latin1')).toContain('N');
      expect([original.orientation, original.width, original.height]).toEqual([6, 16, 8]);

      const res = await request(t.http)
        .post('/api/v1/media')
        .set(bearer(c.people.editor.token))
        .attach('file', photo, { filename: 'holiday.png', contentType: 'image/png' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ mimeType: 'image/jpeg', width: 8, height: 16 });
      expect(res.body.url).toMatch(new RegExp(`/media/${res.body.sha256}\\.jpg$`));

      const got = await request(t.http).get(`/media/${res.body.sha256}.jpg`).buffer(true);
      expect(got.status).toBe(200);
      expect(got.headers['content-type']).toBe('image/jpeg');
      expect(got.headers['x-content-type-options']).toBe('nosniff');
      expect(got.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      const bytes = got.body as Buffer;
      expect(sha256(bytes)).toBe(res.body.sha256);
      const meta = await sharp(bytes).metadata();
      expect(meta.exif).toBeUndefined();
      // Turned upright before the orientation tag went.
      expect([meta.width, meta.height]).toEqual([8, 16]);

      // A post may name the stored image; saving it fetches nothing.
      const post = await createPost({
        body: `<p><img src="${res.body.url}"></p>`,
        coverImageUrl: res.body.url,
      });
      expect(post.status).toBe(201);
    });

    it('refuses what is not an image, what is too large, and callers who are not editors', async () => {
      const upload = (token: string, bytes: Buffer, name = 'x.png') =>
        request(t.http).post('/api/v1/media').set(bearer(token)).attach('file', bytes, name);
      const html = await upload(
        c.people.editor.token,
        Buffer.from('<html><script>1</script></html>'),
      );
      expect(html.status).toBe(415);
      expect(html.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      const big = await upload(c.people.editor.token, Buffer.alloc(300 * 1024, 1));
      expect(big.status).toBe(413);
      const png = await realImage('small', true);
      expect((await upload(c.people.auditor.token, png)).status).toBe(403);
      const json = await request(t.http)
        .post('/api/v1/media')
        .set(bearer(c.people.editor.token))
        .send({ file: 'x' });
      expect(json.status).toBe(415);
      const none = await request(t.http).get(`/media/${'0'.repeat(64)}.png`);
      expect(none.status).toBe(404);
      expect((await request(t.http).get('/media/../../etc/passwd')).status).toBe(404);
    });

    it('refuses an image URL that answers something other than an image', async () => {
      wx.serveImage('page.jpg', {
        bytes: Buffer.from('<html>not an image</html>'),
        contentType: 'image/jpeg',
      });
      const res = await createPost({ body: `<p><img src="${wx.url}/img/page.jpg"></p>` });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('OUTBOUND_BAD_TYPE');
      const missing = await createPost({ body: `<p><img src="${wx.url}/img/missing.jpg"></p>` });
      expect(missing.status).toBe(422);
      expect(missing.body.code).toBe('OUTBOUND_UNREACHABLE');
      expect(JSON.stringify(missing.body)).not.toMatch(/404/);
    });
  });
});
