import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
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

  /** Keyset paging on the sequence id: stable while new events are appended. */
  async list(
    q: ListAuditEventsQuery,
  ): Promise<{ items: AuditEventView[]; nextCursor: number | null }> {
    const limit = q.limit ?? 100;
    const desc = (q.order ?? 'desc') === 'desc';
    const qb = this.events.createQueryBuilder('e');
    if (q.action) qb.andWhere('e.action = :action', { action: q.action });
    if (q.actorId) qb.andWhere('e.actorId = :actorId', { actorId: q.actorId });
    if (q.entityType) qb.andWhere('e.entityType = :entityType', { entityType: q.entityType });
    if (q.entityId) qb.andWhere('e.entityId = :entityId', { entityId: q.entityId });
    if (q.from) qb.andWhere('e.createdAt >= :from', { from: new Date(q.from).toISOString() });
    if (q.to) qb.andWhere('e.createdAt < :to', { to: new Date(q.to).toISOString() });
    if (q.cursor !== undefined)
      qb.andWhere(desc ? 'e.id < :cursor' : 'e.id > :cursor', { cursor: q.cursor });
    const rows = await qb
      .orderBy('e.id', desc ? 'DESC' : 'ASC')
      .limit(limit + 1)
      .getMany();
    const more = rows.length > limit;
    const items = rows.slice(0, limit);
    return {
      items: items.map(toAuditEventView),
      nextCursor: more ? items[items.length - 1].id : null,
    };
  }
}
