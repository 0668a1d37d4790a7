import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { AppException } from 'src/common/app.exception';
import { ErrorCode } from 'src/common/error-code';
import { Channel } from 'src/modules/channels/channel.entity';
import { Department } from 'src/modules/departments/department.entity';
import { Post, PostChannel } from 'src/modules/posts/post.entity';
import { PUBLICATION_STATUSES } from 'src/modules/publishing/dto/publication.dto';
import { Publication } from 'src/modules/publishing/publication.entity';
import { Decision } from 'src/modules/posts/decision.entity';
import { PostScreening } from 'src/modules/screening/post-screening.entity';
import { POST_STATES, PostState } from 'src/modules/posts/post-state-machine';
import { dbTime, percentile, roundSeconds, tally } from 'src/modules/reports/stats';

export interface ReportRange {
  from: Date | null;
  to: Date | null;
  departmentId: string | null;
}

export interface LevelCounts {
  level: 1 | 2 | 3;
  approvals: number;
  returns: number;
  total: number;
  /** returns / total; null when there were no decisions at the level. */
  returnRate: number | null;
}

export interface WaitStats {
  count: number;
  medianSeconds: number | null;
  p90Seconds: number | null;
}

export interface ReportSummary {
  generatedAt: string;
  filter: {
    from: string | null;
    to: string | null;
    department: { id: string; name: string; code: string } | null;
  };
  posts: {
    total: number;
    byState: Record<PostState, number>;
    byDepartment: { departmentId: string; name: string; code: string; count: number }[];
    byChannel: { channelId: string; name: string; platform: string; count: number }[];
  };
  reviews: {
    byLevel: LevelCounts[];
    overall: Omit<LevelCounts, 'level'>;
    topReturnReasons: { reason: string; count: number }[];
    waiting: { level2: WaitStats; level3: WaitStats };
  };
  screening: {
    /** Submissions screened in the range (every submission is). */
    submissions: number;
    /** Of those, the ones that passed with warnings. */
    flaggedSubmissions: number;
    /** Warning hits in all: every occurrence of a `warn` term. */
    hits: number;
    /** The stored hits by their term's category (a submission keeps its first 1 000). */
    hitsByCategory: Record<string, number>;
  };
  publications: {
    total: number;
    byStatus: Record<(typeof PUBLICATION_STATUSES)[number], number>;
    failed: number;
    retracted: number;
  };
}

export const TOP_REASONS = 10;
const SCREENING_PAGE = 500;

/**
 * The oversight summary: what was written, how review went, how long posts waited,
 * what reached the channels. Counting is done by the database; medians and
 * normalising reasons, which the two databases would do differently, in TypeScript.
 */
