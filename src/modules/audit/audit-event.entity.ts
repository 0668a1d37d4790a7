import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from 'src/database/transformers';

/** One link of the hash chain. Append-only: nothing in the code updates or deletes a row. */
@Entity('audit_events')
export class AuditEvent {
  /** The sequence number: assigned under the chain-head lock, contiguous from 1. */
  @PrimaryColumn({ type: 'bigint', transformer: bigintNumber })
  id: number;

  /** ISO-8601 UTC with milliseconds, stored as text so the hashed value round-trips exactly. */
  @Column({ type: 'varchar', length: 24 })
  createdAt: string;

  @Column({ type: 'varchar', length: 36, nullable: true })
  actorId: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  actorRole: string | null;

  @Column({ type: 'varchar', length: 64 })
  action: string;

  @Column({ type: 'varchar', length: 32 })
  entityType: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  entityId: string | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  fromState: string | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  toState: string | null;

  @Column({ type: 'varchar', length: 36, nullable: true })
  revisionId: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  contentHash: string | null;

  @Column({ type: 'text', nullable: true })
  comment: string | null;

  /** Canonical JSON (sorted keys) exactly as hashed. */
  @Column({ type: 'text', nullable: true })
  details: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  requestId: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  userAgent: string | null;

  @Column({ type: 'varchar', length: 64 })
  prevHash: string;

  @Column({ type: 'varchar', length: 64 })
  hash: string;
}

@Entity('audit_chain_head')
export class AuditChainHead {
  @PrimaryColumn({ type: 'int' })
  id: number;

  @Column({ type: 'bigint', transformer: bigintNumber })
  lastEventId: number;

  @Column({ type: 'varchar', length: 64 })
  headHash: string;
}
