import type { EntityManager, SelectQueryBuilder } from 'typeorm';
import { likeContains } from 'src/common/like';

/**
 * Text search over the current revision's title and summary, the same on SQLite
 * and MySQL/MariaDB.
 *
 * What matches: `q` as a literal substring of the title or of the summary, both
 * sides compared after `toLowerCase()` (case-insensitive for Latin, exact for CJK,
 * `%` and `_` literal). `post_search_docs` holds that lowered text per post and
 * is the final check (`LIKE` under a binary collation).
 *
 * How it is found: `post_search_grams(gram, createdAt, postId)` holds every
 * character and every pair of adjacent characters of the lowered text (CJK has no
 * word boundaries, so n-grams rather than words). Each gram's rows are a posting
 * list already in the posts' list order, so a page walks the rarest gram of the
 * query newest first, probes the query's other grams by primary key, checks the
 * text, and stops after a page: it never collects and sorts every match.
 * Queries of one character walk that character's list; longer ones a bigram's.
 * The rows copy the post's createdAt, which nothing changes after creation.
 */

const fold = (s: string) => s.toLowerCase();

/** The distinct index keys of one text: each character and each adjacent pair. */
export function gramsOf(text: string): string[] {
  const cps = Array.from(fold(text));
  const out = new Set<string>(cps);
  for (let i = 0; i + 1 < cps.length; i++) out.add(cps[i] + cps[i + 1]);
  return [...out];
}

const textGrams = (title: string, summary: string | null) =>
  new Set([...gramsOf(title), ...(summary ? gramsOf(summary) : [])]);

export interface PostText {
  postId: string;
  title: string;
  summary: string | null;
}

/**
 * Replaces the search rows of these posts (which must exist) with their given
 * text. Run it in the transaction that writes the revision, so the index never
 * shows another revision than the post's current one.
 */
export async function indexPostTexts(m: EntityManager, posts: PostText[]): Promise<void> {
  if (!posts.length) return;
  const ids = posts.map((p) => p.postId);
  const marks = ids.map(() => '?').join(', ');
  // Raw values, written back as they were read: the gram rows carry the post's sort key exactly.
  const created = new Map(
    (
      (await m.query(`SELECT id, createdAt FROM posts WHERE id IN (${marks})`, ids)) as {
        id: string;
        createdAt: unknown;
      }[]
    ).map((r) => [r.id, r.createdAt]),
  );
  const old = (await m.query(
    `SELECT postId, title, summary FROM post_search_docs WHERE postId IN (${marks})`,
    ids,
  )) as PostText[];
  for (const o of old) {
    // The old rows are found from the old text, by primary key: no second index on postId.
    const grams = [...textGrams(o.title, o.summary)];
    for (let i = 0; i < grams.length; i += 500) {
      const part = grams.slice(i, i + 500);
      await m.query(
        `DELETE FROM post_search_grams WHERE postId = ? AND createdAt = ? AND gram IN (${part.map(() => '?').join(', ')})`,
        [o.postId, created.get(o.postId), ...part],
      );
    }
  }
  if (old.length) await m.query(`DELETE FROM post_search_docs WHERE postId IN (${marks})`, ids);
  await insertRows(
    m,
    'post_search_docs',
    ['postId', 'title', 'summary'],
    posts.map((p) => [p.postId, fold(p.title), p.summary === null ? null : fold(p.summary)]),
  );
  const rows: unknown[][] = [];
  for (const p of posts) {
    for (const g of textGrams(p.title, p.summary)) rows.push([g, created.get(p.postId), p.postId]);
  }
  await insertRows(m, 'post_search_grams', ['gram', 'createdAt', 'postId'], rows);
}

/** One post's search rows, replaced; see indexPostTexts. */
export function indexPostText(
  m: EntityManager,
  postId: string,
  title: string,
  summary: string | null,
): Promise<void> {
  return indexPostTexts(m, [{ postId, title, summary }]);
}

async function insertRows(
  m: EntityManager,
  table: string,
  columns: string[],
  rows: unknown[][],
): Promise<void> {
  // Well below SQLite's and MySQL's limits on bound parameters per statement.
  const per = Math.floor(3000 / columns.length);
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += per) {
    const chunk = rows.slice(i, i + per);
    await m.query(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${chunk.map(() => tuple).join(', ')}`,
      chunk.flat(),
    );
  }
}

/** A query's grams, the one to walk first, and the literal check. */
export interface TextPlan {
  /** The rarest gram (its posting list is walked); '' when some gram has no posts at all. */
  walk: string;
  /** Further grams probed per walked row (a few: the LIKE check settles the rest). */
  probe: string[];
  like: string;
}

const COUNT_CAP = 2000;
const MAX_COUNTED = 8;
const MAX_PROBED = 4;

/** Picks the rarest of (up to 8 of) the query's grams, counting each only up to COUNT_CAP rows. */
export async function planTextSearch(m: EntityManager, q: string): Promise<TextPlan> {
  const folded = fold(q);
  const cps = Array.from(folded);
  const all = cps.length === 1 ? cps : [...new Set(cps.slice(1).map((c, i) => cps[i] + c))];
  // Spread over the query rather than its start, so a long query is still narrowed everywhere.
  const step = Math.max(1, all.length / MAX_COUNTED);
  const grams = [
    ...new Set(
      Array.from(
        { length: Math.min(all.length, MAX_COUNTED) },
        (_, i) => all[Math.floor(i * step)],
      ),
    ),
  ];
  const counts = (await m.query(
    grams
      .map(
        (_, i) =>
          `SELECT ${i} AS i, COUNT(*) AS n FROM (SELECT 1 AS x FROM post_search_grams WHERE gram = ? LIMIT ${COUNT_CAP}) t${i}`,
      )
      .join(' UNION ALL '),
    grams,
  )) as { i: number | string; n: number | string }[];
  const n = new Map(counts.map((r) => [Number(r.i), Number(r.n)]));
  const ranked = grams.map((g, i) => ({ g, n: n.get(i) ?? 0 })).sort((a, b) => a.n - b.n);
  return {
    walk: ranked[0].n === 0 ? '' : ranked[0].g,
    probe: ranked.slice(1, 1 + MAX_PROBED).map((r) => r.g),
    like: likeContains(folded),
  };
}

/**
 * Narrows `qb` (posts as `p`) to posts matching the plan, joined to the walked
 * gram's rows as `g0`: order by `g0.createdAt`, `g0.postId` to walk the list.
 */
export function whereTextMatches<T extends object>(
  qb: SelectQueryBuilder<T>,
  plan: TextPlan,
): SelectQueryBuilder<T> {
  qb.innerJoin('post_search_grams', 'g0', 'g0.postId = p.id AND g0.createdAt = p.createdAt')
    .innerJoin('post_search_docs', 'sd', 'sd.postId = p.id')
    .andWhere('g0.gram = :sWalk', { sWalk: plan.walk })
    .andWhere("(sd.title LIKE :sLike ESCAPE '!' OR sd.summary LIKE :sLike ESCAPE '!')", {
      sLike: plan.like,
    });
  plan.probe.forEach((g, i) => {
    qb.andWhere(
      `EXISTS (SELECT 1 FROM post_search_grams g${i + 1} WHERE g${i + 1}.gram = :sProbe${i} AND g${i + 1}.createdAt = g0.createdAt AND g${i + 1}.postId = g0.postId)`,
      { [`sProbe${i}`]: g },
    );
  });
  return qb;
}
