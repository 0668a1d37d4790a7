import request from 'supertest';
import { Role } from 'src/common/roles';
import { bearer, login, Org, PASSWORD, startApp, TestApp } from 'test/harness';

describe('sign-in', () => {
  let t: TestApp;
  let org: Org;
  let deptId: string;

  beforeAll(async () => {
    t = await startApp({ LOGIN_MAX_FAILURES_PER_USER: '3', LOGIN_MAX_FAILURES_PER_IP: '40' });
    org = new Org(t);
    deptId = (await org.department()).id;
  });
  afterAll(() => t.close());

  const signIn = (username: string, password = PASSWORD) =>
    request(t.http).post('/api/v1/auth/login').send({ username, password });

  it('signs in with username and password, and /auth/me tells who the caller is', async () => {
    const u = await org.user([Role.EDITOR], deptId);
    const res = await signIn(u.username);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      tokenType: 'Bearer',
      user: { id: u.id, roles: ['editor'], departmentId: deptId },
    });
    expect(res.body.user.passwordHash).toBeUndefined();
    const me = await request(t.http).get('/api/v1/auth/me').set(bearer(res.body.accessToken));
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: u.id, username: u.username, roles: ['editor'] });
  });

  it('refuses a wrong password and an unknown user alike, and audits both', async () => {
    const u = await org.user([Role.EDITOR], deptId);
    const wrong = await signIn(u.username, 'not-the-password');
    const unknown = await signIn('nobody-here', 'whatever-pass');
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('INVALID_CREDENTIALS');
    }
    const missing = await request(t.http).post('/api/v1/auth/login').send({ username: u.username });
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe('VALIDATION_FAILED');
    const auditor = await org.user([Role.AUDITOR], deptId);
    const events = await request(t.http)
      .get('/api/v1/audit/events?action=auth.login_failed')
      .set(bearer(auditor.token));
    const reasons = events.body.items.map(
      (e: { details: { username: string; reason: string } }) => e.details,
    );
    expect(reasons).toEqual(
      expect.arrayContaining([
        { username: u.username, reason: 'wrong_password' },
        { username: 'nobody-here', reason: 'unknown_user' },
      ]),
    );
    expect(JSON.stringify(events.body)).not.toContain('not-the-password');
  });

  it('throttles repeated failures for a username with 429 and Retry-After', async () => {
    const u = await org.user([Role.EDITOR], deptId);
    for (let i = 0; i < 3; i++)
      expect((await signIn(u.username, 'bad-password-x')).status).toBe(401);
    const res = await signIn(u.username);
    expect(res.status).toBe(429);
    expect(res.body.code).toBe('THROTTLED');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    const auditor = await org.user([Role.AUDITOR], deptId);
    const events = await request(t.http)
      .get('/api/v1/audit/events?action=auth.login_failed&limit=500')
      .set(bearer(auditor.token));
    const throttled = events.body.items.filter(
      (e: { details: { username: string; reason: string } }) =>
        e.details.username === u.username && e.details.reason === 'throttled',
    );
    expect(throttled).toHaveLength(1);
    // Other users are not affected by one username's failures.
    const other = await org.user([Role.EDITOR], deptId);
    expect((await signIn(other.username)).status).toBe(200);
  });

  it('rotates refresh tokens; reusing a rotated one revokes the whole session', async () => {
    const u = await org.user([Role.EDITOR], deptId);
    const first = (await signIn(u.username)).body;
    const second = await request(t.http)
      .post('/api/v1/auth/refresh')
      .send({ refreshToken: first.refreshToken });
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    const meWithNew = await request(t.http)
      .get('/api/v1/auth/me')
      .set(bearer(second.body.accessToken));
    expect(meWithNew.status).toBe(200);

    const replay = await request(t.http)
      .post('/api/v1/auth/refresh')
      .send({ refreshToken: first.refreshToken });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('INVALID_REFRESH_TOKEN');
    // The legitimate holder's newer token and its access tokens die with the family.
    const afterReuse = await request(t.http)
      .post('/api/v1/auth/refresh')
      .send({ refreshToken: second.body.refreshToken });
    expect(afterReuse.status).toBe(401);
    expect(
      (await request(t.http).get('/api/v1/auth/me').set(bearer(second.body.accessToken))).status,
    ).toBe(401);
    expect(
      (await request(t.http).post('/api/v1/auth/refresh').send({ refreshToken: 'made-up' })).status,
    ).toBe(401);
  });

  it('logout ends the session: its access and refresh tokens stop working', async () => {
    const u = await org.user([Role.EDITOR], deptId);
    const s = (await signIn(u.username)).body;
    const other = (await signIn(u.username)).body;
    expect(
      (await request(t.http).post('/api/v1/auth/logout').set(bearer(s.accessToken)).send({}))
        .status,
    ).toBe(204);
    expect((await request(t.http).get('/api/v1/auth/me').set(bearer(s.accessToken))).status).toBe(
      401,
    );
    expect(
      (await request(t.http).post('/api/v1/auth/refresh').send({ refreshToken: s.refreshToken }))
        .status,
    ).toBe(401);
    // A second sign-in elsewhere is its own session and lives on.
    expect(
      (await request(t.http).get('/api/v1/auth/me').set(bearer(other.accessToken))).status,
    ).toBe(200);
  });

  it('deactivating a user ends all its sessions and stops new sign-ins', async () => {
    const u = await org.user([Role.EDITOR], deptId);
    const s = (await signIn(u.username)).body;
    const res = await request(t.http).delete(`/api/v1/users/${u.id}`).set(bearer(t.adminToken));
    expect(res.status).toBe(200);
    expect(res.body.active).toBe(false);
    expect((await request(t.http).get('/api/v1/auth/me').set(bearer(s.accessToken))).status).toBe(
      401,
    );
    expect(
      (await request(t.http).post('/api/v1/auth/refresh').send({ refreshToken: s.refreshToken }))
        .status,
    ).toBe(401);
    expect((await signIn(u.username)).status).toBe(401);
  });

  it('a role change takes effect on the next request', async () => {
    const u = await org.user([Role.EDITOR], deptId);
    expect((await request(t.http).get('/api/v1/users').set(bearer(u.token))).status).toBe(403);
    await request(t.http)
      .patch(`/api/v1/users/${u.id}`)
      .set(bearer(t.adminToken))
      .send({ roles: ['editor', 'admin'] })
      .expect(200);
    expect((await request(t.http).get('/api/v1/users').set(bearer(u.token))).status).toBe(200);
  });

  it('a password change by the admin ends existing sessions; the new password works', async () => {
    const u = await org.user([Role.EDITOR], deptId);
    await request(t.http)
      .patch(`/api/v1/users/${u.id}`)
      .set(bearer(t.adminToken))
      .send({ password: 'a-brand-new-password' })
      .expect(200);
    expect((await request(t.http).get('/api/v1/auth/me').set(bearer(u.token))).status).toBe(401);
    expect(await login(t.http, u.username, 'a-brand-new-password')).toEqual(expect.any(String));
  });
});
