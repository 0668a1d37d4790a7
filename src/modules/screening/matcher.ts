import { FOLD_BMP, NOISE, foldAstral } from 'src/modules/screening/normalize';

export type TermLevel = 'block' | 'warn';

export interface TermEntry {
  id?: string;
  term: string;
  category: string;
  level: TermLevel;
  /** An allow-list phrase: hits lying wholly inside one of its matches are dropped. */
  allow?: boolean;
}

export interface TermHit {
  term: string;
  category: string;
  level: TermLevel;
  /** UTF-16 offset of the first matched character in the original text. */
  start: number;
  /** UTF-16 offset just past the last matched character (exclusive). */
  end: number;
}

export type ScreenedField = 'title' | 'summary' | 'body';

export interface FieldHit extends TermHit {
  field: ScreenedField;
}

export type ScreenedText = Partial<Record<ScreenedField, string | null>>;

export interface MatcherStats {
  /** Distinct normalised terms (entries normalising alike collapse into one). */
  terms: number;
  allowPhrases: number;
  /** Entries whose term is empty once noise is removed; they can never match. */
  skipped: number;
  alphabet: number;
  states: number;
  cells: number;
}

const FIELDS: readonly ScreenedField[] = ['title', 'summary', 'body'];

const BMP = 0x10000;
const ROOT = 0;
const NONE = -1;
const FREE = -1;
/** Symbol of a code unit that occurs in no term: the automaton falls back to the root. */
const UNKNOWN = 0;
/** Symbol marking a high surrogate: the pair has to be decoded first. */
const HIGH_SURROGATE = -2;

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

/**
 * Aho–Corasick matcher over normalised code points, stored as a double-array trie
 * (base/check) with failure and output links in flat typed arrays.
 *
 * Noise characters neither advance nor reset the automaton, so 法 轮*功 matches 法轮功;
 * offsets are reported against the original text. Instances are immutable: build a new
 * one and swap the reference to change the dictionary.
 */
export class TermMatcher {
  readonly stats: MatcherStats;

  private constructor(
    /** BMP code unit → symbol; NOISE, UNKNOWN or HIGH_SURROGATE otherwise. */
    private readonly symbols: Int32Array,
    /** Normalised astral code point → symbol. */
    private readonly astralSymbols: ReadonlyMap<number, number>,
    /** Symbols of lone high surrogates (indexed from U+D800), for the rare unpaired case. */
    private readonly loneHighSymbols: Int32Array,
    private readonly base: Int32Array,
    private readonly check: Int32Array,
    private readonly fail: Int32Array,
    /** Nearest state on the failure chain, this one included, that has an output. */
    private readonly report: Int32Array,
    /** Length of a state's string in non-noise code points. */
    private readonly depth: Int32Array,
    /** Index into the term tables, or NONE. */
    private readonly output: Int32Array,
    private readonly allowAt: Uint8Array,
    private readonly terms: readonly string[],
    private readonly categories: readonly string[],
    private readonly levels: readonly TermLevel[],
    stats: MatcherStats,
  ) {
    this.stats = Object.freeze(stats);
    Object.freeze(this);
  }

  static empty(): TermMatcher {
    return TermMatcher.build([]);
  }

  static build(entries: readonly TermEntry[]): TermMatcher {
    const trie = buildTrie(entries);
    const alphabet = buildAlphabet(trie);
    const da = placeDoubleArray(trie, alphabet.size);
    const links = linkAutomaton(trie, da);

    const terms: string[] = [];
    const categories: string[] = [];
    const levels: TermLevel[] = [];
    const output = new Int32Array(da.size).fill(NONE);
    const allowAt = new Uint8Array(da.size);
    let allowPhrases = 0;
    for (let node = 1; node < trie.nodes; node++) {
      const cell = da.cellOf[node];
      const k = trie.entry[node];
      if (k !== NONE) {
        const e = entries[k];
        output[cell] = terms.length;
        terms.push(e.term);
        categories.push(e.category);
        levels.push(e.level);
      }
      if (trie.allow[node] === 1) {
        allowAt[cell] = 1;
        allowPhrases++;
      }
    }

    return new TermMatcher(
      alphabet.symbols,
      alphabet.astral,
      alphabet.loneHigh,
      da.base,
      da.check,
      links.fail,
      links.report,
      links.depth,
      output,
      allowAt,
      Object.freeze(terms),
      Object.freeze(categories),
      Object.freeze(levels),
      {
        terms: terms.length,
        allowPhrases,
        skipped: trie.skipped,
        alphabet: alphabet.size,
        states: trie.nodes,
        cells: da.size,
      },
    );
  }

