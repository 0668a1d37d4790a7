import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Brackets, DataSource } from 'typeorm';
import { AuditEvent } from 'src/modules/audit/audit-event.entity';
import { Channel } from 'src/modules/channels/channel.entity';
import { Department } from 'src/modules/departments/department.entity';
import { Post } from 'src/modules/posts/post.entity';
import { Publication } from 'src/modules/publishing/publication.entity';
import { describeState, PostState } from 'src/modules/posts/post-state-machine';
import {
  AuditEventsExportQuery,
  PublicationsExportQuery,
} from 'src/modules/reports/dto/report.query';
import type { ReportSummary } from 'src/modules/reports/reports.service';
import { dbTime, isoTime } from 'src/modules/reports/stats';
import type { Cell } from 'src/modules/reports/table-stream';
import { User } from 'src/modules/users/user.entity';

/**
 * Rows per database read: a page is read, written out, and let go before the next.
 * Small, so that a page's objects (and exceljs' many per row) die young, swept by a
 * scavenge rather than promoted to wait for a full collection.
 */
export const EXPORT_PAGE_SIZE = 500;

export const SUMMARY_COLUMNS = ['section', 'key', 'label', 'value'] as const;

export const PUBLICATION_COLUMNS = [
  'id',
  'postId',
  'postTitle',
  'departmentId',
  'departmentName',
  'channelId',
  'channelName',
  'platform',
  'status',
  'operation',
  'attempts',
  'revisionId',
  'contentHash',
  'externalId',
  'url',
  'lastError',
  'createdAt',
  'publishedAt',
  'updatedAt',
] as const;

export const AUDIT_EVENT_COLUMNS = [
  'id',
  'createdAt',
  'action',
  'entityType',
  'entityId',
  'actorId',
  'actorUsername',
  'actorName',
  'actorRole',
  'fromState',
  'toState',
  'revisionId',
  'contentHash',
  'comment',
  'details',
  'requestId',
  'ip',
  'userAgent',
  'prevHash',
  'hash',
] as const;

const LEVEL_LABELS = { 1: '一审（提交）', 2: '二审（部门）', 3: '三审（宣传部）' } as const;

/** The summary as one table of (section, key, label, value): the same numbers as the JSON. */
export function summaryRows(s: ReportSummary): Cell[][] {
  const rows: Cell[][] = [
    ['filter', 'from', '起始时间', s.filter.from],
    ['filter', 'to', '截止时间', s.filter.to],
    [
      'filter',
      'departmentId',
      s.filter.department?.name ?? '全部部门',
      s.filter.department?.id ?? null,
    ],
    ['filter', 'generatedAt', '生成时间', s.generatedAt],
    ['posts', 'total', '稿件总数', s.posts.total],
  ];
  for (const [state, n] of Object.entries(s.posts.byState)) {
    rows.push(['posts.byState', state, describeState(state as PostState).zh, n]);
  }
  for (const d of s.posts.byDepartment)
    rows.push(['posts.byDepartment', d.departmentId, d.name, d.count]);
  for (const c of s.posts.byChannel) rows.push(['posts.byChannel', c.channelId, c.name, c.count]);
  for (const l of s.reviews.byLevel) {
    const section = `reviews.level${l.level}`;
    const label = LEVEL_LABELS[l.level];
    rows.push(
      [section, 'approvals', label, l.approvals],
      [section, 'returns', label, l.returns],
      [section, 'total', label, l.total],
      [section, 'returnRate', label, l.returnRate],
    );
  }
  const o = s.reviews.overall;
  rows.push(
    ['reviews.overall', 'approvals', '二审与三审', o.approvals],
    ['reviews.overall', 'returns', '二审与三审', o.returns],
    ['reviews.overall', 'total', '二审与三审', o.total],
    ['reviews.overall', 'returnRate', '二审与三审', o.returnRate],
  );
  s.reviews.topReturnReasons.forEach((r, i) =>
    rows.push(['reviews.topReturnReasons', String(i + 1), r.reason, r.count]),
  );
  for (const [level, w] of Object.entries(s.reviews.waiting)) {
    const section = `reviews.waiting.${level}`;
    rows.push(
      [section, 'count', '样本数', w.count],
      [section, 'medianSeconds', '中位数（秒）', w.medianSeconds],
      [section, 'p90Seconds', '90 分位（秒）', w.p90Seconds],
    );
  }
  rows.push(
    ['screening', 'submissions', '送审次数', s.screening.submissions],
    ['screening', 'flaggedSubmissions', '含提示词的送审', s.screening.flaggedSubmissions],
    ['screening', 'hits', '提示词命中数', s.screening.hits],
  );
  for (const [category, n] of Object.entries(s.screening.hitsByCategory)) {
    rows.push(['screening.hitsByCategory', category, category, n]);
  }
  rows.push(['publications', 'total', '发布记录总数', s.publications.total]);
  for (const [status, n] of Object.entries(s.publications.byStatus)) {
    rows.push(['publications.byStatus', status, status, n]);
  }
  rows.push(
    ['publications', 'failed', '发布失败', s.publications.failed],
    ['publications', 'retracted', '已撤稿', s.publications.retracted],
  );
  return rows;
}

/**
 * The long exports, read in keyset pages so that memory holds one page at a time
 * however long the history: publications in (createdAt, id) order, audit events by id.
 */
