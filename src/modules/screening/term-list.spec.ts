import { parseTermList, termProblem } from 'src/modules/screening/term-list';

describe('parseTermList', () => {
  it('reads term[,category[,level]] lines with defaults, skipping blanks and comments', () => {
    const list = parseTermList(
      '\uFEFF# 词库\n\n甲乙\n丙丁,political\r\n戊己,vulgar,warn\n庚辛，ads，WARN\n壬癸,,allow\n',
    );
    expect(list.errors).toEqual([]);
    expect(list.terms.map((t) => [t.line, t.term, t.category, t.level, t.allow])).toEqual([
      [3, '甲乙', 'general', 'block', false],
      [4, '丙丁', 'political', 'block', false],
      [5, '戊己', 'vulgar', 'warn', false],
      [6, '庚辛', 'ads', 'warn', false],
      [7, '壬癸', 'general', 'block', true],
    ]);
  });

  it('reports bad lines by number and keeps the good ones', () => {
    const list = parseTermList(
      ['好词', ' ,x', '*** ', '坏词,bad category', '坏词2,c,stop', 'a,b,c,d', 'x'.repeat(101)].join(
        '\n',
      ),
    );
    expect(list.terms.map((t) => t.term)).toEqual(['好词']);
    expect(list.errors.map((e) => e.line)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(list.errors[0].reason).toMatch(/empty/);
    expect(list.errors[1].reason).toMatch(/nothing to match/);
    expect(list.errors[2].reason).toMatch(/category/);
    expect(list.errors[3].reason).toMatch(/level/);
    expect(list.errors[4].reason).toMatch(/too many fields/);
    expect(list.errors[5].reason).toMatch(/longer than 100/);
  });

  it('collapses terms that normalise alike: repeats are counted, conflicts reported', () => {
    const list = parseTermList('法轮功\n法 輪 功\nＦＡＬＵＮ\nfalun,general,warn\n');
    expect(list.terms.map((t) => t.normalizedTerm)).toEqual(['法轮功', 'falun']);
    expect(list.repeated).toBe(1);
    expect(list.errors).toEqual([
      { line: 4, reason: expect.stringMatching(/same term as line 3/) },
    ]);
  });
});

describe('termProblem', () => {
  it('accepts a term with something to match and refuses one without', () => {
    expect(termProblem('敏感')).toBeNull();
    expect(termProblem('…！')).toMatch(/nothing to match/);
    expect(termProblem('a\u0000b')).toMatch(/control/);
  });
});
