import { Column, Entity, PrimaryColumn } from 'typeorm';
import { jsonText } from 'src/database/transformers';

export type DecisionOutcome = 'approve' | 'reject';

/** One review act (审核意见) on one exact revision. Level 1 is the author's attested submission. */
@Entity('decisions')
export class Decision {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 36 })
  postId: string;

  @Column({ type: 'int' })
  round: number;

  @Column({ type: 'varchar', length: 36 })
  revisionId: string;

  @Column({ type: 'int' })
  revisionNumber: number;

  @Column({ type: 'varchar', length: 64 })
  contentHash: string;

  @Column({ type: 'int' })
  level: 1 | 2 | 3;

  @Column({ type: 'varchar', length: 16 })
  outcome: DecisionOutcome;

  @Column({ type: 'varchar', length: 36 })
  reviewerId: string;

  @Column({ type: 'varchar', length: 200 })
  reviewerRoles: string;

  /** The approver's comment or the reason for a return. */
  @Column({ type: 'text', nullable: true })
  comment: string | null;

  @Column({ type: 'text', nullable: true, transformer: jsonText })
  attestation: Record<string, boolean> | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;
}
