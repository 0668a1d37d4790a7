import { Column, Entity, PrimaryColumn } from 'typeorm';
import { jsonText } from 'src/database/transformers';

export type PublicationStatus =
  'queued' | 'sending' | 'published' | 'failed' | 'retracting' | 'retracted' | 'cancelled';

/** One post on one channel: the durable outbox row the publisher executes. */
@Entity('publications')
export class Publication {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 36 })
  postId: string;

  @Column({ type: 'varchar', length: 36 })
  channelId: string;

  /** The approved revision: exactly what goes out. */
  @Column({ type: 'varchar', length: 36 })
  revisionId: string;

  @Column({ type: 'varchar', length: 64 })
  contentHash: string;

  @Column({ type: 'varchar', length: 16 })
  status: PublicationStatus;

  @Column({ type: 'int' })
  attempts: number;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  nextAttemptAt: Date | null;

  @Column({ type: 'text', nullable: true })
  lastError: string | null;

  /** The stable code of `lastError` (publication-errors.ts): what an author is shown. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  lastErrorCode: string | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  externalId: string | null;

  @Column({ type: 'varchar', length: 1024, nullable: true })
  url: string | null;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  publishedAt: Date | null;

  /** What the row is doing: delivering the post, or taking it down (撤稿). */
  @Column({ type: 'varchar', length: 8 })
  operation: 'publish' | 'retract';

  /** Which executor holds the row while an attempt runs; expired leases are taken over. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  leaseOwner: string | null;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  leaseUntil: Date | null;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  lastAttemptAt: Date | null;

  /** What the channel's adapter keeps between attempts (e.g. a WeChat publish_id). */
  @Column({ type: 'text', nullable: true, transformer: jsonText })
  adapterState: Record<string, unknown> | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
