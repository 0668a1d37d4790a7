import { dbTime, percentile, roundSeconds, tally } from 'src/modules/reports/stats';

describe('percentile', () => {
  it('interpolates between the closest ranks', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([7], 90)).toBe(7);
    expect(percentile([4, 1, 3, 2], 50)).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBeCloseTo(9.1, 10);
    expect(percentile([10, 20], 0)).toBe(10);
    expect(percentile([10, 20], 100)).toBe(20);
  });

  it('rounds seconds to the millisecond', () => {
    expect(roundSeconds(1.23456)).toBe(1.235);
    expect(roundSeconds(null)).toBeNull();
  });
});

describe('tally', () => {
  it('counts, most frequent first, ties in code-point order, cut to the limit', () => {
    expect(tally(['b', 'a', 'b', 'c', 'a', 'b', '标题'], 3)).toEqual([
      { key: 'b', count: 3 },
      { key: 'a', count: 2 },
      { key: 'c', count: 1 },
    ]);
  });
});

describe('dbTime', () => {
  it('reads a datetime as either driver returns it', () => {
    const at = new Date('2026-11-21T08:30:00.123Z');
    expect(dbTime(at)).toBe(at);
    expect(dbTime('2026-11-21 08:30:00.123')).toEqual(at);
    expect(dbTime('2026-11-21T08:30:00.123Z')).toEqual(at);
    expect(dbTime(null)).toBeNull();
  });
});
