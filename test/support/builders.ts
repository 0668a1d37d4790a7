import type { INestApplicationContext } from '@nestjs/common';
import type { App } from 'supertest/types';
import type { AuthUser } from 'src/common/auth-user';
import { AppConfig } from 'src/config/app-config';
import { Role } from 'src/common/roles';
import type { Platform } from 'src/modules/channels/channel.entity';
import { ChannelsService } from 'src/modules/channels/channels.service';
import { DepartmentsService } from 'src/modules/departments/departments.service';
import { CreatePostDto, UpdatePostDto } from 'src/modules/posts/dto/post.dto';
import { PostsService } from 'src/modules/posts/posts.service';
import { PublisherService } from 'src/modules/publishing/publisher.service';
import type { PostState } from 'src/modules/posts/post-state-machine';
import { PostViews } from 'src/modules/review/post-views.service';
import { ActInput, ReviewService } from 'src/modules/review/review.service';
import { UsersService } from 'src/modules/users/users.service';
import { login, PASSWORD, unique } from 'test/harness';

/**
 * Fixtures written through the services, not through HTTP: no request, no validation pipe,
 * no sign-in unless a test asks for a token. Every call into a service the builders make is
 * in this file, so a changed signature is adapted here once.
 *
 *   const b = builders(t);
 *   const d = await b.department();
 *   const editor = await b.user({ roles: [Role.EDITOR], departmentId: d.id });
 *   const post = await b.post({ author: editor, state: 'pending_final_review' });
 *   const token = await b.tokenFor(editor); // for the HTTP part of a test
 *
 * Departments, users and channels are made as by the system (no actor on their audit events),
 * as the admin:create CLI makes its own; moves on posts are made by the people named.
 */

/** What the API would send: dates as ISO strings (so builder output compares with HTTP bodies). */
export type Json<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Json<U>[]
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T;

const json = <T>(v: T): Json<T> => JSON.parse(JSON.stringify(v)) as Json<T>;

/** The same whole attestation the HTTP helpers send (test/workflow.ts ATTESTED). */
export const FULL_ATTESTATION = {
  factual: true,
  sourced: true,
  noSensitiveContent: true,
  imagesLicensed: true,
} as const;

/** Anyone the builders can act as: a built user, or a person from the HTTP helpers. */
export interface Actor {
  id: string;
  username: string;
  displayName?: string;
  departmentId: string;
  roles: readonly Role[] | readonly string[];
}

export type BuiltUser = AuthUser & { password: string };
export type BuiltDepartment = Json<Awaited<ReturnType<DepartmentsService['create']>>>;
export type BuiltChannel = Json<Awaited<ReturnType<ChannelsService['create']>>>;
export type BuiltPost = Json<Awaited<ReturnType<PostViews['view']>>>;

/** The states of the state machine, and `withdrawn`: submitted, then withdrawn back to draft. */
export type PostTarget = PostState | 'withdrawn';

export interface PostOptions {
  /** An editor; by default one editor shared by all default posts of this builder. */
  author?: Actor;
  state?: PostTarget;
  title?: string;
  summary?: string | null;
  body?: string;
  coverImageUrl?: string | null;
  /** By default a website channel of the author's department. */
  channelIds?: string[];
  publishAt?: string | null;
  /** Who decides at level 2 and 3; by default reviewers made on demand (one per department). */
  reviewers?: { dept?: Actor; prop?: Actor };
  /** Where a `returned` post was returned: level 2 (default) or 3. */
  returnedAt?: 2 | 3;
  /** Where a `withdrawn` post was withdrawn from (default pending_dept_review). */
  withdrawnFrom?: 'pending_dept_review' | 'pending_final_review';
  /** What an `archived` post was archived from (default draft). */
  archivedFrom?: 'draft' | 'returned';
  /** What a `retracted` post was retracted from (default approved). */
  retractedFrom?: 'approved' | 'published';
  reason?: string;
  /**
   * How `published` is reached: `wait` for the app's own publisher, `drive` one attempt at a
   * time here. By default `wait` when the app runs publication workers, else `drive`.
   */
  publish?: 'wait' | 'drive';
  /** How long `wait` (or `drive`, across retries) may take. */
  publishTimeoutMs?: number;
}

/** Leaves out what is undefined, so that defaults stay where nothing was given. */
const defined = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