  /** Every term occurrence, overlapping ones included, ordered by start then end. */
  match(text: string): TermHit[] {
    return this.collect(text, undefined);
  }

  /** Hits per field, each tagged with the field it came from (title, summary, body). */
  matchFields(fields: ScreenedText): FieldHit[] {
    const hits: FieldHit[] = [];
    for (const field of FIELDS) {
      const text = fields[field];
      if (text) for (const hit of this.collect(text, field)) hits.push(hit as FieldHit);
    }
    return hits;
  }

  private collect(text: string, field: ScreenedField | undefined): TermHit[] {
    const ends = this.scan(text);
    if (ends === null) return [];
    const { report, fail, depth, output, allowAt } = this;
    const hits: TermHit[] = [];
    let allowed: number[] | null = null;
    for (let h = 0; h < ends.length; h += 2) {
      const end = ends[h + 1];
      for (let r = report[ends[h]]; r !== NONE; r = report[fail[r]]) {
        const start = startOf(text, end, depth[r]);
        const o = output[r];
        if (o !== NONE) {
          const hit: TermHit = {
            term: this.terms[o],
            category: this.categories[o],
            level: this.levels[o],
            start,
            end,
          };
          if (field !== undefined) (hit as FieldHit).field = field;
          hits.push(hit);
        }
        if (allowAt[r] === 1) (allowed ??= []).push(start, end);
      }
    }
    const kept = allowed === null ? hits : suppressAllowed(hits, allowed);
    return kept.sort((x, y) => x.start - y.start || x.end - y.end || cmp(x.term, y.term));
  }

  /**
   * The hot loop: one pass, no allocation unless something matches. Returns flat
   * (state, end offset) pairs for every position where some output fires, or null.
   */
  private scan(text: string): number[] | null {
    const { symbols, base, check, fail, report } = this;
    const n = text.length;
    let found: number[] | null = null;
    let s = ROOT;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      let a = symbols[c];
      if (a <= 0) {
        if (a === UNKNOWN) {
          s = ROOT;
          continue;
        }
        if (a === NOISE) continue;
        // HIGH_SURROGATE: decode the pair, or fall back to the lone code unit.
        const low = i + 1 < n ? text.charCodeAt(i + 1) : 0;
        if (isLow(low)) {
          a = this.astralSymbol(((c - 0xd800) << 10) + (low - 0xdc00) + BMP);
          i++;
        } else {
          a = this.loneHighSymbols[c - 0xd800];
        }
        if (a === UNKNOWN) {
          s = ROOT;
          continue;
        }
        if (a === NOISE) continue;
      }
      for (;;) {
        const t = base[s] + a;
        if (check[t] === s) {
          s = t;
          break;
        }
        if (s === ROOT) break;
        s = fail[s];
      }
      if (report[s] !== NONE) (found ??= []).push(s, i + 1);
    }
    return found;
  }

  private astralSymbol(cp: number): number {
    const n = foldAstral(cp);
    if (n === NOISE) return NOISE;
    return n < BMP ? this.symbols[n] : (this.astralSymbols.get(n) ?? UNKNOWN);
  }
}

// ------------------------------------------------------------------ building
// Each stage is its own function so that V8 optimises the loops in it independently.

interface Trie {
  nodes: number;
  /** Edge label into the node: its code point, replaced by its symbol once they exist. */
  sym: Int32Array;
  firstChild: Int32Array;
  nextSibling: Int32Array;
  /** Entry reported when the node's key is found, or NONE. */
  entry: Int32Array;
  /** 1 when the node's key is an allow-list phrase. */
  allow: Uint8Array;
  /** Entries that are nothing but noise. */
  skipped: number;
}

/**
 * The trie of normalised keys, pointer-free (first-child / next-sibling links); child lookup
 * while inserting goes through an open-addressing hash of (node, code point).
 *
 * Entries normalising to the same key share a node: the most severe level wins, then the
 * earliest entry. So a span is reported once per key, never duplicated.
 */
