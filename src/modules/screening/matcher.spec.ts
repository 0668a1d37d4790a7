import fc from 'fast-check';
import { TermEntry, TermHit, TermLevel, TermMatcher } from 'src/modules/screening/matcher';
import { isNoise, normalizeChar } from 'src/modules/screening/normalize';

const entry = (term: string, overrides: Partial<TermEntry> = {}): TermEntry => ({
  term,
  category: 'politics',
  level: 'block',
  ...overrides,
});

const matcherOf = (...entries: Array<string | TermEntry>): TermMatcher =>
  TermMatcher.build(entries.map((e) => (typeof e === 'string' ? entry(e) : e)));

/** What a reviewer sees highlighted: the original text between start and end. */
const surfaces = (matcher: TermMatcher, text: string): Array<[string, string]> =>
  matcher.match(text).map((h) => [h.term, text.slice(h.start, h.end)]);

describe('TermMatcher', () => {
  it('reports term, category, level and exact offsets', () => {
    const m = TermMatcher.build([entry('法轮功', { category: 'cult', level: 'warn' })]);
    expect(m.match('关于法轮功的报道')).toEqual([
      { term: '法轮功', category: 'cult', level: 'warn', start: 2, end: 5 },
    ]);
  });

  it('matches full-width and upper-case forms of an ASCII term', () => {
    expect(surfaces(matcherOf('flg'), '看到ＦＬＧ和Flg')).toEqual([
      ['flg', 'ＦＬＧ'],
      ['flg', 'Flg'],
    ]);
    expect(surfaces(matcherOf('VPN'), 'vpn')).toEqual([['VPN', 'vpn']]);
  });

  it('matches traditional text against a simplified term, and the other way round', () => {
    expect(surfaces(matcherOf('法轮功'), '法輪功')).toEqual([['法轮功', '法輪功']]);
    expect(surfaces(matcherOf('臺獨'), '反对台独')).toEqual([['臺獨', '台独']]);
  });

  it('sees through spaces, symbols and zero-width characters between characters', () => {
    const m = matcherOf('法轮功');
    for (const text of [
      '法*轮 功',
      '法\u200b轮功',
      '法，轮。功',
      '法\u2060轮\ufeff功',
      '法😀轮功',
      '法\n轮\t功',
    ]) {
      expect(surfaces(m, `前${text}后`)).toEqual([['法轮功', text]]);
    }
  });

  it('does not stretch a hit over noise before or after it', () => {
    expect(matcherOf('法轮功').match('  法轮功！！')).toEqual([
      expect.objectContaining({ start: 2, end: 5 }),
    ]);
  });

  it('matches terms that contain noise themselves', () => {
    expect(surfaces(matcherOf('法 轮-功'), '法轮功')).toEqual([['法 轮-功', '法轮功']]);
  });

  it('lets an unrelated character break a match', () => {
    expect(matcherOf('法轮功').match('法轮大功')).toEqual([]);
  });

  it('reports overlapping and nested terms', () => {
    expect(surfaces(matcherOf('中国', '国人'), '中国人')).toEqual([
      ['中国', '中国'],
      ['国人', '国人'],
    ]);
    expect(surfaces(matcherOf('法轮功', '轮功', '法轮'), '法轮功')).toEqual([
      ['法轮', '法轮'],
      ['法轮功', '法轮功'],
      ['轮功', '轮功'],
    ]);
  });

  it('reports every occurrence, adjacent or repeated', () => {
    expect(
      matcherOf('aa')
        .match('aaaa')
        .map((h) => [h.start, h.end]),
    ).toEqual([
      [0, 2],
      [1, 3],
      [2, 4],
    ]);
  });

  it('reports one hit per span when entries normalise alike, the most severe winning', () => {
    const m = TermMatcher.build([
      entry('法轮功', { level: 'warn', category: 'a' }),
      entry('法輪功', { level: 'block', category: 'b' }),
      entry('法轮功', { level: 'block', category: 'c' }),
    ]);
    expect(m.match('法轮功')).toEqual([
      { term: '法輪功', category: 'b', level: 'block', start: 0, end: 3 },
    ]);
    expect(m.stats.terms).toBe(1);
  });

  it('suppresses hits inside an allow-listed phrase', () => {
    const m = TermMatcher.build([entry('东突'), entry('广东突发', { allow: true })]);
    expect(m.match('广东突发暴雨')).toEqual([]);
    expect(m.match('广 东 突 发')).toEqual([]);
    expect(surfaces(m, '东突组织，广东突发暴雨')).toEqual([['东突', '东突']]);
  });

  it('keeps a hit that only partly overlaps an allow-listed phrase', () => {
    const m = TermMatcher.build([entry('发暴'), entry('突发', { allow: true })]);
    expect(surfaces(m, '突发暴雨')).toEqual([['发暴', '发暴']]);
  });

  it('does not report allow-list phrases themselves', () => {
    const m = TermMatcher.build([entry('广东突发', { allow: true })]);
    expect(m.match('广东突发')).toEqual([]);
  });

  it('matches nothing with an empty dictionary', () => {
    const m = TermMatcher.build([]);
    expect(m.match('法轮功 anything')).toEqual([]);
    expect(m.matchFields({ title: '法轮功', body: 'x' })).toEqual([]);
    expect(TermMatcher.empty().match('')).toEqual([]);
  });

  it('skips terms that are nothing but noise', () => {
    const m = TermMatcher.build([entry(' *** '), entry('ok')]);
    expect(m.stats.skipped).toBe(1);
    expect(m.match('*** ok')).toHaveLength(1);
  });

  it('keeps offsets right around emoji and other astral characters', () => {
    const m = matcherOf('法轮功', '𠀀𠀁');
    const text = '😀😀法轮功👍🏽𠀀😀𠀁';
    expect(surfaces(m, text)).toEqual([
      ['法轮功', '法轮功'],
      ['𠀀𠀁', '𠀀😀𠀁'],
    ]);
    expect(m.match(text).map((h) => [h.start, h.end])).toEqual([
      [4, 7],
      [11, 17],
    ]);
  });

  it('survives lone surrogates', () => {
    const m = matcherOf('ab');
    expect(surfaces(m, '\udc00ab\ud800')).toEqual([['ab', 'ab']]);
    expect(surfaces(m, '\ud800ab\udc00')).toEqual([['ab', 'ab']]);
    // An unpaired surrogate is a character, not noise.
    expect(m.match('a\ud800b')).toEqual([]);
  });

  it('tags hits with their field', () => {
    const m = matcherOf('法轮功', '东突');
    expect(
      m
        .matchFields({ title: '法轮功', summary: null, body: '东突和法轮功' })
        .map((h) => [h.field, h.term, h.start]),
    ).toEqual([
      ['title', '法轮功', 0],
      ['body', '东突', 0],
      ['body', '法轮功', 3],
    ]);
  });

  it('is immutable', () => {
    const m = matcherOf('法轮功');
    expect(Object.isFrozen(m)).toBe(true);
    expect(() => {
      (m as unknown as { stats: unknown }).stats = null;
    }).toThrow(TypeError);
  });

  it('builds a 20,000-term dictionary quickly', () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const entries: TermEntry[] = [];
    for (let i = 0; i < 20_000; i++) {
      let term = '';
      const len = 2 + rand(5);
      for (let j = 0; j < len; j++) term += String.fromCharCode(0x4e00 + rand(3000));
      entries.push(entry(term));
    }
    const started = performance.now();
    const m = TermMatcher.build(entries);
    const ms = performance.now() - started;
    expect(ms).toBeLessThan(2000);
    expect(m.match(`前${entries[123].term}后`)).toEqual([
      expect.objectContaining({ term: entries[123].term }),
    ]);
  });
});

