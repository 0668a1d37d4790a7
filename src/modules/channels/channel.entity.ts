import { Column, Entity, PrimaryColumn } from 'typeorm';
import { booleanValue, jsonText } from 'src/database/transformers';

export const PLATFORMS = ['wechat_mp', 'weibo', 'douyin', 'website', 'webhook'] as const;
export type Platform = (typeof PLATFORMS)[number];

@Entity('channels')
export class Channel {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'varchar', length: 16 })
  platform: Platform;

  @Column({ type: 'varchar', length: 36 })
  departmentId: string;

  @Column({ type: 'boolean', transformer: booleanValue })
  acceptsSubmissions: boolean;

  @Column({ type: 'boolean', transformer: booleanValue })
  active: boolean;

  @Column({ type: 'text', transformer: jsonText })
  config: Record<string, unknown>;

  /** AES-256-GCM envelope (see credentials-cipher.ts); never selected unless asked for. */
  @Column({ type: 'text', nullable: true, select: false })
  credentials: string | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
