import { Injectable } from '@nestjs/common';
import { Brackets, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { Publication, PublicationStatus } from 'src/modules/publishing/publication.entity';
import {
  INITIAL_PUBLICATION_STATUS,
  PublicationEvent,
  PublicationOperation,
  publicationTransition,
} from 'src/modules/publishing/publication-state-machine';

/** Conditions a move adds to `id AND status`: who holds the lease, which attempt it is. */
export interface MoveGuard {
  leaseOwner?: string;
  attempts?: number;
  /** Only when no live lease is held at this time. */
  leaseFreeAt?: Date;
}

/**
 * The one writer of `publications.status`: every move is the table's answer for
 * (status, event), written as a guarded UPDATE that changes the row only while it
 * is still in the status it was read in.
 */
@Injectable()
export class PublicationStore {
  /** The new status, or null when the row moved meanwhile (nothing written). */
  async move(
    m: EntityManager,
    pub: { id: string; status: PublicationStatus; operation?: PublicationOperation },
    event: PublicationEvent,
    patch: Omit<QueryDeepPartialEntity<Publication>, 'status'>,
    guard: MoveGuard = {},
  ): Promise<PublicationStatus | null> {
    const to = publicationTransition(pub.status, event, pub.operation);
    if (!to) throw new Error(`no publication move ${pub.status} --${event}-->`);
    const qb = m
      .createQueryBuilder()
      .update(Publication)
      .set({ ...patch, status: to } as QueryDeepPartialEntity<Publication>)
      .where('id = :id AND status = :status', { id: pub.id, status: pub.status });
    if (guard.leaseOwner !== undefined)
      qb.andWhere('leaseOwner = :owner', { owner: guard.leaseOwner });
    if (guard.attempts !== undefined)
      qb.andWhere('attempts = :attempts', { attempts: guard.attempts });
    if (guard.leaseFreeAt) {
      const at = guard.leaseFreeAt;
      qb.andWhere(
        new Brackets((w) => w.where('leaseUntil IS NULL').orWhere('leaseUntil < :at', { at })),
      );
    }
    const res = await qb.execute();
    return res.affected === 1 ? to : null;
  }

  /** New outbox rows (the `enqueue` event): always in the table's first status. */
  async insert(m: EntityManager, rows: Omit<Publication, 'status'>[]): Promise<Publication[]> {
    const queued = rows.map((r) => Object.assign(r, { status: INITIAL_PUBLICATION_STATUS }));
    await m.insert(Publication, queued as QueryDeepPartialEntity<Publication>[]);
    return queued;
  }

  /** Lets go of a lease without a move (the row moved under us; keep what the platform said). */
  async releaseLease(
    m: EntityManager,
    id: string,
    owner: string,
    keep: { externalId?: string },
  ): Promise<void> {
    await m.update(Publication, { id, leaseOwner: owner }, {
      leaseOwner: null,
      leaseUntil: null,
      ...keep,
    } as QueryDeepPartialEntity<Publication>);
  }
}