/** Non-noise code points of s, normalised, with their UTF-16 spans. */
function codePoints(s: string): Array<{ n: number; start: number; end: number }> {
  const out: Array<{ n: number; start: number; end: number }> = [];
  for (let i = 0; i < s.length;) {
    const cp = s.codePointAt(i) as number;
    const width = cp > 0xffff ? 2 : 1;
    if (!isNoise(cp)) out.push({ n: normalizeChar(cp), start: i, end: i + width });
    i += width;
  }
  return out;
}

/** The contract, brute force: normalise, drop noise, compare at every position. */
function naiveMatch(entries: TermEntry[], text: string): TermHit[] {
  const chars = codePoints(text);
  // Keyed by code-point list rather than string: two stray surrogate halves that noise
  // kept apart in a term must not fuse into one astral character.
  const patterns = new Map<string, { want: number[]; entry?: TermEntry; allow: boolean }>();
  for (const e of entries) {
    const want = codePoints(e.term).map((c) => c.n);
    if (want.length === 0) continue;
    const p = patterns.get(want.join()) ?? { want, allow: false };
    patterns.set(want.join(), p);
    if (e.allow) p.allow = true;
    else if (!p.entry || (e.level === 'block' && p.entry.level !== 'block')) p.entry = e;
  }
  const hits: TermHit[] = [];
  const allowed: Array<[number, number]> = [];
  for (const { want, ...p } of patterns.values()) {
    for (let i = 0; i + want.length <= chars.length; i++) {
      if (!want.every((w, j) => chars[i + j].n === w)) continue;
      const start = chars[i].start;
      const end = chars[i + want.length - 1].end;
      if (p.allow) allowed.push([start, end]);
      if (p.entry) {
        const { term, category, level } = p.entry;
        hits.push({ term, category, level, start, end });
      }
    }
  }
  return hits
    .filter((h) => !allowed.some(([s, e]) => s <= h.start && h.end <= e))
    .sort(
      (x, y) =>
        x.start - y.start || x.end - y.end || (x.term < y.term ? -1 : x.term > y.term ? 1 : 0),
    );
}

