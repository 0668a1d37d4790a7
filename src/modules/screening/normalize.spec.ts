import { isNoise, normalizeChar, normalizeTerm } from 'src/modules/screening/normalize';

const cp = (ch: string): number => ch.codePointAt(0) as number;
const norm = (ch: string): string => String.fromCodePoint(normalizeChar(cp(ch)));

describe('normalizeChar', () => {
  it('folds full-width ASCII to half-width and lower case', () => {
    expect(norm('Ｆ')).toBe('f');
    expect(norm('ｇ')).toBe('g');
    expect(norm('９')).toBe('9');
    expect(normalizeTerm('ＦＬＧ')).toBe('flg');
    expect(normalizeChar(0x3000)).toBe(0x20);
  });

  it('folds letter case', () => {
    expect(normalizeTerm('VPN FanQiang')).toBe('vpnfanqiang');
    expect(norm('Ä')).toBe('ä');
    expect(norm('Σ')).toBe('σ');
  });

  it('keeps a character whose lower case would be longer', () => {
    // U+0130 lowers to "i̇" (two code points); offsets would drift if that were allowed.
    expect(normalizeChar(0x130)).toBe(0x130);
  });

  it('maps traditional characters to simplified, one character at a time', () => {
    expect(normalizeTerm('法輪功')).toBe('法轮功');
    expect(normalizeTerm('臺灣獨立')).toBe('台湾独立');
    expect(norm('乾')).toBe('干');
    // Regional variants (Hong Kong / Taiwan forms) as well.
    expect(norm('衞')).toBe('卫');
    expect(norm('粧')).toBe('妆');
  });

  it('leaves simplified characters alone', () => {
    for (const ch of '法轮功中国人么干台着发') expect(norm(ch)).toBe(ch);
  });

  it('is idempotent over the whole BMP', () => {
    const bad: number[] = [];
    for (let c = 0; c < 0x10000; c++) {
      const n = normalizeChar(c);
      if (normalizeChar(n) !== n) bad.push(c);
    }
    expect(bad).toEqual([]);
  });

  it('keeps astral ideographs as they are', () => {
    expect(norm('𠀀')).toBe('𠀀');
  });
});

describe('isNoise', () => {
  it.each([
    ['space', ' '],
    ['ideographic space', '\u3000'],
    ['tab', '\t'],
    ['newline', '\n'],
    ['asterisk', '*'],
    ['Chinese comma', '，'],
    ['full-width exclamation', '！'],
    ['ideographic full stop', '。'],
    ['book title marks', '《'],
    ['plus sign', '+'],
    ['zero-width space', '\u200b'],
    ['zero-width joiner', '\u200d'],
    ['word joiner', '\u2060'],
    ['byte order mark', '\ufeff'],
    ['combining acute', '\u0301'],
    ['variation selector', '\ufe0f'],
    ['bell', '\u0007'],
    ['emoji', '😀'],
    ['heart', '♥'],
  ])('%s is noise', (_name, ch) => {
    expect(isNoise(cp(ch))).toBe(true);
  });

  it.each([
    ['hanzi', '法'],
    ['traditional hanzi', '輪'],
    ['ASCII letter', 'a'],
    ['full-width letter', 'Ａ'],
    ['digit', '7'],
    ['precomposed accent', 'é'],
    ['astral ideograph', '𠀀'],
    ['lone surrogate', '\ud800'],
  ])('%s is not noise', (_name, ch) => {
    expect(isNoise(cp(ch))).toBe(false);
  });
});

describe('normalizeTerm', () => {
  it('drops noise anywhere in the term', () => {
    expect(normalizeTerm(' 法 *轮\u200b功。')).toBe('法轮功');
    expect(normalizeTerm('a😀b')).toBe('ab');
  });

  it('is empty for a term made only of noise', () => {
    expect(normalizeTerm(' *！\u200b')).toBe('');
  });
});
