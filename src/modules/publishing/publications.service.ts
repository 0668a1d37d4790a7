import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppException } from 'src/common/app.exception';
import type { AuthUser } from 'src/common/auth-user';
import { ErrorCode } from 'src/common/error-code';
import { CursorPage, decodeCursor, keysetPage } from 'src/common/cursor';
import { Transactions } from 'src/database/transactions';
import { AuditService } from 'src/modules/audit/audit.service';
import { ListPublicationsQuery } from 'src/modules/publishing/dto/publication.dto';
import { ExecutorRef } from 'src/modules/publishing/executor';
import { Publication } from 'src/modules/publishing/publication.entity';
import { PublicationStore } from 'src/modules/publishing/publication-store';

/** The publication history the propaganda department watches, and its one lever: retry. */
@Injectable()
export class PublicationsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tx: Transactions,
    private readonly audit: AuditService,
    private readonly executor: ExecutorRef,
    private readonly store: PublicationStore,
  ) {}

  /** Newest first (createdAt DESC, id DESC), keyset-paged; `total` only with `count=true`. */
  async list(q: ListPublicationsQuery) {
    const pageSize = q.pageSize ?? 50;
    const after = q.cursor ? decodeCursor(q.cursor, ['time', 'id'] as const) : null;
    const filtered = () => {
      const qb = this.dataSource.getRepository(Publication).createQueryBuilder('pub');
      if (q.channelId) qb.andWhere('pub.channelId = :ch', { ch: q.channelId });
      if (q.departmentId) {
        qb.andWhere(
          'EXISTS (SELECT 1 FROM posts dp WHERE dp.id = pub.postId AND dp.departmentId = :dept)',
          {
            dept: q.departmentId,
          },
        );
      }
      if (q.postId) qb.andWhere('pub.postId = :post', { post: q.postId });
      if (q.status) qb.andWhere('pub.status = :status', { status: q.status });
      if (q.from) qb.andWhere('pub.createdAt >= :from', { from: new Date(q.from) });
      if (q.to) qb.andWhere('pub.createdAt < :to', { to: new Date(q.to) });
      return qb;
    };
    const qb = filtered()
      .innerJoin('posts', 'post', 'post.id = pub.postId')
      .innerJoin('channels', 'ch', 'ch.id = pub.channelId')
      .addSelect([
        'post.title AS postTitle',
        'post.departmentId AS departmentId',
        'ch.name AS channelName',
        'ch.platform AS platform',
      ]);
    if (after) {
      qb.andWhere('pub.createdAt <= :cAt AND (pub.createdAt < :cAt OR pub.id < :cId)', {
        cAt: after[0],
        cId: after[1],
      });
    }
    const { entities, raw } = await qb
      .orderBy('pub.createdAt', 'DESC')
      .addOrderBy('pub.id', 'DESC')
      .limit(pageSize + 1)
      .getRawAndEntities();
    const rows = entities.map((p, i) => {
      const r = raw[i] as {
        postTitle: string;
        departmentId: string;
        channelName: string;
        platform: string;
      };
      const { leaseOwner: _o, adapterState: _s, ...rest } = p;
      return {
        ...rest,
        postTitle: r.postTitle,
        departmentId: r.departmentId,
        channel: { id: p.channelId, name: r.channelName, platform: r.platform },
      };
    });
    const page: CursorPage<(typeof rows)[number]> = keysetPage(
      rows,
      pageSize,
      (p) => [p.createdAt, p.id],
      (ps) => ps,
    );
    if (q.count) page.total = await filtered().getCount();
    return page;
  }

  /** A failed publication goes back to the outbox with fresh attempts; same delivery id. */
  async retry(id: string, user: AuthUser) {
    const pub = await this.tx.run(async (m) => {
      const p = await m.findOneBy(Publication, { id });
      if (!p) throw AppException.notFound('Publication', id);
      if (p.status !== 'failed') {
        throw new AppException(
          ErrorCode.INVALID_STATE,
          `Only a failed publication can be retried; this one is ${p.status}`,
          {
            status: p.status,
          },
        );
      }
      const now = new Date();
      const to = await this.store.move(m, p, 'request_retry', {
        attempts: 0,
        nextAttemptAt: now,
        leaseOwner: null,
        leaseUntil: null,
        adapterState: null,
        updatedAt: now,
      });
      if (!to)
        throw new AppException(ErrorCode.CONFLICT, 'The publication changed; reload and try again');
      await this.audit.record(m, {
        action: 'publication.retry_requested',
        entityType: 'publication',
        entityId: id,
        actor: user,
        fromState: 'failed',
        toState: to,
        revisionId: p.revisionId,
        contentHash: p.contentHash,
        comment: p.lastError,
        details: { postId: p.postId, channelId: p.channelId },
      });
      return { ...p, status: to, attempts: 0, nextAttemptAt: now };
    });
    this.executor.notify();
    const { leaseOwner: _o, adapterState: _s, ...view } = pub;
    return view;
  }
}
