import { diffChars, diffLines, type ChangeObject } from 'diff';
import { bodyText } from 'src/modules/posts/sanitize';

export interface DiffableRevision {
  number: number;
  title: string;
  summary: string | null;
  /** Sanitised HTML. */
  body: string;
}

export interface Change {
  op: 'equal' | 'insert' | 'delete';
  text: string;
}

export const DIFFED_FIELDS = ['title', 'summary', 'body'] as const;
export type DiffedField = (typeof DIFFED_FIELDS)[number];

export interface RevisionDiff {
  from: number;
  to: number;
  fields: Record<DiffedField, Change[]>;
  /** Fields whose stored value differs, in the order of DIFFED_FIELDS. */
  changed: DiffedField[];
}

/**
 * What a reviewer needs to see between two revisions. Title and summary are compared character by
 * character because Chinese has no spaces to split words on. The body is compared line by line on
 * its reading text (one line per paragraph), each change being whole lines that end in '\n', with
 * link targets and image sources written out so a swapped link is visible.
 *
 * Text is compared in NFC, as the content hash is, so `changed` never reports a difference the
 * hash does not see. A body whose markup changed but whose text did not (bold added, say) is still
 * listed in `changed`, with an all-equal diff.
 */
export function diffRevisions(from: DiffableRevision, to: DiffableRevision): RevisionDiff {
  const a = normalise(from);
  const b = normalise(to);
  const changed = DIFFED_FIELDS.filter((field) => a[field] !== b[field]);
  return {
    from: from.number,
    to: to.number,
    fields: {
      title: changes(a.title, b.title, diffChars),
      summary: changes(a.summary, b.summary, diffChars),
      body: changes(lines(a.body), lines(b.body), diffLines),
    },
    changed,
  };
}

function normalise(r: DiffableRevision): Record<DiffedField, string> {
  return {
    title: r.title.normalize('NFC'),
    summary: (r.summary ?? '').normalize('NFC'),
    body: r.body.normalize('NFC'),
  };
}

function lines(html: string): string {
  const text = bodyText(html, { urls: true });
  return text === '' ? '' : `${text}\n`;
}

function changes(
  a: string,
  b: string,
  diff: (a: string, b: string) => ChangeObject<string>[],
): Change[] {
  if (a === b) return [{ op: 'equal', text: a }];
  return diff(a, b).map((c) => ({
    op: c.added ? 'insert' : c.removed ? 'delete' : 'equal',
    text: c.value,
  }));
}