function buildTrie(entries: readonly TermEntry[]): Trie {
  let total = 0;
  for (const e of entries) total += e.term.length;
  const maxNodes = total + 1;
  const sym = new Int32Array(maxNodes);
  const firstChild = new Int32Array(maxNodes).fill(NONE);
  const nextSibling = new Int32Array(maxNodes).fill(NONE);
  const entry = new Int32Array(maxNodes).fill(NONE);
  const allow = new Uint8Array(maxNodes);
  let slots = 16;
  while (slots < maxNodes * 2) slots *= 2;
  const mask = slots - 1;
  const slotParent = new Int32Array(slots).fill(NONE);
  const slotSym = new Int32Array(slots);
  const slotChild = new Int32Array(slots);
  const fold = FOLD_BMP;
  let nodes = 1;
  let skipped = 0;
  for (let k = 0; k < entries.length; k++) {
    const term = entries[k].term;
    let node = ROOT;
    for (let i = 0; i < term.length; i++) {
      let cp = term.charCodeAt(i);
      if (isHigh(cp) && i + 1 < term.length && isLow(term.charCodeAt(i + 1))) {
        cp = ((cp - 0xd800) << 10) + (term.charCodeAt(++i) - 0xdc00) + BMP;
      }
      const a = cp < BMP ? fold[cp] : foldAstral(cp);
      if (a === NOISE) continue;
      let h = (Math.imul(node, 0x9e3779b1) ^ Math.imul(a, 0x85ebca6b)) & mask;
      for (;;) {
        const parent = slotParent[h];
        if (parent === NONE) {
          const child = nodes++;
          sym[child] = a;
          nextSibling[child] = firstChild[node];
          firstChild[node] = child;
          slotParent[h] = node;
          slotSym[h] = a;
          slotChild[h] = child;
          node = child;
          break;
        }
        if (parent === node && slotSym[h] === a) {
          node = slotChild[h];
          break;
        }
        h = (h + 1) & mask;
      }
    }
    if (node === ROOT) {
      skipped++;
    } else if (entries[k].allow) {
      allow[node] = 1;
    } else {
      const held = entry[node];
      if (held === NONE || (entries[k].level === 'block' && entries[held].level !== 'block')) {
        entry[node] = k;
      }
    }
  }
  return { nodes, sym, firstChild, nextSibling, entry, allow, skipped };
}

/** Text code unit → symbol before any term is known: noise and high surrogates marked. */
const BLANK_SYMBOLS = (() => {
  const table = new Int32Array(BMP);
  for (let c = 0; c < BMP; c++) {
    if (FOLD_BMP[c] === NOISE) table[c] = NOISE;
    else if (isHigh(c)) table[c] = HIGH_SURROGATE;
  }
  return table;
})();

/** Normalised code point → the other BMP code units that normalise to it (ｆ, F → f). */
const VARIANTS = (() => {
  const map = new Map<number, number[]>();
  for (let c = 0; c < BMP; c++) {
    const n = FOLD_BMP[c];
    if (n === NOISE || n === c) continue;
    const list = map.get(n);
    if (list) list.push(c);
    else map.set(n, [c]);
  }
  return map;
})();

/** Scratch counts for buildAlphabet; only the touched entries are ever non-zero. */
const COUNTS = new Int32Array(BMP);

interface Alphabet {
  size: number;
  /**
   * Text code unit → symbol, with normalisation folded in: every code unit normalising to
   * an alphabet code point gets its symbol. For a normalised BMP code point (other than a
   * high surrogate) it is that code point's own symbol.
   */
  symbols: Int32Array;
  /** Symbols of lone high surrogates (from U+D800). */
  loneHigh: Int32Array;
  /** Normalised astral code point → symbol. */
  astral: Map<number, number>;
}

/**
 * Symbols 1..size over the trie's edge labels, the most frequent getting the smallest (which
 * packs the double array tighter); relabels the trie's edges with them.
 */
function buildAlphabet(trie: Trie): Alphabet {
  const { nodes, sym } = trie;
  const astralCount = new Map<number, number>();
  const distinct: number[] = [];
  for (let node = 1; node < nodes; node++) {
    const cp = sym[node];
    if (cp < BMP) {
      if (COUNTS[cp]++ === 0) distinct.push(cp);
    } else {
      const n = astralCount.get(cp) ?? 0;
      if (n === 0) distinct.push(cp);
      astralCount.set(cp, n + 1);
    }
  }
  const count = (cp: number): number => (cp < BMP ? COUNTS[cp] : astralCount.get(cp)!);
  distinct.sort((a, b) => count(b) - count(a) || a - b);
  for (const cp of distinct) if (cp < BMP) COUNTS[cp] = 0;

  const symbols = BLANK_SYMBOLS.slice();
  const loneHigh = new Int32Array(0x400);
  const astral = new Map<number, number>();
  for (let i = 0; i < distinct.length; i++) {
    const cp = distinct[i];
    const a = i + 1;
    if (cp >= BMP) astral.set(cp, a);
    else if (isHigh(cp)) loneHigh[cp - 0xd800] = a;
    else symbols[cp] = a;
    const variants = VARIANTS.get(cp);
    if (variants) for (const c of variants) symbols[c] = a;
  }
  const alphabet = { size: distinct.length, symbols, loneHigh, astral };
  for (let node = 1; node < nodes; node++) sym[node] = symbolOf(alphabet, sym[node]);
  return alphabet;
}

