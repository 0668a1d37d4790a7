import request from 'supertest';
import { Role } from 'src/common/roles';
import { bearer, Org, startApp, TestApp } from 'test/harness';

describe('administration of departments, users and channels', () => {
  let t: TestApp;
  let org: Org;
  let auditorToken: string;

  beforeAll(async () => {
    t = await startApp();
    org = new Org(t);
    const d = await org.department();
    auditorToken = (await org.user([Role.AUDITOR], d.id)).token;
  });
  afterAll(() => t.close());

  const admin = () => ({ ...bearer(t.adminToken) });
  const eventsFor = async (entityId: string) =>
    (
      await request(t.http)
        .get(`/api/v1/audit/events?entityId=${entityId}&order=asc`)
        .set(bearer(auditorToken))
    ).body.items as { action: string; details: Record<string, unknown> | null; actorId: string }[];

  it('creates, reads, updates and deactivates a department, each on the audit chain', async () => {
    const created = await request(t.http)
      .post('/api/v1/departments')
      .set(admin())
      .send({ name: '外国语学院', code: 'FL' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: expect.any(String),
      name: '外国语学院',
      code: 'FL',
      isPropaganda: false,
      active: true,
    });
    const id = created.body.id;
    expect((await request(t.http).get(`/api/v1/departments/${id}`).set(admin())).body.name).toBe(
      '外国语学院',
    );
    const updated = await request(t.http)
      .patch(`/api/v1/departments/${id}`)
      .set(admin())
      .send({ name: '外国语学院（新）' });
    expect(updated.body).toMatchObject({
      id,
      name: '外国语学院（新）',
      code: 'FL',
      isPropaganda: false,
      active: true,
    });
    const gone = await request(t.http).delete(`/api/v1/departments/${id}`).set(admin());
    expect(gone.body.active).toBe(false);
    const events = await eventsFor(id);
    expect(events.map((e) => e.action)).toEqual([
      'department.created',
      'department.updated',
      'department.deactivated',
    ]);
    expect(events[1].details).toEqual({
      changes: { name: { from: '外国语学院', to: '外国语学院（新）' } },
    });
  });

  it('pages and filters lists', async () => {
    const d = await org.department();
    for (let i = 0; i < 5; i++) await org.user([i % 2 ? Role.DEPT_REVIEWER : Role.EDITOR], d.id);
    const page1 = await request(t.http)
      .get(`/api/v1/users?departmentId=${d.id}&pageSize=2&page=1`)
      .set(admin());
    const page3 = await request(t.http)
      .get(`/api/v1/users?departmentId=${d.id}&pageSize=2&page=3`)
      .set(admin());
    expect(page1.body).toMatchObject({ total: 5, page: 1, pageSize: 2 });
    expect(page1.body.items).toHaveLength(2);
    expect(page3.body.items).toHaveLength(1);
    const reviewers = await request(t.http)
      .get(`/api/v1/users?departmentId=${d.id}&role=dept_reviewer`)
      .set(admin());
    expect(reviewers.body.total).toBe(2);
    expect(
      reviewers.body.items.every((u: { roles: string[] }) => u.roles.includes('dept_reviewer')),
    ).toBe(true);
    const bad = await request(t.http).get('/api/v1/users?pageSize=100000').set(admin());
    expect(bad.status).toBe(400);
  });

  it('records role changes as user.roles_changed and never the password', async () => {
    const d = await org.department();
    const u = await org.user([Role.EDITOR], d.id);
    await request(t.http)
      .patch(`/api/v1/users/${u.id}`)
      .set(admin())
      .send({
        roles: ['editor', 'dept_reviewer'],
        password: 'another-secret-pw',
        displayName: '新名字',
      })
      .expect(200);
    const events = await eventsFor(u.id);
    const actions = events.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'user.created',
        'user.roles_changed',
        'user.password_changed',
        'user.updated',
      ]),
    );
    expect(events.find((e) => e.action === 'user.roles_changed')?.details).toEqual({
      from: ['editor'],
      to: ['editor', 'dept_reviewer'],
    });
    const all = JSON.stringify(events);
    expect(all).not.toContain('another-secret-pw');
    expect(all).not.toContain('argon2');
  });

  it('answers PATCH with the whole record, and treats usernames and codes case-insensitively', async () => {
    const d = await org.department({ code: 'mixedCase' });
    expect(d.code).toBe('MIXEDCASE');
    const u = await org.user([Role.EDITOR], d.id, { username: 'Li.Ming' });
    expect(u.username).toBe('li.ming');
    const patched = await request(t.http)
      .patch(`/api/v1/users/${u.id}`)
      .set(admin())
      .send({ displayName: '李明' });
    expect(patched.body).toMatchObject({
      id: u.id,
      username: 'li.ming',
      displayName: '李明',
      roles: ['editor'],
      departmentId: d.id,
      active: true,
    });
    expect(patched.body.passwordHash).toBeUndefined();
    const login = await request(t.http)
      .post('/api/v1/auth/login')
      .send({ username: 'LI.MING', password: 'correct-horse-battery' });
    expect(login.status).toBe(200);
    const dup = await request(t.http)
      .post('/api/v1/users')
      .set(admin())
      .send({
        username: 'li.MING',
        displayName: 'x',
        password: 'long-enough-pw',
        roles: ['editor'],
        departmentId: d.id,
      });
    expect(dup.status).toBe(409);
  });

  it('refuses a user in an unknown department and an admin deactivating itself', async () => {
    const res = await request(t.http)
      .post('/api/v1/users')
      .set(admin())
      .send({
        username: 'ghost',
        displayName: '幽灵',
        password: 'long-enough-pw',
        roles: ['editor'],
        departmentId: 'nope',
      });
    expect(res.status).toBe(400);
    expect(res.body.details[0].field).toBe('departmentId');
    const me = await request(t.http).get('/api/v1/auth/me').set(admin());
    const self = await request(t.http).delete(`/api/v1/users/${me.body.id}`).set(admin());
    expect(self.status).toBe(422);
  });

  it('never returns or audits channel credentials, and encrypts them at rest', async () => {
    const d = await org.department();
    const secret = 'wx-app-secret-DO-NOT-LEAK';
    const created = await request(t.http)
      .post('/api/v1/channels')
      .set(admin())
      .send({
        name: '测试公众号',
        platform: 'wechat_mp',
        departmentId: d.id,
        credentials: { appId: 'wx0001', appSecret: secret },
      });
    expect(created.status).toBe(201);
    expect(created.body.hasCredentials).toBe(true);
    const id = created.body.id;
    const responses = [
      created,
      await request(t.http).get(`/api/v1/channels/${id}`).set(admin()),
      await request(t.http).get('/api/v1/channels').set(admin()),
      await request(t.http)
        .patch(`/api/v1/channels/${id}`)
        .set(admin())
        .send({ credentials: { appId: 'wx0001', appSecret: `${secret}-2` } }),
      await request(t.http).get(`/api/v1/audit/events?entityId=${id}`).set(bearer(auditorToken)),
    ];
    for (const r of responses) {
      expect(r.status).toBeLessThan(300);
      expect(r.text).not.toContain(secret);
      expect(r.text).not.toContain('wx0001');
      expect(r.body.credentials).toBeUndefined();
    }
    const { DataSource } = await import('typeorm');
    const [row] = await t.app
      .get(DataSource)
      .query('SELECT credentials FROM channels WHERE id = ?', [id]);
    expect(row.credentials).toMatch(/^v1\./);
    expect(row.credentials).not.toContain(secret);
    const events = (responses[4].body.items as { action: string }[]).map((e) => e.action);
    expect(events).toEqual(
      expect.arrayContaining(['channel.created', 'channel.credentials_changed']),
    );
  });

  it('generates a webhook secret when none is given and shows it once', async () => {
    const d = await org.department();
    const created = await request(t.http)
      .post('/api/v1/channels')
      .set(admin())
      .send({
        name: '推送',
        platform: 'webhook',
        departmentId: d.id,
        config: { url: 'http://127.0.0.1:9/hook' },
      });
    expect(created.status).toBe(201);
    expect(created.body.generatedSecret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const again = await request(t.http).get(`/api/v1/channels/${created.body.id}`).set(admin());
    expect(again.text).not.toContain(created.body.generatedSecret.slice(6));
    expect(again.body.generatedSecret).toBeUndefined();
    // Changing other credentials keeps the signing secret the receiver already holds.
    const patched = await request(t.http)
      .patch(`/api/v1/channels/${created.body.id}`)
      .set(admin())
      .send({ credentials: { note: 'rotated token' }, name: '推送2' });
    expect(patched.body).toMatchObject({
      name: '推送2',
      platform: 'webhook',
      hasCredentials: true,
    });
    const { ChannelsService } = await import('src/modules/channels/channels.service');
    const stored = await t.app.get(ChannelsService).credentialsOf(created.body.id);
    expect(stored).toEqual({ note: 'rotated token', secret: created.body.generatedSecret });
    const noUrl = await request(t.http)
      .post('/api/v1/channels')
      .set(admin())
      .send({ name: '坏推送', platform: 'webhook', departmentId: d.id });
    expect(noUrl.status).toBe(400);
    expect(noUrl.body.details[0].field).toBe('config.url');
  });

  it('lets every signed-in user read channels and departments, but only admins change them', async () => {
    const d = await org.department();
    const editor = await org.user([Role.EDITOR], d.id);
    expect((await request(t.http).get('/api/v1/channels').set(bearer(editor.token))).status).toBe(
      200,
    );
    expect(
      (await request(t.http).get('/api/v1/departments').set(bearer(editor.token))).status,
    ).toBe(200);
    const ch = await org.channel(d.id);
    const res = await request(t.http)
      .patch(`/api/v1/channels/${ch.id}`)
      .set(bearer(editor.token))
      .send({ name: 'x' });
    expect(res.status).toBe(403);
  });
});
