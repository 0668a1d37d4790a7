import { Column, Entity, PrimaryColumn } from 'typeorm';
import { jsonText } from 'src/database/transformers';
import type { PostState } from 'src/modules/posts/post-state-machine';

@Entity('posts')
export class Post {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 36 })
  authorId: string;

  @Column({ type: 'varchar', length: 36 })
  departmentId: string;

  /** Written only through the guarded transition in ReviewService / PostsService. */
  @Column({ type: 'varchar', length: 32 })
  state: PostState;

  /** Increases on every change; the guarded UPDATE compares it. */
  @Column({ type: 'int' })
  version: number;

  /** Which submission this is (1 for the first); decisions carry it, so a resubmission starts afresh. */
  @Column({ type: 'int' })
  round: number;

  @Column({ type: 'varchar', length: 36, nullable: true })
  currentRevisionId: string | null;

  @Column({ type: 'int' })
  currentRevisionNumber: number;

  @Column({ type: 'varchar', length: 64 })
  title: string;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  publishAt: Date | null;

  /** The level-2 approver of the current round: the level-3 reviewer must be someone else. */
  @Column({ type: 'varchar', length: 36, nullable: true })
  deptApproverId: string | null;

  /** When the post entered its current state: the inbox's waiting time. */
  @Column({ type: 'datetime', precision: 3 })
  stateChangedAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}

/** An immutable snapshot of a post's content. Never updated after insert. */
@Entity('post_revisions')
export class PostRevision {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 36 })
  postId: string;

  @Column({ type: 'int' })
  number: number;

  @Column({ type: 'varchar', length: 64 })
  title: string;

  @Column({ type: 'varchar', length: 120, nullable: true })
  summary: string | null;

  /** Sanitised HTML. */
  @Column({ type: 'text' })
  body: string;

  @Column({ type: 'varchar', length: 1024, nullable: true })
  coverImageUrl: string | null;

  @Column({ type: 'text', transformer: jsonText })
  channelIds: string[];

  @Column({ type: 'datetime', precision: 3, nullable: true })
  publishAt: Date | null;

  @Column({ type: 'varchar', length: 64 })
  contentHash: string;

  @Column({ type: 'varchar', length: 36 })
  createdBy: string;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;
}

@Entity('post_channels')
export class PostChannel {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  postId: string;

  @PrimaryColumn({ type: 'varchar', length: 36 })
  channelId: string;
}
