/**
 * Per-code-point normalisation shared by screening terms and screened text.
 *
 * Every mapping is one code point to one code point, so a match found on the
 * normalised form maps straight back to offsets in the original text. Phrase-level
 * conversions (OpenCC's multi-character entries) are deliberately left out for that
 * reason; the single-character tables cover the traditional forms that matter.
 */

// opencc-js declares its subpath exports only through package.json "exports", which the
// project's node10 module resolution cannot see; the t2cn bundle has the same API as the
// full one without the 1 MB simplified-to-traditional phrase table.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- see above: no import path reaches it
const opencc = require('opencc-js/t2cn') as typeof import('opencc-js');

/** Marks a noise code point in the internal tables. */
export const NOISE = -1;

const BMP = 0x10000;

const NOISE_RE = /^[\p{White_Space}\p{Z}\p{P}\p{S}\p{M}\p{Cc}\p{Cf}]$/u;

function isNoiseRaw(cp: number): boolean {
  // Lone surrogates are kept as ordinary characters so offsets stay honest.
  if (cp >= 0xd800 && cp <= 0xdfff) return false;
  return NOISE_RE.test(String.fromCodePoint(cp));
}

function foldWidth(cp: number): number {
  if (cp >= 0xff01 && cp <= 0xff5e) return cp - 0xfee0;
  if (cp === 0x3000) return 0x20;
  return cp;
}

function foldCase(cp: number): number {
  if (cp >= 0xd800 && cp <= 0xdfff) return cp;
  const lower = String.fromCodePoint(cp).toLowerCase();
  const first = lower.codePointAt(0) as number;
  // Keep the character when lowering would change its length (e.g. U+0130 → "i̇").
  return lower.length === (first >= BMP ? 2 : 1) ? first : cp;
}

/**
 * Traditional → simplified for single characters, derived from OpenCC's own dictionaries:
 * every single-character key of the t2cn locale data is run through the t→cn converter,
 * and through tw→cn and hk→cn for the regional variants the generic one leaves alone.
 */
function buildTraditionalMap(): Map<number, number> {
  const candidates = new Set<string>();
  const walk = (node: unknown): void => {
    if (typeof node === 'string') {
      for (const entry of node.split('|')) {
        const key = entry.slice(0, entry.indexOf(' '));
        const cp = key.codePointAt(0);
        if (cp !== undefined && key.length === (cp >= BMP ? 2 : 1)) candidates.add(key);
      }
    } else if (Array.isArray(node)) {
      for (const child of node) walk(child);
    } else if (node && typeof node === 'object') {
      for (const child of Object.values(node)) walk(child);
    }
  };
  walk(opencc.Locale);

  const chars = [...candidates];
  // One call per converter; the newline keeps phrase segmentation from spanning characters.
  const joined = chars.join('\n');
  const convert = (from: string): string[] =>
    opencc.Converter({ from, to: 'cn' })(joined).split('\n');
  const generic = convert('t');
  const regional = [convert('tw'), convert('hk')];
  if ([generic, ...regional].some((out) => out.length !== chars.length)) {
    throw new Error('opencc-js conversion changed the number of lines');
  }

  const single = (s: string): number => {
    const cp = s.codePointAt(0);
    return cp !== undefined && s.length === (cp >= BMP ? 2 : 1) ? cp : -1;
  };
  const map = new Map<number, number>();
  // A character that is itself the simplified form of something stays put, so a regional
  // variant table cannot fold, say, 么 (simplified of 麼) into 幺.
  const simplifiedForms = new Set<number>();
  chars.forEach((ch, i) => {
    const to = single(generic[i]);
    if (to >= 0 && generic[i] !== ch) {
      map.set(ch.codePointAt(0) as number, to);
      simplifiedForms.add(to);
    }
  });
  chars.forEach((ch, i) => {
    const from = ch.codePointAt(0) as number;
    if (map.has(from) || simplifiedForms.has(from)) return;
    for (const out of regional) {
      const to = single(out[i]);
      if (to >= 0 && to !== from) {
        map.set(from, to);
        return;
      }
    }
  });
  // Resolve chains so that normalising is idempotent.
  for (const [from, to] of map) {
    let target = to;
    for (let hops = 0; hops < 8 && map.has(target) && map.get(target) !== target; hops++) {
      target = map.get(target) as number;
    }
    if (target === from) map.delete(from);
    else map.set(from, target);
  }
  return map;
}

const TRADITIONAL = buildTraditionalMap();

function normalizeRaw(cp: number): number {
  let out = cp;
  for (let round = 0; round < 4; round++) {
    const width = foldWidth(out);
    const lower = foldCase(width);
    const next = TRADITIONAL.get(lower) ?? lower;
    if (next === out) break;
    out = next;
  }
  return out;
}

function classify(cp: number): number {
  const n = normalizeRaw(cp);
  return isNoiseRaw(cp) || isNoiseRaw(n) ? NOISE : n;
}

/**
 * For every BMP code unit: its normalised code point, or NOISE. Lone surrogates map to
 * themselves; callers combine surrogate pairs and use {@link foldAstral}.
 */
export const FOLD_BMP: Int32Array = (() => {
  const table = new Int32Array(BMP);
  for (let cp = 0; cp < BMP; cp++) table[cp] = classify(cp);
  return table;
})();

const astralCache = new Map<number, number>();

/** Normalised code point of an astral (supplementary-plane) code point, or NOISE. */
export function foldAstral(cp: number): number {
  let n = astralCache.get(cp);
  if (n === undefined) {
    n = classify(cp);
    astralCache.set(cp, n);
  }
  return n;
}

/** Normalised code point or NOISE, for any code point. */
export function fold(cp: number): number {
  return cp < BMP ? FOLD_BMP[cp] : foldAstral(cp);
}

/**
 * The normalised form of one code point: full-width → half-width, lower case,
 * traditional → simplified Chinese. Noise characters are normalised too; whether to skip
 * them is {@link isNoise}'s call.
 */
export function normalizeChar(cp: number): number {
  return normalizeRaw(cp);
}

/**
 * Whitespace, punctuation, symbols (emoji included), combining marks, zero-width and other
 * format/control characters: skipped when matching, so 法*轮 功 still reads as 法轮功.
 */
export function isNoise(cp: number): boolean {
  return fold(cp) === NOISE;
}

/** The normalised, non-noise code points of a term, in order. */
export function termCodePoints(term: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < term.length; i++) {
    let cp = term.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < term.length) {
      const low = term.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = ((cp - 0xd800) << 10) + (low - 0xdc00) + BMP;
        i++;
      }
    }
    const n = cp < BMP ? FOLD_BMP[cp] : foldAstral(cp);
    if (n !== NOISE) out.push(n);
  }
  return out;
}

/** A term as the matcher sees it: every character normalised, noise removed. */
export function normalizeTerm(term: string): string {
  const cps = termCodePoints(term);
  let out = '';
  for (let i = 0; i < cps.length; i += 1024) out += String.fromCodePoint(...cps.slice(i, i + 1024));
  return out;
}
