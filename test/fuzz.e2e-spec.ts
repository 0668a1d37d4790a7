import fc from 'fast-check';
import request from 'supertest';
import { DataSource, MoreThan } from 'typeorm';
import { Role } from 'src/common/roles';
import { AuditEvent } from 'src/modules/audit/audit-event.entity';
import { Post } from 'src/modules/posts/post.entity';
import { bearer, Org, startApp, TestApp } from 'test/harness';
import { ATTESTED, buildCampus, Campus, expectOk, Flow } from 'test/workflow';

/**
 * Every route of the OpenAPI document, with generated bodies, query strings and
 * path ids, as each role: no answer is a 5xx, and a refused request (4xx)
 * changes nothing (posts' state and version, and the audit head, are the same
 * before and after). Runs for FUZZ_SECONDS (default 60).
 */

interface Schema {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  maxLength?: number;
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  schema?: Schema;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

interface Route {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  path: string;
  pathParams: string[];
  query: Parameter[];
  body?: Schema;
}

/** Refusals that are themselves on record, by design (a failed sign-in is audited). */
const AUDITED_REFUSALS = new Set(['auth.login_failed', 'auth.refresh_reuse_detected']);

/** Routes that would end the fuzzing sessions themselves. */
const SKIP = new Set(['post /api/v1/auth/logout']);

/**
 * Query names the list DTOs read: most are not in the OpenAPI document (no
 * @ApiProperty on query classes), so every GET draws from these as well.
 */
const QUERY_NAMES = [
  'page',
  'pageSize',
  'cursor',
  'limit',
  'order',
  'q',
  'state',
  'status',
  'from',
  'to',
  'createdFrom',
  'createdTo',
  'departmentId',
  'channelId',
  'authorId',
  'postId',
  'actorId',
  'action',
  'entityType',
  'entityId',
  'platform',
  'active',
  'acceptsSubmissions',
  'role',
  'format',
  'category',
  'level',
];

const FUZZ_MS = Number(process.env.FUZZ_SECONDS ?? 60) * 1000;

const ODD_STRINGS = [
  '',
  ' ',
  '0',
  '-1',
  '1e300',
  'NaN',
  'null',
  'true',
  '2026-W10',
  '2027-100',
  '20271201',
  '2026-02-30',
  '2030-01-01',
  '2030-01-01T08:00:00+08:00',
  '../../etc/passwd',
  '%00',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '<p><img src="http://127.0.0.1:1/x.png"></p>',
  '=cmd|/c calc!A1',
  'x'.repeat(300),
  '\u0000',
  '🙂',
  '__proto__',
  'constructor',
];

describe('fuzzing every route', () => {
  let t: TestApp;
  let c: Campus;
  let db: DataSource;
  let routes: Route[];
  let schemas: Record<string, Schema>;
  let ids: string[];
  let tokens: { role: string; token: string | null }[];

  beforeAll(async () => {
    t = await startApp({
      LOGIN_MAX_FAILURES_PER_IP: '1000000',
      PUBLISH_POLL_MS: '60000',
      ...(process.env.FUZZ_LOG ? { LOG_LEVEL: process.env.FUZZ_LOG, LOG_FORMAT: 'json' } : {}),
    });
    c = await buildCampus(t);
    db = t.app.get(DataSource);
    const flow = new Flow(t);
    // Posts in several states, so generated ids and revision ids hit real records.
    const draft = await flow.create(c.people.editor, [c.channels.schoolSite.id]);
    const submitted = await flow.create(c.people.editor, [c.channels.schoolSite.id]);
    expectOk(await flow.submit(c.people.editor, submitted));
    const approved = await flow.approved(c);
    const other = await flow.create(c.people.otherEditor, [c.channels.otherSite.id]);
    // Users the fuzzer may change at will; the role holders above keep their sessions.
    const victims = [
      await new Org(t).user([Role.EDITOR], c.school.id),
      await new Org(t).user([Role.DEPT_REVIEWER], c.otherSchool.id),
    ];
    ids = [
      ...[draft, submitted, approved, other].flatMap((p) => [p.id, p.currentRevision.id]),
      ...Object.values(c.channels).map((ch) => ch.id),
      c.school.id,
      c.otherSchool.id,
      c.prop.id,
      ...victims.map((v) => v.id),
    ];
    tokens = [
      { role: 'anonymous', token: null },
      { role: 'admin', token: t.adminToken },
      { role: 'editor', token: c.people.editor.token },
      { role: 'dept_reviewer', token: c.people.head.token },
      { role: 'propaganda_reviewer', token: c.people.prop.token },
      { role: 'all reviews', token: c.people.propHead.token },
      { role: 'auditor', token: c.people.auditor.token },
    ];
    const doc = (await request(t.http).get('/api/docs-json')).body as {
      paths: Record<string, Record<string, Operation>>;
      components?: { schemas?: Record<string, Schema> };
    };
    schemas = doc.components?.schemas ?? {};
    routes = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (!['get', 'post', 'patch', 'put', 'delete'].includes(method)) continue;
        if (SKIP.has(`${method} ${path}`)) continue;
        if (process.env.FUZZ_ROUTE && !`${method} ${path}`.includes(process.env.FUZZ_ROUTE))
          continue;
        const params = op.parameters ?? [];
        routes.push({
          method: method as Route['method'],
          path,
          pathParams: [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]),
          query: params.filter((p) => p.in === 'query'),
          body: op.requestBody?.content?.['application/json']?.schema,
        });
      }
    }
  }, 120_000);
  afterAll(() => t?.close());

  const resolve = (s: Schema): Schema =>
    s.$ref ? resolve(schemas[s.$ref.replace('#/components/schemas/', '')] ?? {}) : s;

  const anyJson = () => fc.jsonValue({ maxDepth: 3 });
  const odd = () => fc.constantFrom(...ODD_STRINGS);
  const knownId = () => fc.constantFrom(...ids);

  function stringValue(s: Schema): fc.Arbitrary<unknown> {
    const parts: fc.Arbitrary<unknown>[] = [fc.string({ maxLength: 40 }), odd(), knownId()];
    if (s.enum?.length) parts.push(fc.constantFrom(...s.enum), fc.constantFrom(...s.enum));
    if (s.maxLength) parts.push(fc.constant('字'.repeat(s.maxLength + 1)));
    return fc.oneof(...parts);
  }

  function fromSchema(raw: Schema, depth = 0): fc.Arbitrary<unknown> {
    const s = resolve(raw);
    const alt = s.allOf ?? s.oneOf ?? s.anyOf;
    if (alt?.length) return fc.oneof(...alt.map((x) => fromSchema(x, depth + 1)));
    if (depth > 4) return anyJson();
    const wrong = fc.oneof(anyJson(), odd());
    switch (s.type) {
      case 'string':
        return fc.oneof({ weight: 4, arbitrary: stringValue(s) }, { weight: 1, arbitrary: wrong });
      case 'integer':
      case 'number':
        return fc.oneof(
          fc.integer(),
          fc.double(),
          fc.constantFrom(0, -1, 1, 1e300, 2 ** 53 + 1),
          wrong,
        );
      case 'boolean':
        return fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 1, arbitrary: wrong });
      case 'array':
        return fc.oneof(
          {
            weight: 4,
            arbitrary: fc.array(fromSchema(s.items ?? {}, depth + 1), { maxLength: 4 }),
          },
          { weight: 1, arbitrary: fc.array(knownId(), { maxLength: 4 }) },
          { weight: 1, arbitrary: wrong },
        );
      default: {
        if (!s.properties) return fc.oneof(anyJson(), fc.constant(ATTESTED));
        const shape: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [k, v] of Object.entries(s.properties)) shape[k] = fromSchema(v, depth + 1);
        const record = fc.record(shape, { requiredKeys: [] });
        return fc.oneof(
          { weight: 6, arbitrary: record },
          {
            weight: 1,
            arbitrary: fc
              .tuple(record, fc.string({ maxLength: 12 }), anyJson())
              .map(([r, k, v]) => ({ ...(r as object), [k]: v })),
          },
          { weight: 1, arbitrary: wrong },
        );
      }
    }
  }

  function requestFor(route: Route) {
    const pathValues = fc.tuple(
      ...route.pathParams.map(() =>
        fc.oneof(
          { weight: 4, arbitrary: knownId() },
          { weight: 1, arbitrary: fc.uuid() },
          { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 40 }) },
          { weight: 1, arbitrary: odd().filter((x) => x.length > 0) },
        ),
      ),
    );
    const documented = fc.record(
      Object.fromEntries(
        route.query.map((p) => [p.name, fromSchema(p.schema ?? { type: 'string' })]),
      ),
      { requiredKeys: [] },
    );
    const guessed = fc.dictionary(
      fc.constantFrom(...QUERY_NAMES),
      fc.oneof(odd(), knownId(), fc.string({ maxLength: 12 }), fc.integer().map(String)),
      { maxKeys: 3 },
    );
    const query = fc
      .tuple(documented, route.method === 'get' ? guessed : fc.constant({}))
      .map(([d, g]) => ({ ...g, ...(d as object) }));
    const body = route.body
      ? fc.oneof(
          { weight: 5, arbitrary: fromSchema(route.body) },
          { weight: 1, arbitrary: anyJson() },
        )
      : fc.option(anyJson(), { nil: undefined, freq: 4 });
    return fc.record({
      who: fc.integer({ min: 0, max: tokens.length - 1 }),
      pathValues,
      query,
      body,
    });
  }

  async function snapshot() {
    const posts = await db.getRepository(Post).find({
      select: { id: true, state: true, version: true },
      order: { id: 'ASC' },
    });
    const head = await db.getRepository(AuditEvent).find({ order: { id: 'DESC' }, take: 1 });
    return { posts: JSON.stringify(posts), head: head[0]?.id ?? 0 };
  }

  it(
    'gives no 5xx, and a refused request changes nothing',
    async () => {
      expect(routes.length).toBeGreaterThan(process.env.FUZZ_ROUTE ? 0 : 30);
      let tried = 0;
      const statuses = new Map<number, number>();
      const arbitrary = fc
        .integer({ min: 0, max: routes.length - 1 })
        .chain((i) => requestFor(routes[i]).map((r) => ({ route: routes[i], ...r })));
      await fc.assert(
        fc.asyncProperty(arbitrary, async ({ route, who, pathValues, query, body }) => {
          let path = route.path;
          route.pathParams.forEach((name, i) => {
            path = path.replace(`{${name}}`, encodeURIComponent(String(pathValues[i])));
          });
          const qs = Object.entries(query as Record<string, unknown>)
            .map(
              ([k, v]) =>
                `${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'string' ? v : JSON.stringify(v))}`,
            )
            .join('&');
          const url = qs ? `${path}?${qs}` : path;
          const before = await snapshot();
          let req = request(t.http)[route.method](url);
          const token = tokens[who].token;
          if (token) req = req.set(bearer(token));
          if (body !== undefined && route.method !== 'get') {
            req = req.set('Content-Type', 'application/json').send(JSON.stringify(body));
          }
          const res = await req;
          tried++;
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const sent = body === undefined ? '' : ` body ${JSON.stringify(body).slice(0, 500)}`;
          const what = `${route.method.toUpperCase()} ${url}${sent} as ${tokens[who].role}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
          if (res.status >= 500) throw new Error(`5xx: ${what}`);
          if (res.status >= 400) {
            const after = await snapshot();
            if (after.posts !== before.posts)
              throw new Error(`refused but a post changed: ${what}`);
            if (after.head !== before.head) {
              const added = await db
                .getRepository(AuditEvent)
                .find({ where: { id: MoreThan(before.head) }, select: { id: true, action: true } });
              const unexpected = added.filter((e) => !AUDITED_REFUSALS.has(e.action));
              if (unexpected.length) {
                throw new Error(
                  `refused but audited ${unexpected.map((e) => e.action).join(', ')}: ${what}`,
                );
              }
            }
          }
        }),
        {
          numRuns: 1_000_000,
          interruptAfterTimeLimit: FUZZ_MS,
          markInterruptAsFailure: false,
          endOnFailure: true,
          seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined,
        },
      );
      const byStatus = [...statuses.entries()]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}: ${n}`)
        .join(', ');
      console.log(`fuzz: ${tried} requests over ${routes.length} routes (${byStatus})`);
      expect(tried).toBeGreaterThan(200);
    },
    FUZZ_MS + 120_000,
  );
});
