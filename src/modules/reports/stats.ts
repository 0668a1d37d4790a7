import { fromDbTime } from 'src/database/sql';
/**
 * The p-th percentile (0–100) of the values by linear interpolation between the
 * closest ranks (the spreadsheet PERCENTILE.INC rule): the median of an even count is
 * the mean of the middle two. Null when there are no values.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** Seconds to the millisecond, the precision the database keeps. */
export function roundSeconds(s: number | null): number | null {
  return s === null ? null : Math.round(s * 1000) / 1000;
}

export interface Tally {
  key: string;
  count: number;
}

/** Counts of each key, most frequent first, ties in code-point order of the key. */
export function tally(keys: Iterable<string>, limit = Infinity): Tally[] {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts]
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .slice(0, limit);
}

/** A datetime column as the drivers return it: a Date (mysql2) or UTC text (SQLite). */
export const dbTime = fromDbTime;

export function isoTime(v: Date | string | null | undefined): string | null {
  return dbTime(v)?.toISOString() ?? null;
}
