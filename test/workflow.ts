import request from 'supertest';
import { Role } from 'src/common/roles';
import { bearer, Org, TestApp } from 'test/harness';

export const ATTESTED = {
  factual: true,
  sourced: true,
  noSensitiveContent: true,
  imagesLicensed: true,
};

type Person = Awaited<ReturnType<Org['user']>>;

/** A small university: a school with its editor and heads, the propaganda department, another school. */
export async function buildCampus(t: TestApp) {
  const org = new Org(t);
  const prop = await org.department({ isPropaganda: true });
  const school = await org.department();
  const otherSchool = await org.department();
  const people = {
    editor: await org.user([Role.EDITOR], school.id),
    editor2: await org.user([Role.EDITOR], school.id),
    head: await org.user([Role.DEPT_REVIEWER], school.id),
    head2: await org.user([Role.DEPT_REVIEWER], school.id),
    otherHead: await org.user([Role.DEPT_REVIEWER], otherSchool.id),
    otherEditor: await org.user([Role.EDITOR], otherSchool.id),
    prop: await org.user([Role.PROPAGANDA_REVIEWER], prop.id),
    prop2: await org.user([Role.PROPAGANDA_REVIEWER], prop.id),
    // One person holding both review roles in the propaganda department.
    propHead: await org.user([Role.PROPAGANDA_REVIEWER, Role.DEPT_REVIEWER, Role.EDITOR], prop.id),
    auditor: await org.user([Role.AUDITOR], prop.id),
  };
  const channels = {
    schoolSite: await org.channel(school.id),
    mainAccount: await org.channel(prop.id, { platform: 'wechat_mp', acceptsSubmissions: true }),
    otherSite: await org.channel(otherSchool.id),
    propOnly: await org.channel(prop.id),
  };
  return { org, prop, school, otherSchool, people, channels };
}

export type Campus = Awaited<ReturnType<typeof buildCampus>>;

export class Flow {
  constructor(private readonly t: TestApp) {}

  async create(author: Person, channelIds: string[], overrides: Record<string, unknown> = {}) {
    const res = await request(this.t.http)
      .post('/api/v1/posts')
      .set(bearer(author.token))
      .send({
        title: '校园新闻',
        summary: '摘要',
        body: '<p>正文内容</p>',
        channelIds,
        ...overrides,
      });
    if (res.status !== 201)
      throw new Error(`create post: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as PostBody;
  }

  get(who: Person, id: string) {
    return request(this.t.http).get(`/api/v1/posts/${id}`).set(bearer(who.token));
  }

  act(who: Person, id: string, action: string, body: object = {}) {
    return request(this.t.http)
      .post(`/api/v1/posts/${id}/${action}`)
      .set(bearer(who.token))
      .send(body);
  }

  submit(
    who: Person,
    post: { id: string; currentRevision: { id: string } },
    attestation: object = ATTESTED,
  ) {
    return this.act(who, post.id, 'submit', { revisionId: post.currentRevision.id, attestation });
  }

  approve(who: Person, post: { id: string; currentRevision: { id: string } }, comment?: string) {
    return this.act(who, post.id, 'approve', {
      revisionId: post.currentRevision.id,
      ...(comment ? { comment } : {}),
    });
  }

  reject(
    who: Person,
    post: { id: string; currentRevision: { id: string } },
    reason = '事实需核实',
  ) {
    return this.act(who, post.id, 'reject', { revisionId: post.currentRevision.id, reason });
  }

  /** Walks a fresh post to `approved` through all three reviews. */
  async approved(c: Campus, channelIds = [c.channels.schoolSite.id]) {
    const p = await this.create(c.people.editor, channelIds);
    expectOk(await this.submit(c.people.editor, p));
    expectOk(await this.approve(c.people.head, p));
    const res = await this.approve(c.people.prop, p);
    expectOk(res);
    return res.body as PostBody;
  }
}

export interface PostBody {
  id: string;
  state: string;
  version: number;
  currentRevision: {
    id: string;
    number: number;
    contentHash: string;
    body: string;
    title: string;
    channelIds: string[];
  };
  decisions: {
    level: number;
    outcome: string;
    reviewer: { id: string };
    contentHash: string;
    comment: string | null;
  }[];
  publications: { status: string; channelId: string; contentHash: string }[];
}

export function expectOk(res: request.Response): void {
  if (res.status >= 300)
    throw new Error(`expected success, got ${res.status} ${JSON.stringify(res.body)}`);
}