/** Symbol of a normalised code point, or UNKNOWN. */
function symbolOf(alphabet: Alphabet, cp: number): number {
  if (cp >= BMP) return alphabet.astral.get(cp) ?? UNKNOWN;
  if (isHigh(cp)) return alphabet.loneHigh[cp - 0xd800];
  return alphabet.symbols[cp];
}

interface DoubleArray {
  size: number;
  base: Int32Array;
  check: Int32Array;
  /** Trie node → its cell. */
  cellOf: Int32Array;
  /** Trie nodes in breadth-first order. */
  bfs: Int32Array;
}

/**
 * Lays the trie into base/check arrays: a node's child on symbol a lives in cell
 * base[node] + a, and check[cell] names the parent cell.
 */
function placeDoubleArray(trie: Trie, alphaSize: number): DoubleArray {
  const { nodes, sym, firstChild, nextSibling } = trie;
  // Sized for the nodes alone; lookups reach up to alphaSize cells past a base, so the
  // arrays usually grow once or twice while placing.
  let cap = 256;
  while (cap < nodes + 2) cap *= 2;
  let base = new Int32Array(cap);
  let check = new Int32Array(cap).fill(FREE);
  const cells = new CellMap(cap);
  const cellOf = new Int32Array(nodes);
  const bfs = new Int32Array(nodes);
  check[ROOT] = -2; // the root's own cell
  cells.take(ROOT);
  let head = 0;
  let tail = 1;
  // The lowest base searches for several children try. A node that has to reject many
  // candidates moves it on, so later ones do not crawl the same crowded stretch again.
  // Single-child nodes (most of a dictionary trie) always fit in the first free cell past
  // their symbol, so they keep filling the gaps left behind.
  let multiBase = 1;
  let top = 0;
  const kids: number[] = [];
  while (head < tail) {
    const node = bfs[head++];
    kids.length = 0;
    let lo = BMP * 17;
    let hi = 0;
    for (let c = firstChild[node]; c !== NONE; c = nextSibling[c]) {
      const a = sym[c];
      kids.push(a);
      if (a < lo) lo = a;
      if (a > hi) hi = a;
    }
    if (kids.length === 0) continue;
    let pos = kids.length === 1 ? lo + 1 : lo + multiBase;
    let b = 0;
    let failures = 0;
    for (; ; pos++) {
      pos = cells.nextFree(pos);
      if (pos + alphaSize + 1 >= cap) {
        const next = Math.max(cap * 2, (pos + alphaSize + 2) * 2);
        const grownBase = new Int32Array(next);
        grownBase.set(base);
        const grownCheck = new Int32Array(next).fill(FREE);
        grownCheck.set(check);
        base = grownBase;
        check = grownCheck;
        cells.grow(next);
        cap = next;
      }
      b = pos - lo;
      let fits = true;
      for (let j = 0; j < kids.length; j++) {
        if (check[b + kids[j]] !== FREE) {
          fits = false;
          break;
        }
      }
      if (fits) break;
      failures++;
    }
    if (failures > 16) multiBase = b;
    const cell = cellOf[node];
    base[cell] = b;
    for (let c = firstChild[node]; c !== NONE; c = nextSibling[c]) {
      const t = b + sym[c];
      check[t] = cell;
      cells.take(t);
      cellOf[c] = t;
      bfs[tail++] = c;
    }
    if (b + hi > top) top = b + hi;
  }
  // Every base is at most `top`, so base + symbol stays below this size.
  const size = top + alphaSize + 2;
  return { size, base: base.slice(0, size), check: check.slice(0, size), cellOf, bfs };
}

/**
 * Occupied cells as a bitmap, plus a union-find over its 32-cell words that skips runs of
 * full words, so finding the next free cell stays cheap even in a densely packed array.
 */
