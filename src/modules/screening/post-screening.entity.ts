import { Column, Entity, In, PrimaryColumn, type EntityManager } from 'typeorm';
import { jsonText } from 'src/database/transformers';
import { fromDbTime } from 'src/database/sql';
import type { FieldHit } from 'src/modules/screening/matcher';

/** The screening of one submission (一审): the warnings it passed with. */
@Entity('post_screenings')
export class PostScreening {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 36 })
  postId: string;

  /** The post's round this submission opened; one screening per round. */
  @Column({ type: 'int' })
  round: number;

  @Column({ type: 'varchar', length: 36 })
  revisionId: string;

  /** The level-1 decision (the submission) this screening belongs to. */
  @Column({ type: 'varchar', length: 36 })
  decisionId: string;

  /** Every hit found; `hits` keeps at most MAX_STORED_HITS of them. */
  @Column({ type: 'int' })
  hitCount: number;

  @Column({ type: 'text', transformer: jsonText })
  hits: FieldHit[];

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;
}

export interface ScreeningView {
  revisionId: string;
  round: number;
  /** Warnings only: a blocking hit refuses the submission, so none is ever stored. */
  hits: FieldHit[];
  hitCount: number;
  checkedAt: Date;
}

export function toScreeningView(s: PostScreening): ScreeningView {
  return {
    revisionId: s.revisionId,
    round: s.round,
    hits: s.hits,
    hitCount: s.hitCount,
    checkedAt: s.createdAt,
  };
}

/** The screening of each post's latest submission (highest round), in one query. */
export async function latestScreenings(
  m: EntityManager,
  postIds: readonly string[],
): Promise<Map<string, ScreeningView>> {
  const out = new Map<string, ScreeningView>();
  if (postIds.length === 0) return out;
  const rows = await m.find(PostScreening, { where: { postId: In([...new Set(postIds)]) } });
  const latest = new Map<string, PostScreening>();
  for (const r of rows) {
    const held = latest.get(r.postId);
    if (!held || r.round > held.round) latest.set(r.postId, r);
  }
  for (const [postId, r] of latest) out.set(postId, toScreeningView(r));
  return out;
}

/** The screening of the post's latest submission, or null before its first. */
export async function latestScreening(
  m: EntityManager,
  postId: string,
): Promise<ScreeningView | null> {
  // Plain SQL: this read is on every decision's path.
  const [row] = (await m.query(
    'SELECT revisionId, round, hits, hitCount, createdAt FROM post_screenings WHERE postId = ? ORDER BY round DESC LIMIT 1',
    [postId],
  )) as {
    revisionId: string;
    round: number | string;
    hits: string;
    hitCount: number | string;
    createdAt: Date | string;
  }[];
  if (!row) return null;
  return {
    revisionId: row.revisionId,
    round: Number(row.round),
    hits: JSON.parse(row.hits) as FieldHit[],
    hitCount: Number(row.hitCount),
    checkedAt: fromDbTime(row.createdAt)!,
  };
}
