import { Injectable } from '@nestjs/common';
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
import {
  CreateTermDto,
  ListTermsQuery,
  UpdateTermDto,
} from 'src/modules/screening/dto/screening.dto';
import type { TermLevel } from 'src/modules/screening/matcher';
import { normalizeTerm } from 'src/modules/screening/normalize';
import { ScreeningMatcherService } from 'src/modules/screening/screening-matcher.service';
import { ScreeningTerm } from 'src/modules/screening/screening-term.entity';
import {
  LineError,
  parseTermList,
  sameSettings,
  termProblem,
} from 'src/modules/screening/term-list';

const MAX_REPORTED_ERRORS = 1000;
/** Rows per INSERT or UPDATE … IN (…) of an import. */
const BATCH = 500;

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

/**
 * The sensitive-term dictionary: its entries, their import, and an audit event for every
 * change. Each change bumps the dictionary version in its transaction and, once committed,
 * waits for this process's matcher to be rebuilt, so the answer means "in force".
 */
@Injectable()
export class ScreeningTermsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tx: Transactions,
    private readonly audit: AuditService,
    private readonly matchers: ScreeningMatcherService,
  ) {}

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
      await this.matchers.bumpVersion(m);
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
    await this.matchers.refreshAfterChange();
    return toTermView(saved);
  }

  async update(id: string, dto: UpdateTermDto, actor: AuthUser): Promise<TermView> {
    const normalizedTerm = dto.term === undefined ? undefined : this.normalized(dto.term);
    let changed = false;
    const saved = await this.tx.run(async (m) => {
      const repo = m.getRepository(ScreeningTerm);
      await this.matchers.bumpVersion(m);
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
    if (changed) await this.matchers.refreshAfterChange();
    return toTermView(saved);
  }

  /** Terms are deleted outright; the `screening.term_deleted` event keeps what the entry was. */
  async remove(id: string, actor: AuthUser): Promise<TermView> {
    const removed = await this.tx.run(async (m) => {
      const repo = m.getRepository(ScreeningTerm);
      await this.matchers.bumpVersion(m);
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
    await this.matchers.refreshAfterChange();
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
      await this.matchers.bumpVersion(m);
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
    if (counts.imported + counts.updated > 0) await this.matchers.refreshAfterChange();
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