class CellMap {
  private used: Int32Array;
  /** For a full word: a later word to try (path-compressed); for any other: itself. */
  private skip: Int32Array;

  constructor(cells: number) {
    this.used = new Int32Array((cells >>> 5) + 1);
    this.skip = Int32Array.from({ length: this.used.length }, (_, w) => w);
  }

  grow(cells: number): void {
    const used = new Int32Array((cells >>> 5) + 1);
    used.set(this.used);
    const skip = Int32Array.from({ length: used.length }, (_, w) => w);
    skip.set(this.skip);
    // The old last word may be full with nowhere to skip to; now there is a next word.
    const last = this.used.length - 1;
    if (used[last] === -1) skip[last] = last + 1;
    this.used = used;
    this.skip = skip;
  }

  take(cell: number): void {
    const w = cell >>> 5;
    if ((this.used[w] |= 1 << (cell & 31)) === -1 && w + 1 < this.used.length) this.skip[w] = w + 1;
  }

  /** The first free cell at or after pos (pos itself when it lies past the map). */
  nextFree(pos: number): number {
    const { used } = this;
    let w = pos >>> 5;
    if (w >= used.length) return pos;
    const bits = ~used[w] & (-1 << (pos & 31));
    if (bits !== 0) return (w << 5) + (31 - Math.clz32(bits & -bits));
    w = this.findWord(w + 1);
    if (w >= used.length) return w << 5;
    const free = ~used[w];
    return (w << 5) + (31 - Math.clz32(free & -free));
  }

  private findWord(w: number): number {
    const skip = this.skip;
    if (w >= skip.length) return w;
    let root = w;
    while (skip[root] !== root) root = skip[root];
    while (skip[w] !== root) {
      const next = skip[w];
      skip[w] = root;
      w = next;
    }
    return root;
  }
}

/** Failure links, depths and output links, breadth first so suffixes are ready in time. */
function linkAutomaton(
  trie: Trie,
  da: DoubleArray,
): { fail: Int32Array; report: Int32Array; depth: Int32Array } {
  const { sym, entry, allow } = trie;
  const { base, check, cellOf, bfs, size } = da;
  const fail = new Int32Array(size);
  const report = new Int32Array(size).fill(NONE);
  const depth = new Int32Array(size);
  for (let q = 1; q < trie.nodes; q++) {
    const node = bfs[q];
    const cell = cellOf[node];
    const a = sym[node];
    const parent = check[cell];
    depth[cell] = depth[parent] + 1;
    let f = ROOT;
    if (parent !== ROOT) {
      let s = fail[parent];
      for (;;) {
        const t = base[s] + a;
        if (check[t] === s) {
          f = t;
          break;
        }
        if (s === ROOT) break;
        s = fail[s];
      }
    }
    fail[cell] = f;
    report[cell] = entry[node] !== NONE || allow[node] === 1 ? cell : report[f];
  }
  return { fail, report, depth };
}

// ------------------------------------------------------------------ matching helpers

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Offset of the character `len` non-noise code points back from `end`. */
function startOf(text: string, end: number, len: number): number {
  let pos = end;
  let count = 0;
  while (count < len) {
    pos--;
    const c = text.charCodeAt(pos);
    let n: number;
    if (isLow(c) && pos > 0 && isHigh(text.charCodeAt(pos - 1))) {
      pos--;
      n = foldAstral(((text.charCodeAt(pos) - 0xd800) << 10) + (c - 0xdc00) + BMP);
    } else {
      n = FOLD_BMP[c];
    }
    if (n !== NOISE) count++;
  }
  return pos;
}

/** Drops hits lying wholly inside an allow-list span; spans come as flat (start, end). */
function suppressAllowed(hits: TermHit[], spans: number[]): TermHit[] {
  const count = spans.length / 2;
  const idx = Array.from({ length: count }, (_, i) => i).sort(
    (x, y) => spans[2 * x] - spans[2 * y],
  );
  const starts = new Float64Array(count);
  const reach = new Float64Array(count); // furthest end among spans starting at or before
  let furthest = -1;
  idx.forEach((j, k) => {
    starts[k] = spans[2 * j];
    furthest = Math.max(furthest, spans[2 * j + 1]);
    reach[k] = furthest;
  });
  return hits.filter((hit) => {
    let lo = 0;
    let hi = count - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= hit.start) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return at < 0 || reach[at] < hit.end;
  });
}
