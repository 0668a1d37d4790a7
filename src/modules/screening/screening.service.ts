import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource, EntityManager, In } from 'typeorm';
import { AppException } from 'src/common/app.exception';
import type { AuthUser } from 'src/common/auth-user';
import { diffFields } from 'src/common/diff-fields';
import { ErrorCode } from 'src/common/error-code';
import { likeContains } from 'src/common/like';
import { Page, pageWindow } from 'src/common/paging';
import { Transactions } from 'src/database/transactions';
import { AuditService } from 'src/modules/audit/audit.service';
import { bodyText } from 'src/modules/posts/sanitize';
import {
  CheckDto,
  CreateTermDto,
  ListTermsQuery,
  UpdateTermDto,
} from 'src/modules/screening/dto/screening.dto';
import { FieldHit, TermEntry, TermLevel, TermMatcher } from 'src/modules/screening/matcher';
import { normalizeTerm } from 'src/modules/screening/normalize';
import {
  PostScreening,
  ScreeningView,
  toScreeningView,
} from 'src/modules/screening/post-screening.entity';
import { ScreeningTerm } from 'src/modules/screening/screening-term.entity';
import {
  LineError,
  parseTermList,
  sameSettings,
  termProblem,
} from 'src/modules/screening/term-list';

/** How often each process asks whether another one changed the dictionary. */
export const STALE_CHECK_MS = 2000;
/** Hits kept with a submission and returned by a check; the count is always complete. */
export const MAX_HITS = 1000;
/** Hits written into the `post.submitted` audit event. */
const MAX_AUDITED_HITS = 100;
const MAX_REPORTED_ERRORS = 1000;
/** Rows per INSERT or UPDATE … IN (…) of an import. */
const BATCH = 500;

export interface Hit {
  term: string;
  category: string;
  level: TermLevel;
  field: FieldHit['field'];
  start: number;
  end: number;
}

export interface ScreenedContent {
  title?: string | null;
  summary?: string | null;
  /** HTML: screened as its text form (`bodyText`), which the body offsets refer to. */
  body?: string | null;
}

export interface ImportReport {
  imported: number;
  updated: number;
  skipped: number;
  errors: LineError[];
  /** All errors; `errors` lists at most the first 1 000. */
  errorCount: number;
}

