/** Small figures shared by the benchmarks: rounding, percentiles, rates. */

export const round = (n: number, d = 2): number => Math.round(n * 10 ** d) / 10 ** d;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Nearest-rank percentile of an ascending array (0 when empty). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export interface LatencySummary {
  p50ms: number;
  p95ms: number;
  p99ms: number;
  maxMs: number;
}

/** p50/p95/p99/max of latencies in ms (sorts the array in place). */
export function summarize(latencies: number[]): LatencySummary {
  latencies.sort((a, b) => a - b);
  return {
    p50ms: round(percentile(latencies, 50)),
    p95ms: round(percentile(latencies, 95)),
    p99ms: round(percentile(latencies, 99)),
    maxMs: round(latencies[latencies.length - 1] ?? 0),
  };
}

/** Events per second, one decimal; 0 for an empty window. */
export const perSecond = (n: number, seconds: number): number =>
  seconds > 0 ? round(n / seconds, 1) : 0;

/** `total / n` rounded, or null when nothing was done or the total is unknown. */
export const per = (total: number | null, n: number, d = 2): number | null =>
  total === null || n <= 0 ? null : round(total / n, d);

/** Integer environment knob with a default and a lower bound. */
export function intEnv(name: string, dflt: number, min = 0): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}`);
  return n;
}

/** Non-negative number knob (seconds may be fractional). */
export function numberEnv(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number`);
  return n;
}

/** Comma list of integers >= 1, e.g. "1,8,32". */
export function listEnv(name: string, dflt: string): number[] {
  return (process.env[name] || dflt).split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: comma list of integers >= 1`);
    return n;
  });
}