describe('TermMatcher against a brute-force reference', () => {
  // Small alphabet so that terms actually occur: case, widths, traditional forms, noise,
  // astral characters, a combining mark and stray surrogate halves.
  const alphabet = [
    ...'aAａbＢ法輪轮功中国國人é *，',
    ...['\u200b', '\u0301', '😀', '𠀀', '\ud800', '\udc00'],
  ];
  const text = (max: number) =>
    fc.array(fc.constantFrom(...alphabet), { maxLength: max }).map((cs) => cs.join(''));
  const level = fc.constantFrom<TermLevel>('block', 'warn');
  // Terms are random or cut from the text itself (so that plenty of runs have hits),
  // possibly through a surrogate pair.
  const caseOf = (input: string) =>
    fc.tuple(
      fc.constant(input),
      fc.array(
        fc.record({
          term: fc.oneof(
            text(4),
            fc
              .tuple(fc.nat(input.length), fc.integer({ min: 1, max: 5 }))
              .map(([at, len]) => input.slice(at, at + len)),
          ),
          category: fc.constantFrom('x', 'y'),
          level,
          allow: fc.constantFrom(false, false, false, true),
        }),
        { maxLength: 8 },
      ),
    );

  it('finds exactly the hits the reference finds', () => {
    fc.assert(
      fc.property(text(40).chain(caseOf), ([input, dict]) => {
        expect(TermMatcher.build(dict).match(input)).toEqual(naiveMatch(dict, input));
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees on larger dictionaries, where the double array has to pack many siblings', () => {
    const char = fc.oneof(
      fc.constantFrom(...alphabet),
      fc.integer({ min: 0x4e00, max: 0x4e00 + 60 }).map((cp) => String.fromCharCode(cp)),
    );
    const str = (min: number, max: number) =>
      fc.array(char, { minLength: min, maxLength: max }).map((cs) => cs.join(''));
    const big = str(200, 600).chain((input) =>
      fc.tuple(
        fc.constant(input),
        fc.array(
          fc.record({
            term: fc.oneof(
              str(1, 4),
              fc.nat(input.length).map((at) => input.slice(at, at + 2 + (at % 4))),
            ),
            category: fc.constant('x'),
            level,
            allow: fc.constantFrom(false, false, false, false, true),
          }),
          { minLength: 50, maxLength: 300 },
        ),
      ),
    );
    fc.assert(
      fc.property(big, ([input, dict]) => {
        expect(TermMatcher.build(dict).match(input)).toEqual(naiveMatch(dict, input));
      }),
      { numRuns: 150 },
    );
  });
});
