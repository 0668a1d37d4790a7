import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { CursorPage, decodeCursor, keysetPage } from 'src/common/cursor';
import { AuditEvent } from 'src/modules/audit/audit-event.entity';
import { ListAuditEventsQuery } from 'src/modules/audit/dto/list-audit-events.query';

export interface AuditEventView extends Omit<AuditEvent, 'details'> {
  details: Record<string, unknown> | null;
}

export function toAuditEventView(e: AuditEvent): AuditEventView {
  return { ...e, details: e.details ? (JSON.parse(e.details) as Record<string, unknown>) : null };
}

@Injectable()
export class AuditQueryService {
  constructor(@InjectRepository(AuditEvent) private readonly events: Repository<AuditEvent>) {}

  /** Every event on one entity, in chain order (a post's 审核登记表). */
  eventsOf(entityType: string, entityId: string): Promise<AuditEvent[]> {
    return this.events.find({ where: { entityType, entityId }, order: { id: 'ASC' } });
  }

  /**
   * Keyset paging on the sequence id: stable while new events are appended, and
   * each filter has an index that ends in `id` (action, actorId, entityType[, entityId]).
   */
  async list(q: ListAuditEventsQuery): Promise<CursorPage<AuditEventView>> {
    const pageSize = q.pageSize ?? q.limit ?? 100;
    const desc = (q.order ?? 'desc') === 'desc';
    const after =
      q.cursor === undefined
        ? undefined
        : /^\d{1,15}$/.test(q.cursor)
          ? Number(q.cursor)
          : decodeCursor(q.cursor, ['int'] as const)[0];
    const filtered = () => {
      const qb = this.events.createQueryBuilder('e');
      if (q.action) qb.andWhere('e.action = :action', { action: q.action });
      if (q.actorId) qb.andWhere('e.actorId = :actorId', { actorId: q.actorId });
      if (q.entityType) qb.andWhere('e.entityType = :entityType', { entityType: q.entityType });
      if (q.entityId) qb.andWhere('e.entityId = :entityId', { entityId: q.entityId });
      if (q.from) qb.andWhere('e.createdAt >= :from', { from: new Date(q.from).toISOString() });
      if (q.to) qb.andWhere('e.createdAt < :to', { to: new Date(q.to).toISOString() });
      return qb;
    };
    const qb = filtered();
    if (after !== undefined)
      qb.andWhere(desc ? 'e.id < :cursor' : 'e.id > :cursor', { cursor: after });
    const rows = await qb
      .orderBy('e.id', desc ? 'DESC' : 'ASC')
      .limit(pageSize + 1)
      .getMany();
    const page = keysetPage(
      rows,
      pageSize,
      (e) => [Number(e.id)],
      (es) => es.map(toAuditEventView),
    );
    if (q.count) page.total = await filtered().getCount();
    return page;
  }
}