type ReviewAction = Parameters<ReviewService['act']>[1];
/** A post as any builder, service or HTTP answer shows it. */
export interface PostRef {
  id: string;
  currentRevision: { id: string } | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Works on anything with the Nest app, e.g. the TestApp from test/harness.ts. */
export function builders(t: { app: INestApplicationContext; http?: App }) {
  const get = <T>(type: abstract new (...args: never[]) => T): T => t.app.get(type as never);
  const departments = get(DepartmentsService);
  const users = get(UsersService);
  const channels = get(ChannelsService);
  const posts = get(PostsService);
  const views = get(PostViews);
  const review = get(ReviewService);
  const publisher = get(PublisherService);
  const config = get(AppConfig);

  const tokens = new Map<string, Promise<string>>();
  const memo = new Map<string, Promise<unknown>>();
  /** One of a kind per builder (a default editor, one reviewer per department), made on first use. */
  const once = <T>(key: string, make: () => Promise<T>): Promise<T> => {
    let p = memo.get(key) as Promise<T> | undefined;
    if (!p) {
      p = make();
      memo.set(key, p);
      p.catch(() => memo.delete(key));
    }
    return p;
  };

  const asAuthUser = (a: Actor): AuthUser => ({
    id: a.id,
    username: a.username,
    displayName: a.displayName ?? a.username,
    departmentId: a.departmentId,
    roles: [...a.roles] as Role[],
    // Services never read it; only the auth module does, for sign-out.
    sessionId: 'builder',
  });

  async function department(
    overrides: Partial<{ name: string; code: string; isPropaganda: boolean }> = {},
  ): Promise<BuiltDepartment> {
    const code = overrides.code ?? unique('D');
    const d = await departments.create(
      { name: `部门 ${code}`, code, isPropaganda: false, ...overrides },
      null,
    );
    return json(d);
  }

  async function user(
    overrides: Partial<{
      roles: Role[];
      departmentId: string;
      username: string;
      displayName: string;
      password: string;
    }> = {},
  ): Promise<BuiltUser> {
    const username = (overrides.username ?? unique('u')).toLowerCase();
    const password = overrides.password ?? PASSWORD;
    const departmentId = overrides.departmentId ?? (await department()).id;
    const u = await users.create(
      {
        username,
        displayName: overrides.displayName ?? `用户 ${username}`,
        password,
        roles: overrides.roles ?? [Role.EDITOR],
        departmentId,
      },
      null,
    );
    return { ...asAuthUser(u), password };
  }

  async function channel(
    overrides: Partial<{
      name: string;
      platform: Platform;
      departmentId: string;
      acceptsSubmissions: boolean;
      config: Record<string, unknown>;
      credentials: Record<string, unknown>;
    }> = {},
  ): Promise<BuiltChannel> {
    const departmentId = overrides.departmentId ?? (await department()).id;
    const c = await channels.create(
      { name: unique('频道'), platform: 'website', ...overrides, departmentId },
      null,
    );
    return json(c);
  }

  const propagandaDepartment = () => once('prop-dept', () => department({ isPropaganda: true }));
  const deptReviewer = (departmentId: string) =>
    once(`dept-reviewer:${departmentId}`, () =>
      user({ roles: [Role.DEPT_REVIEWER], departmentId }),
    );
  const propReviewer = () =>
    once('prop-reviewer', async () =>
      user({ roles: [Role.PROPAGANDA_REVIEWER], departmentId: (await propagandaDepartment()).id }),
    );
  const defaultEditor = () => once('editor', () => user({ roles: [Role.EDITOR] }));
  const siteOf = (departmentId: string) =>
    once(`site:${departmentId}`, () => channel({ departmentId }));

  /** A draft by `author` (an editor), with the content given or a default one. */
  async function draft(author: Actor, content: Partial<CreatePostDto> = {}): Promise<BuiltPost> {
    const channelIds = content.channelIds ?? [(await siteOf(author.departmentId)).id];
    const created = await posts.create(
      {
        title: '校园新闻',
        summary: '摘要',
        body: '<p>正文内容</p>',
        ...defined(content),
        channelIds,
      },
      asAuthUser(author),
    );
    return json(await views.view(created, asAuthUser(author)));
  }

  /** A change of content by the author: a new revision. */
  async function edit(p: PostRef, author: Actor, patch: UpdatePostDto): Promise<BuiltPost> {
    const changed = await posts.update(p.id, patch, asAuthUser(author));
    return json(await views.view(changed, asAuthUser(author)));
  }

  /**
   * One move by `who`, bound to the revision `p` shows (the one the actor read), as the API's
   * POST /posts/:id/:action makes it. Throws the service's AppException when refused.
   */
  async function act(
    p: PostRef,
    action: ReviewAction,
    who: Actor,
    input: ActInput = {},
  ): Promise<BuiltPost> {
    const revisionId = p.currentRevision?.id;
    // Trimmed as the API's DTOs trim them before the service sees them.
    const trimmed = {
      ...input,
      ...(input.reason !== undefined ? { reason: input.reason.trim() } : {}),
      ...(input.comment !== undefined ? { comment: input.comment.trim() } : {}),
    };
    return json(await review.act(p.id, action, asAuthUser(who), { revisionId, ...trimmed }));
  }

  const submit = (
    p: PostRef,
    author: Actor,
    attestation: ActInput['attestation'] = FULL_ATTESTATION,
  ) => act(p, 'submit', author, { attestation });
  const approve = (p: PostRef, who: Actor, comment?: string) =>
    act(p, 'approve', who, comment ? { comment } : {});
  const reject = (p: PostRef, who: Actor, reason = '事实需核实') =>
    act(p, 'reject', who, { reason });

  /** One attempt of the publisher on one publication, as its executor would make it. */
  const attempt = (publicationId: string) => publisher.attempt(publicationId);

  /** A post in any state of the state machine, moved there by the moves a person would make. */
  async function post(opts: PostOptions = {}): Promise<BuiltPost> {
    const target = opts.state ?? 'draft';
    const author = opts.author ?? (await defaultEditor());
    const reason = opts.reason ?? '事实需核实';
    let view = await draft(author, {
      title: opts.title,
      summary: opts.summary,
      body: opts.body,
      coverImageUrl: opts.coverImageUrl,
      channelIds: opts.channelIds,
      publishAt: opts.publishAt,
    });
    const dept = async () => opts.reviewers?.dept ?? (await deptReviewer(author.departmentId));
    const prop = async () => opts.reviewers?.prop ?? (await propReviewer());
    const step = async (action: ReviewAction, who: Actor, input: ActInput = {}) => {
      view = await act(view, action, who, input);
    };
    const submit1 = () => step('submit', author, { attestation: FULL_ATTESTATION });
    const approve2 = async () => step('approve', await dept());
    const approve3 = async () => step('approve', await prop());
    const approved = async () => {
      await submit1();
      await approve2();
      await approve3();
    };
    const id = view.id;

    switch (target) {
      case 'draft':
        break;
      case 'pending_dept_review':
        await submit1();
        break;
      case 'pending_final_review':
        await submit1();
        await approve2();
        break;
      case 'returned':
        await submit1();
        if (opts.returnedAt === 3) await approve2();
        await step('reject', opts.returnedAt === 3 ? await prop() : await dept(), { reason });
        break;
      case 'withdrawn':
        await submit1();
        if (opts.withdrawnFrom === 'pending_final_review') await approve2();
        await step('withdraw', author);
        break;
      case 'archived':
        if (opts.archivedFrom === 'returned') {
          await submit1();
          await step('reject', await dept(), { reason });
        }
        await step('archive', author);
        break;
      case 'approved':
        await approved();
        break;
      case 'published':
        await approved();
        view = json(await published(id, asAuthUser(author), opts));
        break;
      case 'retracted':
        await approved();
        if (opts.retractedFrom === 'published') await published(id, asAuthUser(author), opts);
        await step('retract', await prop(), { reason });
        break;
      default: {
        const never: never = target;
        throw new Error(`builders.post: no way to ${String(never)}`);
      }
    }
    return view;
  }

  /** Until the post is published: the app's publisher does it, or one attempt at a time here. */
  async function published(postId: string, reader: AuthUser, opts: PostOptions) {
    const mode = opts.publish ?? (config.publishing.workersInApi ? 'wait' : 'drive');
    const until = Date.now() + (opts.publishTimeoutMs ?? 15_000);
    for (;;) {
      const now = await views.view(await posts.get(postId, reader), reader);
      if (now.state === 'published') return now;
      if (now.state !== 'approved')
        throw new Error(`builders.post: post went ${now.state} on the way to published`);
      if (Date.now() > until) {
        throw new Error(
          `builders.post: not published in time: ${JSON.stringify(now.publications)}`,
        );
      }
      if (mode === 'drive') {
        for (const p of now.publications) {
          if (p.status === 'published') continue;
          if (p.status === 'failed' || p.status === 'cancelled')
            throw new Error(`builders.post: publication ${p.id} ${p.status}: ${p.lastError}`);
          await publisher.attempt(p.id);
        }
      }
      await sleep(mode === 'drive' ? 10 : 25);
    }
  }

  /** A bearer token for HTTP, by signing in as the API's clients do (once per user). */
  function tokenFor(u: { id: string; username: string; password?: string }): Promise<string> {
    if (!t.http) throw new Error('builders.tokenFor needs the HTTP app');
    const http = t.http;
    let p = tokens.get(u.id);
    if (!p) {
      p = login(http, u.username, u.password ?? PASSWORD);
      tokens.set(u.id, p);
      p.catch(() => tokens.delete(u.id));
    }
    return p;
  }

  /** A user with its token, the shape the HTTP helpers (test/workflow.ts Flow) take. */
  async function person<U extends { id: string; username: string; password?: string }>(
    u: U,
  ): Promise<U & { token: string }> {
    return { ...u, token: await tokenFor(u) };
  }

  return {
    department,
    user,
    channel,
    post,
    draft,
    edit,
    act,
    submit,
    approve,
    reject,
    attempt,
    tokenFor,
    person,
    asAuthUser,
    deptReviewer,
    propReviewer,
    propagandaDepartment,
  };
}

export type Builders = ReturnType<typeof builders>;