@Injectable()
export class ReportsService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async range(q: { from?: string; to?: string; departmentId?: string }): Promise<{
    range: ReportRange;
    department: ReportSummary['filter']['department'];
  }> {
    let department: ReportSummary['filter']['department'] = null;
    if (q.departmentId) {
      const d = await this.dataSource.getRepository(Department).findOneBy({ id: q.departmentId });
      if (!d) {
        throw new AppException(ErrorCode.VALIDATION_FAILED, 'Invalid input: departmentId', [
          { field: 'departmentId', errors: ['departmentId names no department'] },
        ]);
      }
      department = { id: d.id, name: d.name, code: d.code };
    }
    return {
      range: {
        from: q.from ? new Date(q.from) : null,
        to: q.to ? new Date(q.to) : null,
        departmentId: q.departmentId ?? null,
      },
      department,
    };
  }

  async summary(q: { from?: string; to?: string; departmentId?: string }): Promise<ReportSummary> {
    const { range, department } = await this.range(q);
    const [posts, reviews, waiting, reasons, publications, screening] = await Promise.all([
      this.posts(range),
      this.reviewCounts(range),
      this.waiting(range),
      this.returnReasons(range),
      this.publications(range),
      this.screening(range),
    ]);
    return {
      generatedAt: new Date().toISOString(),
      filter: {
        from: range.from?.toISOString() ?? null,
        to: range.to?.toISOString() ?? null,
        department,
      },
      posts,
      reviews: { ...reviews, topReturnReasons: reasons, waiting },
      screening,
      publications,
    };
  }

  /** Posts created in the range: by state, by department, by target channel. */
  private async posts(r: ReportRange): Promise<ReportSummary['posts']> {
    const created = <T extends ObjectLiteral>(qb: SelectQueryBuilder<T>) => {
      this.within(qb, 'p.createdAt', r);
      if (r.departmentId) qb.andWhere('p.departmentId = :dept', { dept: r.departmentId });
      return qb;
    };
    const posts = () => this.dataSource.getRepository(Post).createQueryBuilder('p');
    const [states, departments, channels] = await Promise.all([
      created(posts())
        .select('p.state', 'state')
        .addSelect('COUNT(*)', 'n')
        .groupBy('p.state')
        .getRawMany<{ state: PostState; n: number | string }>(),
      created(posts())
        .innerJoin(Department, 'd', 'd.id = p.departmentId')
        .select('d.id', 'departmentId')
        .addSelect('d.name', 'name')
        .addSelect('d.code', 'code')
        .addSelect('COUNT(*)', 'n')
        .groupBy('d.id')
        .addGroupBy('d.name')
        .addGroupBy('d.code')
        .getRawMany<{ departmentId: string; name: string; code: string; n: number | string }>(),
      created(
        this.dataSource
          .getRepository(PostChannel)
          .createQueryBuilder('pc')
          .innerJoin(Post, 'p', 'p.id = pc.postId'),
      )
        .innerJoin(Channel, 'c', 'c.id = pc.channelId')
        .select('c.id', 'channelId')
        .addSelect('c.name', 'name')
        .addSelect('c.platform', 'platform')
        .addSelect('COUNT(*)', 'n')
        .groupBy('c.id')
        .addGroupBy('c.name')
        .addGroupBy('c.platform')
        .getRawMany<{ channelId: string; name: string; platform: string; n: number | string }>(),
    ]);
    const byState = Object.fromEntries(POST_STATES.map((s) => [s, 0])) as Record<PostState, number>;
    for (const s of states) byState[s.state] = Number(s.n);
    const byCount = (a: { count: number; name: string }, b: { count: number; name: string }) =>
      b.count - a.count || a.name.localeCompare(b.name, 'zh-Hans-CN');
    return {
      total: Object.values(byState).reduce((a, b) => a + b, 0),
      byState,
      byDepartment: departments
        .map((d) => ({
          departmentId: d.departmentId,
          name: d.name,
          code: d.code,
          count: Number(d.n),
        }))
        .sort(byCount),
      byChannel: channels
        .map((c) => ({
          channelId: c.channelId,
          name: c.name,
          platform: c.platform,
          count: Number(c.n),
        }))
        .sort(byCount),
    };
  }

  /** Decisions taken in the range, per level and outcome; level 1 is the author's submission. */
  private async reviewCounts(
    r: ReportRange,
  ): Promise<Pick<ReportSummary['reviews'], 'byLevel' | 'overall'>> {
    const rows = await this.decisions(r)
      .select('d.level', 'level')
      .addSelect('d.outcome', 'outcome')
      .addSelect('COUNT(*)', 'n')
      .groupBy('d.level')
      .addGroupBy('d.outcome')
      .getRawMany<{ level: number | string; outcome: string; n: number | string }>();
    const count = (level: number, outcome: string) =>
      rows
        .filter((x) => Number(x.level) === level && x.outcome === outcome)
        .reduce((a, x) => a + Number(x.n), 0);
    const rate = (returns: number, total: number) => (total ? returns / total : null);
    const byLevel = ([1, 2, 3] as const).map((level): LevelCounts => {
      const approvals = count(level, 'approve');
      const returns = count(level, 'reject');
      const total = approvals + returns;
      return { level, approvals, returns, total, returnRate: rate(returns, total) };
    });
    // Overall is the reviewers' decisions: a submission is never a return.
    const reviewed = byLevel.filter((l) => l.level > 1);
    const approvals = reviewed.reduce((a, l) => a + l.approvals, 0);
    const returns = reviewed.reduce((a, l) => a + l.returns, 0);
    return {
      byLevel,
      overall: {
        approvals,
        returns,
        total: approvals + returns,
        returnRate: rate(returns, approvals + returns),
      },
    };
  }

  /** The reasons given for returns in the range, trimmed, most frequent first. */
  private async returnReasons(r: ReportRange): Promise<{ reason: string; count: number }[]> {
    const rows = await this.decisions(r)
      .select('d.comment', 'comment')
      .andWhere("d.outcome = 'reject'")
      .getRawMany<{ comment: string | null }>();
    const reasons = rows.map((x) => (x.comment ?? '').trim()).filter(Boolean);
    return tally(reasons, TOP_REASONS).map((t) => ({ reason: t.key, count: t.count }));
  }

  /**
   * How long posts waited at level 2 and 3, from the decisions: a level-2 decision
   * closes the wait its round's submission opened; a level-3 decision the wait its
   * round's level-2 approval opened. Counted when the closing decision is in the range.
   */
  private async waiting(r: ReportRange): Promise<{ level2: WaitStats; level3: WaitStats }> {
    const rows = await this.decisions(r)
      .innerJoin(
        Decision,
        'prev',
        "prev.postId = d.postId AND prev.round = d.round AND prev.level = d.level - 1 AND prev.outcome = 'approve'",
      )
      .select('d.level', 'level')
      .addSelect('d.createdAt', 'leftAt')
      .addSelect('prev.createdAt', 'enteredAt')
      .andWhere('d.level IN (2, 3)')
      .getRawMany<{ level: number | string; leftAt: Date | string; enteredAt: Date | string }>();
    const waits: Record<2 | 3, number[]> = { 2: [], 3: [] };
    for (const x of rows) {
      const seconds = (dbTime(x.leftAt)!.getTime() - dbTime(x.enteredAt)!.getTime()) / 1000;
      waits[Number(x.level) as 2 | 3].push(seconds);
    }
    const stats = (v: number[]): WaitStats => ({
      count: v.length,
      medianSeconds: roundSeconds(percentile(v, 50)),
      p90Seconds: roundSeconds(percentile(v, 90)),
    });
    return { level2: stats(waits[2]), level3: stats(waits[3]) };
  }

  /** Publications created in the range, by status. */
  private async publications(r: ReportRange): Promise<ReportSummary['publications']> {
    const qb = this.within(
      this.dataSource.getRepository(Publication).createQueryBuilder('pub'),
      'pub.createdAt',
      r,
    );
    if (r.departmentId) {
      qb.innerJoin(Post, 'p', 'p.id = pub.postId').andWhere('p.departmentId = :dept', {
        dept: r.departmentId,
      });
    }
    const rows = await qb
      .select('pub.status', 'status')
      .addSelect('COUNT(*)', 'n')
      .groupBy('pub.status')
      .getRawMany<{ status: string; n: number | string }>();
    const byStatus = Object.fromEntries(PUBLICATION_STATUSES.map((s) => [s, 0])) as Record<
      (typeof PUBLICATION_STATUSES)[number],
      number
    >;
    for (const x of rows) {
      if (x.status in byStatus) byStatus[x.status as keyof typeof byStatus] = Number(x.n);
    }
    return {
      total: Object.values(byStatus).reduce((a, b) => a + b, 0),
      byStatus,
      failed: byStatus.failed,
      retracted: byStatus.retracted,
    };
  }

  /**
   * The warnings the submissions in the range passed screening with (a blocking hit
   * refuses a submission, so none is stored), by the category of the matched term.
   * Read in keyset pages: a submission may carry many hits.
   */
  private async screening(r: ReportRange): Promise<ReportSummary['screening']> {
    const base = () => {
      const qb = this.within(
        this.dataSource.getRepository(PostScreening).createQueryBuilder('s'),
        's.createdAt',
        r,
      );
      if (r.departmentId) {
        qb.innerJoin(Post, 'p', 'p.id = s.postId').andWhere('p.departmentId = :dept', {
          dept: r.departmentId,
        });
      }
      return qb;
    };
    const totals = await base()
      .select('COUNT(*)', 'submissions')
      .addSelect('SUM(CASE WHEN s.hitCount > 0 THEN 1 ELSE 0 END)', 'flagged')
      .addSelect('SUM(s.hitCount)', 'hits')
      .getRawOne<{
        submissions: number | string;
        flagged: number | string | null;
        hits: number | string | null;
      }>();
    const hitsByCategory: Record<string, number> = {};
    let after = '';
    for (;;) {
      const rows = await base()
        .select('s.id', 'id')
        .addSelect('s.hits', 'hits')
        .andWhere('s.hitCount > 0')
        .andWhere('s.id > :after', { after })
        .orderBy('s.id', 'ASC')
        .limit(SCREENING_PAGE)
        .getRawMany<{ id: string; hits: string }>();
      for (const row of rows) {
        for (const hit of JSON.parse(row.hits) as { category: string }[]) {
          hitsByCategory[hit.category] = (hitsByCategory[hit.category] ?? 0) + 1;
        }
      }
      if (rows.length < SCREENING_PAGE) break;
      after = rows[rows.length - 1].id;
    }
    return {
      submissions: Number(totals?.submissions ?? 0),
      flaggedSubmissions: Number(totals?.flagged ?? 0),
      hits: Number(totals?.hits ?? 0),
      hitsByCategory: Object.fromEntries(
        Object.entries(hitsByCategory).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1)),
      ),
    };
  }

  private decisions(r: ReportRange): SelectQueryBuilder<Decision> {
    const qb = this.within(
      this.dataSource.getRepository(Decision).createQueryBuilder('d'),
      'd.createdAt',
      r,
    );
    if (r.departmentId) {
      qb.innerJoin(Post, 'p', 'p.id = d.postId').andWhere('p.departmentId = :dept', {
        dept: r.departmentId,
      });
    }
    return qb;
  }

  /** A datetime column within [from, to): Date parameters, which both drivers compare as times. */
  private within<T extends ObjectLiteral>(
    qb: SelectQueryBuilder<T>,
    column: string,
    r: ReportRange,
  ): SelectQueryBuilder<T> {
    if (r.from) qb.andWhere(`${column} >= :from`, { from: r.from });
    if (r.to) qb.andWhere(`${column} < :to`, { to: r.to });
    return qb;
  }
}
