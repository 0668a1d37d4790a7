import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { TermEntry, TermLevel, TermMatcher } from 'src/modules/screening/matcher';
import { ScreeningTerm } from 'src/modules/screening/screening-term.entity';
import { safeMessage } from 'src/common/log-safe';

/** How often each process asks whether another one changed the dictionary. */
export const STALE_CHECK_MS = 2000;

/**
 * The matcher built from the dictionary, kept current.
 *
 * Each process keeps one immutable `TermMatcher` and swaps in a new one when the dictionary
 * changes: after a change made in this process (the changing request waits for it, so its
 * answer means "in force"), and when the `screening_state.version` it polls every
 * STALE_CHECK_MS shows a change made by another process. Screening always uses the matcher
 * in place and never waits.
 */
@Injectable()
export class ScreeningMatcherService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ScreeningMatcherService.name);
  private matcher: TermMatcher = TermMatcher.empty();
  private loadedVersion = -1;
  private loading: Promise<void> | null = null;
  private nextLoad: Promise<void> | null = null;
  private checking = false;
  private timer?: NodeJS.Timeout;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Start-up waits for the first build: no request is screened against an empty dictionary. */
  async onModuleInit(): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => void this.checkStale(), STALE_CHECK_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** The matcher in force; never waits for a rebuild. */
  get current(): TermMatcher {
    return this.matcher;
  }

  /**
   * Every dictionary change bumps the version first, in its transaction: the row lock (a write
   * lock on SQLite) also serialises concurrent changes, so an import reads existing terms
   * undisturbed, and every other process sees the change on its next poll.
   */
  async bumpVersion(m: EntityManager): Promise<void> {
    await m.query('UPDATE screening_state SET version = version + 1 WHERE id = 1');
  }

  /** After a committed change: the change stands even if the rebuild fails (the poll retries). */
  async refreshAfterChange(): Promise<void> {
    try {
      await this.reload();
    } catch (e) {
      this.logger.error(`screening dictionary rebuild failed: ${safeMessage(e)}`);
    }
  }

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
      this.logger.warn(`screening dictionary check failed: ${safeMessage(e)}`);
    } finally {
      this.checking = false;
    }
  }

  private async readVersion(m: EntityManager): Promise<number> {
    const [row] = (await m.query('SELECT version FROM screening_state WHERE id = 1')) as {
      version: number | string;
    }[];
    return Number(row.version);
  }
}
