import request from 'supertest';
import { Role } from 'src/common/roles';
import { bearer, Org, startApp, TestApp } from 'test/harness';

describe('errors and limits', () => {
  let t: TestApp;
  let org: Org;

  beforeAll(async () => {
    t = await startApp();
    org = new Org(t);
  });
  afterAll(() => t.close());

  it('rejects unknown fields with 400 VALIDATION_FAILED, per-field details and a request id', async () => {
    const res = await request(t.http)
      .post('/api/v1/departments')
      .set(bearer(t.adminToken))
      .send({ name: '新部门', code: 'NEW1', colour: 'red' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.details).toEqual([expect.objectContaining({ field: 'colour' })]);
    expect(res.body.requestId).toEqual(res.headers['x-request-id']);
    const list = await request(t.http).get('/api/v1/departments?q=NEW1').set(bearer(t.adminToken));
    expect(list.body.total).toBe(0);
  });

  it('names each invalid field', async () => {
    const res = await request(t.http)
      .post('/api/v1/users')
      .set(bearer(t.adminToken))
      .send({
        username: 'x',
        displayName: '',
        password: 'short',
        roles: ['king'],
        departmentId: 'nope',
      });
    expect(res.status).toBe(400);
    const fields = (res.body.details as { field: string }[]).map((d) => d.field).sort();
    expect(fields).toEqual(['displayName', 'password', 'roles', 'username']);
  });

  it('answers malformed JSON with 400 MALFORMED_JSON', async () => {
    const res = await request(t.http)
      .post('/api/v1/departments')
      .set(bearer(t.adminToken))
      .set('Content-Type', 'application/json')
      .send('{"name": "a",');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('MALFORMED_JSON');
    expect(res.body.requestId).toBeDefined();
  });

  it('answers bodies over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await request(t.http)
      .post('/api/v1/departments')
      .set(bearer(t.adminToken))
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ name: 'x'.repeat(6 * 1024 * 1024), code: 'BIG' }));
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers a duplicate department code or username with 409 DUPLICATE', async () => {
    const d = await org.department();
    const dup = await request(t.http)
      .post('/api/v1/departments')
      .set(bearer(t.adminToken))
      .send({ name: '又一个', code: d.code });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('DUPLICATE');
    const u = await org.user([Role.EDITOR], d.id);
    const dupUser = await request(t.http)
      .post('/api/v1/users')
      .set(bearer(t.adminToken))
      .send({
        username: u.username,
        displayName: 'x',
        password: 'long-enough-pw',
        roles: ['editor'],
        departmentId: d.id,
      });
    expect(dupUser.status).toBe(409);
    expect(dupUser.body.code).toBe('DUPLICATE');
  });

  it('answers an unknown id with 404 NOT_FOUND, and an unknown route too', async () => {
    for (const path of ['departments', 'users', 'channels']) {
      const res = await request(t.http)
        .get(`/api/v1/${path}/00000000-0000-0000-0000-000000000000`)
        .set(bearer(t.adminToken));
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('NOT_FOUND');
    }
    const patch = await request(t.http)
      .patch('/api/v1/users/nope')
      .set(bearer(t.adminToken))
      .send({ displayName: 'x' });
    expect(patch.status).toBe(404);
    const route = await request(t.http).get('/api/v1/no-such-thing').set(bearer(t.adminToken));
    expect(route.status).toBe(404);
    expect(route.body.code).toBe('NOT_FOUND');
  });

  it('answers 401 without a token, with a forged token, and with an expired-looking garbage token', async () => {
    const none = await request(t.http).get('/api/v1/users');
    expect(none.status).toBe(401);
    expect(none.body.code).toBe('UNAUTHENTICATED');
    const [h, , s] = t.adminToken.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ sub: 'x', sid: 'y', exp: 9999999999 }),
    ).toString('base64url');
    const forged = await request(t.http)
      .get('/api/v1/users')
      .set(bearer(`${h}.${forgedPayload}.${s}`));
    expect(forged.status).toBe(401);
    const garbage = await request(t.http).get('/api/v1/users').set(bearer('not.a.jwt'));
    expect(garbage.status).toBe(401);
  });

  it('answers 403 FORBIDDEN when an editor calls an admin endpoint, and changes nothing', async () => {
    const d = await org.department();
    const editor = await org.user([Role.EDITOR], d.id);
    const res = await request(t.http)
      .post('/api/v1/departments')
      .set(bearer(editor.token))
      .send({ name: '越权', code: 'HACK' });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('FORBIDDEN');
    const users = await request(t.http).get('/api/v1/users').set(bearer(editor.token));
    expect(users.status).toBe(403);
    const list = await request(t.http).get('/api/v1/departments?q=HACK').set(bearer(t.adminToken));
    expect(list.body.total).toBe(0);
  });

  it('sends security headers', async () => {
    const res = await request(t.http).get('/health');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});