@Injectable()
export class ReportExportsService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async *publicationPages(
    q: PublicationsExportQuery,
    pageSize = EXPORT_PAGE_SIZE,
  ): AsyncGenerator<Cell[][]> {
    let after: { createdAt: Date; id: string } | null = null;
    for (;;) {
      const qb = this.dataSource
        .getRepository(Publication)
        .createQueryBuilder('pub')
        .innerJoin(Post, 'p', 'p.id = pub.postId')
        .innerJoin(Department, 'd', 'd.id = p.departmentId')
        .innerJoin(Channel, 'c', 'c.id = pub.channelId')
        .select('pub.id', 'id')
        .addSelect('pub.postId', 'postId')
        .addSelect('p.title', 'postTitle')
        .addSelect('p.departmentId', 'departmentId')
        .addSelect('d.name', 'departmentName')
        .addSelect('pub.channelId', 'channelId')
        .addSelect('c.name', 'channelName')
        .addSelect('c.platform', 'platform')
        .addSelect('pub.status', 'status')
        .addSelect('pub.operation', 'operation')
        .addSelect('pub.attempts', 'attempts')
        .addSelect('pub.revisionId', 'revisionId')
        .addSelect('pub.contentHash', 'contentHash')
        .addSelect('pub.externalId', 'externalId')
        .addSelect('pub.url', 'url')
        .addSelect('pub.lastError', 'lastError')
        .addSelect('pub.createdAt', 'createdAt')
        .addSelect('pub.publishedAt', 'publishedAt')
        .addSelect('pub.updatedAt', 'updatedAt');
      if (q.channelId) qb.andWhere('pub.channelId = :ch', { ch: q.channelId });
      if (q.departmentId) qb.andWhere('p.departmentId = :dept', { dept: q.departmentId });
      if (q.status) qb.andWhere('pub.status = :status', { status: q.status });
      if (q.from) qb.andWhere('pub.createdAt >= :from', { from: new Date(q.from) });
      if (q.to) qb.andWhere('pub.createdAt < :to', { to: new Date(q.to) });
      if (after) {
        const a = after;
        qb.andWhere(
          new Brackets((w) =>
            w
              .where('pub.createdAt > :afterAt', { afterAt: a.createdAt })
              .orWhere('(pub.createdAt = :afterAt AND pub.id > :afterId)', { afterId: a.id }),
          ),
        );
      }
      const rows = await qb
        .orderBy('pub.createdAt', 'ASC')
        .addOrderBy('pub.id', 'ASC')
        .limit(pageSize)
        .getRawMany<Record<(typeof PUBLICATION_COLUMNS)[number], string | number | Date | null>>();
      if (!rows.length) return;
      const more = rows.length === pageSize;
      const last = rows[rows.length - 1];
      after = { createdAt: dbTime(last.createdAt as Date | string)!, id: String(last.id) };
      // splice: the generator keeps no reference to the page while the caller writes it.
      yield rows.splice(0).map((r) =>
        PUBLICATION_COLUMNS.map((k): Cell => {
          const v = r[k];
          if (k === 'createdAt' || k === 'publishedAt' || k === 'updatedAt') {
            return isoTime(v as Date | string | null);
          }
          return k === 'attempts' ? Number(v) : (v as string | null);
        }),
      );
      if (!more) return;
    }
  }

  async *auditEventPages(
    q: AuditEventsExportQuery,
    pageSize = EXPORT_PAGE_SIZE,
  ): AsyncGenerator<Cell[][]> {
    let after = 0;
    for (;;) {
      const qb = this.dataSource
        .getRepository(AuditEvent)
        .createQueryBuilder('e')
        .leftJoin(User, 'u', 'u.id = e.actorId')
        .select('e.id', 'id')
        .addSelect('e.createdAt', 'createdAt')
        .addSelect('e.action', 'action')
        .addSelect('e.entityType', 'entityType')
        .addSelect('e.entityId', 'entityId')
        .addSelect('e.actorId', 'actorId')
        .addSelect('u.username', 'actorUsername')
        .addSelect('u.displayName', 'actorName')
        .addSelect('e.actorRole', 'actorRole')
        .addSelect('e.fromState', 'fromState')
        .addSelect('e.toState', 'toState')
        .addSelect('e.revisionId', 'revisionId')
        .addSelect('e.contentHash', 'contentHash')
        .addSelect('e.comment', 'comment')
        .addSelect('e.details', 'details')
        .addSelect('e.requestId', 'requestId')
        .addSelect('e.ip', 'ip')
        .addSelect('e.userAgent', 'userAgent')
        .addSelect('e.prevHash', 'prevHash')
        .addSelect('e.hash', 'hash')
        .where('e.id > :after', { after });
      if (q.action) qb.andWhere('e.action = :action', { action: q.action });
      if (q.actorId) qb.andWhere('e.actorId = :actorId', { actorId: q.actorId });
      if (q.entityType) qb.andWhere('e.entityType = :entityType', { entityType: q.entityType });
      if (q.entityId) qb.andWhere('e.entityId = :entityId', { entityId: q.entityId });
      // createdAt is ISO-8601 UTC text, exactly as hashed: compared as text, in the same form.
      if (q.from) qb.andWhere('e.createdAt >= :from', { from: new Date(q.from).toISOString() });
      if (q.to) qb.andWhere('e.createdAt < :to', { to: new Date(q.to).toISOString() });
      const rows = await qb
        .orderBy('e.id', 'ASC')
        .limit(pageSize)
        .getRawMany<Record<(typeof AUDIT_EVENT_COLUMNS)[number], string | number | null>>();
      if (!rows.length) return;
      const more = rows.length === pageSize;
      after = Number(rows[rows.length - 1].id);
      yield rows
        .splice(0)
        .map((r) =>
          AUDIT_EVENT_COLUMNS.map((k): Cell =>
            k === 'id' ? Number(r.id) : (r[k] as string | null),
          ),
        );
      if (!more) return;
    }
  }
}
