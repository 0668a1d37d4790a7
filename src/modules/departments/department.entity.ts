import { Column, Entity, PrimaryColumn } from 'typeorm';
import { booleanValue } from 'src/database/transformers';

@Entity('departments')
export class Department {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'varchar', length: 32 })
  code: string;

  @Column({ type: 'boolean', transformer: booleanValue })
  isPropaganda: boolean;

  @Column({ type: 'boolean', transformer: booleanValue })
  active: boolean;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