export interface TermView {
  id: string;
  term: string;
  normalizedTerm: string;
  category: string;
  level: TermLevel;
  allow: boolean;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

const toHit = (h: FieldHit): Hit => ({
  term: h.term,
  category: h.category,
  level: h.level,
  field: h.field,
  start: h.start,
  end: h.end,
});

/**
 * The sensitive-term dictionary and the matcher built from it.
 *
 * Each process keeps one immutable `TermMatcher` and swaps in a new one when the dictionary
 * changes: after a change made here (the changing request waits for it, so its answer means
 * "in force"), and when the `screening_state.version` it polls every STALE_CHECK_MS shows a
 * change made by another process. Screening always uses the matcher in place and never waits.
 */
@Injectable()
export class ScreeningService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ScreeningService.name);
  private matcher: TermMatcher = TermMatcher.empty();
  private loadedVersion = -1;
  private loading: Promise<void> | null = null;
  private nextLoad: Promise<void> | null = null;
  private checking = false;
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tx: Transactions,
    private readonly audit: AuditService,
  ) {}

  /** Start-up waits for the first build: no request is screened against an empty dictionary. */
  async onModuleInit(): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => void this.checkStale(), STALE_CHECK_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  // ------------------------------------------------------------------ screening

  /** Every hit in the content, by field then offset; body offsets refer to `bodyText(body)`. */
  screen(content: ScreenedContent): Hit[] {
    return this.matcher
      .matchFields({
        title: content.title,
        summary: content.summary,
        body: content.body ? bodyText(content.body) : null,
      })
      .map(toHit);
  }

  check(dto: CheckDto): { hits: Hit[]; total: number } {
    const hits = this.screen(dto);
    return { hits: hits.slice(0, MAX_HITS), total: hits.length };
  }

  /**
   * The submit gate: a `block` hit refuses the submission (422 SENSITIVE_CONTENT, with
   * every hit so the author can fix them all); otherwise the `warn` hits are returned.
   */
  screenSubmission(content: ScreenedContent): Hit[] {
    const hits = this.screen(content);
    const blocking = hits.filter((h) => h.level === 'block');
    if (blocking.length) {
      const terms = [...new Set(blocking.map((h) => h.term))];
      throw new AppException(
        ErrorCode.SENSITIVE_CONTENT,
        `The post contains blocked terms (${terms.slice(0, 10).join('、')}); remove them before submitting`,
        { hits: hits.slice(0, MAX_HITS), hitCount: hits.length },
      );
    }
    return hits;
  }

  /** Stores a submission's screening in its transaction; returns what the audit event carries. */
  async recordSubmission(
    m: EntityManager,
    s: {
      postId: string;
      round: number;
      revisionId: string;
      decisionId: string;
      hits: Hit[];
      at: Date;
    },
  ): Promise<{ view: ScreeningView; audit: { hitCount: number; hits: Hit[] } }> {
    const row = Object.assign(new PostScreening(), {
      id: randomUUID(),
      postId: s.postId,
      round: s.round,
      revisionId: s.revisionId,
      decisionId: s.decisionId,
      hitCount: s.hits.length,
      hits: s.hits.slice(0, MAX_HITS),
      createdAt: s.at,
    });
    await m.insert(PostScreening, row);
    return {
      view: toScreeningView(row),
      audit: { hitCount: s.hits.length, hits: s.hits.slice(0, MAX_AUDITED_HITS) },
    };
  }

  // ------------------------------------------------------------------ the dictionary

  async list(q: ListTermsQuery): Promise<Page<TermView>> {
    const { skip, take, page, pageSize } = pageWindow(q);
    const qb = this.dataSource
      .getRepository(ScreeningTerm)
      .createQueryBuilder('t')
      .orderBy('t.normalizedTerm', 'ASC')
      .addOrderBy('t.id', 'ASC')
      .skip(skip)
      .take(take);
    if (q.q) {
      const normal = normalizeTerm(q.q);
      qb.andWhere(
        normal
          ? "(t.term LIKE :q ESCAPE '!' OR t.normalizedTerm LIKE :nq ESCAPE '!')"
          : "t.term LIKE :q ESCAPE '!'",
        { q: likeContains(q.q), nq: likeContains(normal) },
      );
    }
    if (q.category) qb.andWhere('t.category = :category', { category: q.category });
    if (q.level) qb.andWhere('t.level = :level', { level: q.level });
    if (q.allow !== undefined) qb.andWhere('t.allow = :allow', { allow: q.allow });
    const [items, total] = await qb.getManyAndCount();
    return { items: items.map(toTermView), total, page, pageSize };
  }

  async get(id: string): Promise<TermView> {
    const t = await this.dataSource.getRepository(ScreeningTerm).findOneBy({ id });
    if (!t) throw AppException.notFound('Screening term', id);
    return toTermView(t);
  }

  async create(dto: CreateTermDto, actor: AuthUser): Promise<TermView> {
    const normalizedTerm = this.normalized(dto.term);
    const saved = await this.tx.run(async (m) => {
      await this.bumpVersion(m);
      await this.assertFree(m, normalizedTerm);
      const now = new Date();
      const t = Object.assign(new ScreeningTerm(), {
        id: randomUUID(),
        term: dto.term,
        normalizedTerm,
        category: dto.category,
        level: dto.level,
        allow: dto.allow ?? false,
        createdBy: actor.id,
        createdAt: now,
        updatedAt: now,
      });
      await m.insert(ScreeningTerm, t);
      await this.audit.record(m, {
        action: 'screening.term_created',
        entityType: 'screening_term',
        entityId: t.id,
        actor,
        details: termDetails(t),
      });
      return t;
    });
    await this.refreshAfterChange();
    return toTermView(saved);
  }

  async update(id: string, dto: UpdateTermDto, actor: AuthUser): Promise<TermView> {
    const normalizedTerm = dto.term === undefined ? undefined : this.normalized(dto.term);
    let changed = false;
    const saved = await this.tx.run(async (m) => {
      const repo = m.getRepository(ScreeningTerm);
      await this.bumpVersion(m);
      const t = await repo.findOneBy({ id });
      if (!t) throw AppException.notFound('Screening term', id);
      const patch: Partial<ScreeningTerm> = {
        ...dto,
        ...(normalizedTerm ? { normalizedTerm } : {}),
      };
      const changes = diffFields(t, patch, [
        'term',
        'normalizedTerm',
        'category',
        'level',
        'allow',
      ]);
      if (Object.keys(changes).length === 0) return t;
      if (changes.normalizedTerm) await this.assertFree(m, normalizedTerm!);
      Object.assign(t, patch, { updatedAt: new Date() });
      await repo.update({ id }, { ...patch, updatedAt: t.updatedAt });
      await this.audit.record(m, {
        action: 'screening.term_updated',
        entityType: 'screening_term',
        entityId: id,
        actor,
        details: { term: t.term, changes },
      });
      changed = true;
      return t;
    });
    if (changed) await this.refreshAfterChange();
    return toTermView(saved);
  }

  /** Terms are deleted outright; the `screening.term_deleted` event keeps what the entry was. */
  async remove(id: string, actor: AuthUser): Promise<TermView> {
    const removed = await this.tx.run(async (m) => {
      const repo = m.getRepository(ScreeningTerm);
      await this.bumpVersion(m);
      const t = await repo.findOneBy({ id });
      if (!t) throw AppException.notFound('Screening term', id);
      await repo.delete({ id });
      await this.audit.record(m, {
        action: 'screening.term_deleted',
        entityType: 'screening_term',
        entityId: id,
        actor,
        details: termDetails(t),
      });
      return t;
    });
    await this.refreshAfterChange();
    return toTermView(removed);
  }

  /**
   * A `term[,category[,level]]` list in one transaction: new terms inserted BATCH rows per
   * statement, changed ones updated in groups, unchanged ones skipped; one audit event with the
   * counts and the file's SHA-256. Bad lines are reported and the rest imported.
   */
  async importList(text: string, actor: AuthUser): Promise<ImportReport> {
    const parsed = parseTermList(text);
    const sha256 = createHash('sha256').update(text, 'utf8').digest('hex');
    const counts = await this.tx.run(async (m) => {
      await this.bumpVersion(m);
      const existing = await this.existingTerms(
        m,
        parsed.terms.map((t) => t.normalizedTerm),
      );
      const now = new Date();
      const fresh: ScreeningTerm[] = [];
      const changed = new Map<
        string,
        { set: Pick<ScreeningTerm, 'category' | 'level' | 'allow'>; ids: string[] }
      >();
      let unchanged = 0;
      for (const p of parsed.terms) {
        const old = existing.get(p.normalizedTerm);
        if (!old) {
          fresh.push(
            Object.assign(new ScreeningTerm(), {
              id: randomUUID(),
              term: p.term,
              normalizedTerm: p.normalizedTerm,
              category: p.category,
              level: p.level,
              allow: p.allow,
              createdBy: actor.id,
              createdAt: now,
              updatedAt: now,
            }),
          );
        } else if (sameSettings(old, p)) {
          unchanged++;
        } else {
          const key = JSON.stringify([p.category, p.level, p.allow]);
          const group = changed.get(key) ?? {
            set: { category: p.category, level: p.level, allow: p.allow },
            ids: [],
          };
          group.ids.push(old.id);
          changed.set(key, group);
        }
      }
      await this.insertTerms(m, fresh);
      let updated = 0;
      for (const { set, ids } of changed.values()) {
        for (const batch of chunks(ids, BATCH)) {
          await m.update(ScreeningTerm, { id: In(batch) }, { ...set, updatedAt: now });
          updated += batch.length;
        }
      }
      const result = {
        imported: fresh.length,
        updated,
        skipped: unchanged + parsed.repeated,
      };
      if (result.imported + result.updated > 0) {
        await this.audit.record(m, {
          action: 'screening.terms_imported',
          entityType: 'screening_term',
          actor,
          details: {
            ...result,
            errors: parsed.errors.length,
            sha256,
            bytes: Buffer.byteLength(text),
          },
        });
      }
      return result;
    });
    if (counts.imported + counts.updated > 0) await this.refreshAfterChange();
    return {
      ...counts,
      errors: parsed.errors.slice(0, MAX_REPORTED_ERRORS),
      errorCount: parsed.errors.length,
    };
  }

  /**
   * The stored settings of those normalised terms, BATCH per query. Plain SQL: hydrating
   * 20 000 entities, or building 40 500-row INSERTs, through TypeORM's builders costs seconds.
   */
  private async existingTerms(
    m: EntityManager,
    normalizedTerms: string[],
  ): Promise<Map<string, Pick<ScreeningTerm, 'id' | 'category' | 'level' | 'allow'>>> {
    const out = new Map<string, Pick<ScreeningTerm, 'id' | 'category' | 'level' | 'allow'>>();
    const allow = m.connection.driver.escape('allow');
    for (const batch of chunks(normalizedTerms, BATCH)) {
      const rows = (await m.query(
        `SELECT id, normalizedTerm, category, level, ${allow} AS allowed FROM screening_terms WHERE normalizedTerm IN (${batch.map(() => '?').join(', ')})`,
        batch,
      )) as {
        id: string;
        normalizedTerm: string;
        category: string;
        level: TermLevel;
        allowed: unknown;
      }[];
      for (const r of rows) {
        out.set(r.normalizedTerm, {
          id: r.id,
          category: r.category,
          level: r.level,
          allow: Boolean(Number(r.allowed)),
        });
      }
    }
    return out;
  }

  /** Multi-row INSERTs, values converted by the driver exactly as TypeORM would store them. */
  private async insertTerms(m: EntityManager, rows: ScreeningTerm[]): Promise<void> {
    const driver = m.connection.driver;
    const columns = m.connection.getMetadata(ScreeningTerm).columns;
    const names = columns.map((c) => driver.escape(c.databaseName)).join(', ');
    const tuple = `(${columns.map(() => '?').join(', ')})`;
    for (const batch of chunks(rows, BATCH)) {
      const params: unknown[] = batch.flatMap((r) =>
        columns.map((c) => driver.preparePersistentValue(c.getEntityValue(r), c) as unknown),
      );
      await m.query(
        `INSERT INTO screening_terms (${names}) VALUES ${batch.map(() => tuple).join(', ')}`,
        params,
      );
    }
  }

  // ------------------------------------------------------------------ the matcher's life

  /**
   * Builds a matcher from the database and swaps it in. Loads never overlap: a call while
   * one runs is served by one further load after it, which sees every change committed
   * before the call.
   */
  reload(): Promise<void> {
    if (!this.loading) {
      this.loading = this.load().finally(() => {
        this.loading = null;
      });
      return this.loading;
    }
    this.nextLoad ??= this.loading
      .catch(() => undefined)
      .then(() => {
        this.nextLoad = null;
        return this.reload();
      });
    return this.nextLoad;
  }

  private async load(): Promise<void> {
    const started = Date.now();
    // The version first: terms read after it are at least that new, so a change committed
    // in between is only ever picked up twice, never missed.
    const version = await this.readVersion(this.dataSource.manager);
    const rows = (await this.dataSource
      .getRepository(ScreeningTerm)
      .createQueryBuilder('t')
      .select('t.term', 'term')
      .addSelect('t.category', 'category')
      .addSelect('t.level', 'level')
      .addSelect('t.allow', 'allow')
      .getRawMany()) as { term: string; category: string; level: TermLevel; allow: unknown }[];
    const entries: TermEntry[] = rows.map((r) => ({
      term: r.term,
      category: r.category,
      level: r.level,
      allow: Boolean(Number(r.allow)),
    }));
    const matcher = TermMatcher.build(entries);
    this.matcher = matcher;
    this.loadedVersion = version;
    this.logger.log(
      `screening dictionary v${version}: ${matcher.stats.terms} terms, ${matcher.stats.allowPhrases} allow phrases, ${Date.now() - started} ms`,
    );
  }

  private async checkStale(): Promise<void> {
    if (this.checking || this.loading) return;
    this.checking = true;
    try {
      if ((await this.readVersion(this.dataSource.manager)) !== this.loadedVersion) {
        await this.reload();
      }
    } catch (e) {
      this.logger.warn(
        `screening dictionary check failed: ${e instanceof Error ? e.message : String(e)}`,
      );
    } finally {
      this.checking = false;
    }
  }

  /** After a committed change: the change stands even if the rebuild fails (the poll retries). */
  private async refreshAfterChange(): Promise<void> {
    try {
      await this.reload();
    } catch (e) {
      this.logger.error(
        `screening dictionary rebuild failed: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  private async readVersion(m: EntityManager): Promise<number> {
    const [row] = (await m.query('SELECT version FROM screening_state WHERE id = 1')) as {
      version: number | string;
    }[];
    return Number(row.version);
  }

  /**
   * Every dictionary change bumps the version first: the row lock (a write lock on SQLite)
   * also serialises concurrent changes, so an import reads existing terms undisturbed.
   */
  private async bumpVersion(m: EntityManager): Promise<void> {
    await m.query('UPDATE screening_state SET version = version + 1 WHERE id = 1');
  }

  private normalized(term: string): string {
    const problem = termProblem(term);
    if (problem) {
      throw new AppException(ErrorCode.VALIDATION_FAILED, `Invalid input: term`, [
        { field: 'term', errors: [problem] },
      ]);
    }
    return normalizeTerm(term);
  }

  private async assertFree(m: EntityManager, normalizedTerm: string): Promise<void> {
    const other = await m.findOneBy(ScreeningTerm, { normalizedTerm });
    if (other) {
      throw new AppException(
        ErrorCode.DUPLICATE,
        `The dictionary already has this term (as "${other.term}")`,
        { field: 'term', existingId: other.id, normalizedTerm },
      );
    }
  }
}

function toTermView(t: ScreeningTerm): TermView {
  return {
    id: t.id,
    term: t.term,
    normalizedTerm: t.normalizedTerm,
    category: t.category,
    level: t.level,
    allow: t.allow,
    createdBy: t.createdBy,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}

function termDetails(t: ScreeningTerm): Record<string, unknown> {
  return {
    term: t.term,
    normalizedTerm: t.normalizedTerm,
    category: t.category,
    level: t.level,
    allow: t.allow,
  };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
