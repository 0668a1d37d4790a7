import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from 'src/database/transformers';

export type CheckpointReason = 'periodic' | 'manual';

/**
 * A signed statement of the chain head: "events 1..lastEventId hash to
 * headHash". Taken out of the database (as a file, a printout, an e-mail) it
 * lets anyone with the public key detect a rewritten history, even one whose
 * later hashes were all recomputed.
 */
@Entity('audit_checkpoints')
export class AuditCheckpoint {
  /** Assigned under the chain-head lock, contiguous from 1. */
  @PrimaryColumn({ type: 'bigint', transformer: bigintNumber })
  id: number;

  /** The last event the checkpoint covers; its own `audit.checkpoint_created` event is the next. */
  @Column({ type: 'bigint', transformer: bigintNumber })
  lastEventId: number;

  @Column({ type: 'varchar', length: 64 })
  headHash: string;

  @Column({ type: 'bigint', transformer: bigintNumber })
  count: number;

  /** The statement's `time`, ISO-8601 text exactly as signed. */
  @Column({ type: 'varchar', length: 24 })
  createdAt: string;

  /** Ed25519 over the canonical JSON of the statement, base64. */
  @Column({ type: 'text' })
  signature: string;

  /** SHA-256 (hex) of the signing key's public half, DER SubjectPublicKeyInfo. */
  @Column({ type: 'varchar', length: 64 })
  keyId: string;

  @Column({ type: 'varchar', length: 16 })
  reason: CheckpointReason;
}
