import type { TermLevel } from 'src/modules/screening/matcher';
import { normalizeTerm } from 'src/modules/screening/normalize';

export const TERM_LEVELS: readonly TermLevel[] = ['block', 'warn'];
/** Characters (code points), as the column holds them. */
export const TERM_MAX_LENGTH = 100;
export const CATEGORY_PATTERN = /^[\p{L}\p{N}_-]{1,32}$/u;
export const DEFAULT_CATEGORY = 'general';
// eslint-disable-next-line no-control-regex -- finding control characters is this pattern's job
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why a term cannot be stored, or null when it can. */
export function termProblem(term: string): string | null {
  if (term === '') return 'the term is empty';
  if ([...term].length > TERM_MAX_LENGTH)
    return `the term is longer than ${TERM_MAX_LENGTH} characters`;
  if (CONTROL.test(term)) return 'the term contains control characters';
  if (normalizeTerm(term) === '')
    return 'the term has nothing to match once spaces, punctuation and symbols are removed';
  return null;
}

export interface ParsedTerm {
  /** 1-based line number in the file. */
  line: number;
  term: string;
  normalizedTerm: string;
  category: string;
  level: TermLevel;
  allow: boolean;
}

export interface LineError {
  line: number;
  reason: string;
}

export interface ParsedTermList {
  terms: ParsedTerm[];
  errors: LineError[];
  /** Lines repeating an earlier line's term (after normalising) with the same settings. */
  repeated: number;
}

/**
 * The import format: one `term[,category[,level]]` a line, `level` being `block`, `warn` or
 * `allow` (an allow-list phrase). Blank lines and lines starting with `#` are ignored; a
 * full-width comma separates like a comma (a comma inside a term is noise to the matcher
 * anyway). Category defaults to `general`, level to `block`.
 */
export function parseTermList(text: string): ParsedTermList {
  const terms: ParsedTerm[] = [];
  const errors: LineError[] = [];
  const seen = new Map<string, ParsedTerm>();
  let repeated = 0;
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    const text = raw.trim();
    if (text === '' || text.startsWith('#')) return;
    const fields = text.split(/[,，]/).map((f) => f.trim());
    if (fields.length > 3) {
      errors.push({ line, reason: 'too many fields: expected term[,category[,level]]' });
      return;
    }
    const [term, category = '', levelText = ''] = fields;
    const problem = termProblem(term);
    if (problem) {
      errors.push({ line, reason: problem });
      return;
    }
    const cat = category === '' ? DEFAULT_CATEGORY : category;
    if (!CATEGORY_PATTERN.test(cat)) {
      errors.push({
        line,
        reason: `invalid category "${cat.slice(0, 40)}": use 1-32 letters, digits, _ or -`,
      });
      return;
    }
    const lv = levelText.toLowerCase() || 'block';
    if (lv !== 'block' && lv !== 'warn' && lv !== 'allow') {
      errors.push({
        line,
        reason: `unknown level "${levelText.slice(0, 40)}": use block, warn or allow`,
      });
      return;
    }
    const parsed: ParsedTerm = {
      line,
      term,
      normalizedTerm: normalizeTerm(term),
      category: cat,
      level: lv === 'allow' ? 'block' : lv,
      allow: lv === 'allow',
    };
    const earlier = seen.get(parsed.normalizedTerm);
    if (earlier) {
      if (sameSettings(earlier, parsed)) repeated++;
      else
        errors.push({
          line,
          reason: `same term as line ${earlier.line} (once normalised) with a different category or level`,
        });
      return;
    }
    seen.set(parsed.normalizedTerm, parsed);
    terms.push(parsed);
  });
  return { terms, errors, repeated };
}

export function sameSettings(
  a: { category: string; level: TermLevel; allow: boolean },
  b: { category: string; level: TermLevel; allow: boolean },
): boolean {
  return a.category === b.category && a.level === b.level && a.allow === b.allow;
}
