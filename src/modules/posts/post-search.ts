import type { EntityManager, SelectQueryBuilder } from 'typeorm';
import { likeContains } from 'src/common/like';

/**
 * Text search over the current revision's title and summary.
 *
 * What matches: `q` as a literal substring of the title or the summary, compared
 * after `toLowerCase()` on both sides (so case-insensitive for Latin, exact for CJK).
 * `post_search_docs` holds that lowered text per post and is the final check
 * (`LIKE`, binary collation); the indexes below only narrow the candidates and
 * always find a superset of it:
 *
 * - `post_search_grams(gram, postId)`: every bigram of the lowered text, plus the
 *   last character alone, on both databases. A query of two or more characters
 *   needs all of its bigrams; a query of one character is a prefix range on `gram`.
 * - SQLite only, `post_search_fts`: FTS5 with the trigram tokenizer, used for
 *   queries of three or more characters (more selective than bigrams).
 *
 * CJK has no word boundaries, hence n-grams rather than words.
 */

type Db = 'mysql' | 'sqlite';

const dbOf = (m: EntityManager): Db =>
  m.connection.driver.options.type === 'mysql' ? 'mysql' : 'sqlite';

const fold = (s: string) => s.toLowerCase();

/** The distinct index keys of one text: its bigrams and its last character. */
export function gramsOf(text: string): string[] {
  const cps = Array.from(fold(text));
  const out = new Set<string>();
  for (let i = 0; i + 1 < cps.length; i++) out.add(cps[i] + cps[i + 1]);
  if (cps.length) out.add(cps[cps.length - 1]);
  return [...out];
}

export interface PostText {
  postId: string;
  title: string;
  summary: string | null;
}

/**
 * Replaces the search rows of these posts with their given text. Run it in the
 * transaction that writes the revision, so the index never shows another revision.
 */
export async function indexPostTexts(m: EntityManager, posts: PostText[]): Promise<void> {
  if (!posts.length) return;
  const db = dbOf(m);
  const ids = posts.map((p) => p.postId);
  const marks = ids.map(() => '?').join(', ');
  await m.query(`DELETE FROM post_search_grams WHERE postId IN (${marks})`, ids);
  if (db === 'sqlite') {
    const old = (await m.query(
      `SELECT docId FROM post_search_docs WHERE postId IN (${marks})`,
      ids,
    )) as { docId: number }[];
    if (old.length) {
      const docIds = old.map((o) => o.docId);
      await m.query(
        `DELETE FROM post_search_fts WHERE rowid IN (${docIds.map(() => '?').join(', ')})`,
        docIds,
      );
    }
  }
  await m.query(`DELETE FROM post_search_docs WHERE postId IN (${marks})`, ids);

  const docs = posts.map((p) => [
    p.postId,
    fold(p.title),
    p.summary === null ? null : fold(p.summary),
  ]);
  await insertRows(m, 'post_search_docs', ['postId', 'title', 'summary'], docs);
  if (db === 'sqlite') {
    await m.query(
      `INSERT INTO post_search_fts (rowid, title, summary)
       SELECT docId, title, summary FROM post_search_docs WHERE postId IN (${marks})`,
      ids,
    );
  }
  const grams: [string, string][] = [];
  for (const p of posts) {
    const set = new Set([...gramsOf(p.title), ...(p.summary ? gramsOf(p.summary) : [])]);
    for (const g of set) grams.push([g, p.postId]);
  }
  await insertRows(m, 'post_search_grams', ['gram', 'postId'], grams);
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
  const per = Math.floor(4000 / columns.length);
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += per) {
    const chunk = rows.slice(i, i + per);
    await m.query(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${chunk.map(() => tuple).join(', ')}`,
      chunk.flat(),
    );
  }
}

/**
 * Narrows `qb` (posts as `alias`) to posts whose current title or summary contains
 * `q`. Joins a derived table of matching post ids; each branch reads the search
 * index, never the whole posts table.
 */
export function whereTextMatches<T extends object>(
  qb: SelectQueryBuilder<T>,
  q: string,
  alias = 'p',
): SelectQueryBuilder<T> {
  const db: Db = qb.connection.driver.options.type === 'mysql' ? 'mysql' : 'sqlite';
  const folded = fold(q);
  const cps = Array.from(folded);
  const like = "(sd.title LIKE :sLike ESCAPE '!' OR sd.summary LIKE :sLike ESCAPE '!')";
  let candidates: string;
  const params: Record<string, unknown> = { sLike: likeContains(folded) };
  if (db === 'sqlite' && cps.length >= 3) {
    candidates = `sd.docId IN (SELECT rowid FROM post_search_fts WHERE post_search_fts MATCH :sFts)`;
    params.sFts = `"${folded.replace(/"/g, '""')}"`;
  } else if (cps.length >= 2) {
    const grams = [...new Set(cps.slice(1).map((c, i) => cps[i] + c))];
    candidates = `sd.postId IN (SELECT g.postId FROM post_search_grams g WHERE g.gram IN (:...sGrams) GROUP BY g.postId HAVING COUNT(*) = ${grams.length})`;
    params.sGrams = grams;
  } else {
    // One character: every gram that starts with it (bigrams, and the last character alone).
    candidates = `sd.postId IN (SELECT g.postId FROM post_search_grams g WHERE g.gram >= :sLo AND g.gram <= :sHi)`;
    params.sLo = folded;
    params.sHi = `${folded}\u{10FFFF}`;
  }
  return qb
    .innerJoin(
      (sub) =>
        sub
          .select('sd.postId', 'postId')
          .from('post_search_docs', 'sd')
          .where(candidates)
          .andWhere(like),
      'sm',
      `sm.postId = ${alias}.id`,
    )
    .setParameters(params);
}
