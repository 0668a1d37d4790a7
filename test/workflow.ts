import request from 'supertest';
import { Role } from 'src/common/roles';
import { bearer, Org, TestApp } from 'test/harness';
import { builders, PostOptions, PostTarget } from 'test/support/builders';

export const ATTESTED = {
  factual: true,
  sourced: true,
  noSensitiveContent: true,
  imagesLicensed: true,
};

type Person = Awaited<ReturnType<Org['user']>>;

/**
 * A small university: a school with its editor and heads, the propaganda department, another
 * school. Written through the services (test/support/builders.ts), all at once; each person
 * signed in over HTTP for the tests that act through the API.
 */
export async function buildCampus(t: TestApp) {
  const org = new Org(t);
  const b = builders(t);
  const [prop, school, otherSchool] = await Promise.all([
    b.department({ isPropaganda: true }),
    b.department(),
    b.department(),
  ]);
  const person = (roles: Role[], departmentId: string) =>
    b.user({ roles, departmentId }).then(b.person);
  const [editor, editor2, head, head2, otherHead, otherEditor, propR, prop2, propHead, auditor] =
    await Promise.all([
      person([Role.EDITOR], school.id),
      person([Role.EDITOR], school.id),
      person([Role.DEPT_REVIEWER], school.id),
      person([Role.DEPT_REVIEWER], school.id),
      person([Role.DEPT_REVIEWER], otherSchool.id),
      person([Role.EDITOR], otherSchool.id),
      person([Role.PROPAGANDA_REVIEWER], prop.id),
      person([Role.PROPAGANDA_REVIEWER], prop.id),
      // One person holding both review roles in the propaganda department.
      person([Role.PROPAGANDA_REVIEWER, Role.DEPT_REVIEWER, Role.EDITOR], prop.id),
      person([Role.AUDITOR], prop.id),
    ]);
  const people = {
    editor,
    editor2,
    head,
    head2,
    otherHead,
    otherEditor,
    prop: propR,
    prop2,
    propHead,
    auditor,
  };
  const [schoolSite, mainAccount, otherSite, propOnly] = await Promise.all([
    b.channel({ departmentId: school.id }),
    b.channel({ departmentId: prop.id, platform: 'wechat_mp', acceptsSubmissions: true }),
    b.channel({ departmentId: otherSchool.id }),
    b.channel({ departmentId: prop.id }),
  ]);
  const channels = { schoolSite, mainAccount, otherSite, propOnly };
  return { org, b, prop, school, otherSchool, people, channels };
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

  /**
   * A post of the school's editor on the school's site, moved to `state` through the services
   * (test/support/builders.ts), decided by the school's head and the propaganda department.
   */
  async at(c: Campus, state: PostTarget, opts: PostOptions = {}): Promise<PostBody> {
    return (await c.b.post({
      author: c.people.editor,
      channelIds: [c.channels.schoolSite.id],
      ...opts,
      reviewers: { dept: c.people.head, prop: c.people.prop, ...opts.reviewers },
      state,
    })) as unknown as PostBody;
  }

  /** A fresh post walked to `approved` through all three reviews (through the services). */
  async approved(c: Campus, channelIds = [c.channels.schoolSite.id]) {
    return this.at(c, 'approved', { channelIds });
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
