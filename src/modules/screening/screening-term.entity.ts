import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber, booleanValue } from 'src/database/transformers';
import type { TermLevel } from 'src/modules/screening/matcher';

/** One entry of the sensitive-term dictionary (敏感词库), or an allow-list phrase. */
@Entity('screening_terms')
export class ScreeningTerm {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  /** As the reviewer wrote it; hits report this spelling. */
  @Column({ type: 'varchar', length: 100 })
  term: string;

  /** `normalizeTerm(term)`: what the matcher looks for, and unique. */
  @Column({ type: 'varchar', length: 100 })
  normalizedTerm: string;

  @Column({ type: 'varchar', length: 32 })
  category: string;

  @Column({ type: 'varchar', length: 8 })
  level: TermLevel;

  /** An allow-list phrase: hits lying wholly inside it are not reported. */
  @Column({ type: 'boolean', transformer: booleanValue })
  allow: boolean;

  @Column({ type: 'varchar', length: 36 })
  createdBy: string;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}

/** Row 1 only: the dictionary's version, bumped by every change. */
@Entity('screening_state')
export class ScreeningState {
  @PrimaryColumn({ type: 'int' })
  id: number;

  @Column({ type: 'bigint', transformer: bigintNumber })
  version: number;
}
