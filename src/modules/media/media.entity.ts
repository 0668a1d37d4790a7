import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One stored image, named by the SHA-256 of its stored bytes: the same picture uploaded twice is
 * one row, and a digest in an approved revision names exactly the bytes that were approved.
 */
@Entity('media')
export class Media {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  sha256: string;

  @Column({ type: 'varchar', length: 32 })
  mimeType: string;

  /** png, jpg, gif or webp: the extension of its URL. */
  @Column({ type: 'varchar', length: 8 })
  ext: string;

  @Column({ type: 'int' })
  bytes: number;

  @Column({ type: 'int', nullable: true })
  width: number | null;

  @Column({ type: 'int', nullable: true })
  height: number | null;

  /** Where it was first imported from; null for an upload. Kept for reviewers and auditors. */
  @Column({ type: 'varchar', length: 2048, nullable: true })
  sourceUrl: string | null;

  @Column({ type: 'varchar', length: 36 })
  createdBy: string;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;
}
