import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Role } from 'src/common/roles';
import { booleanValue, commaList } from 'src/database/transformers';

@Entity('users')
export class User {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 64 })
  username: string;

  @Column({ type: 'varchar', length: 100 })
  displayName: string;

  /** argon2id PHC string; never leaves the server. */
  @Column({ type: 'varchar', length: 255, select: false })
  passwordHash: string;

  @Column({ type: 'varchar', length: 200, transformer: commaList })
  roles: Role[];

  @Column({ type: 'varchar', length: 36 })
  departmentId: string;

  @Column({ type: 'boolean', transformer: booleanValue })
  active: boolean;

  /** Sessions begun before this are over (a password change or a deactivation moved it). */
  @Column({ type: 'datetime', precision: 3, nullable: true })
  sessionsValidFrom: Date | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
