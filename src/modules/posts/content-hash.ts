import { createHash } from 'node:crypto';

/** The revision fields an approval binds to (docs/spec.md, "Domain": Revision). */
export interface RevisionFields {
  title: string;
  summary: string | null;
  body: string;
  coverImageUrl: string | null;
  channelIds: readonly string[];
  /** ISO 8601; any form `Date` parses, normalised to UTC with milliseconds. */
  publishAt: string | null;
}

/**
 * The canonical serialisation that `contentHash` hashes. Approvals and publications carry this
 * hash, so the form must never change for existing data: a JSON object with keys in a fixed
 * order, strings in NFC (the same text typed on different IMEs/OSes must hash the same), target
 * channels as a set, and the publish time as one instant rather than one of its spellings.
 */
export function canonicalRevision(fields: RevisionFields): string {
  return JSON.stringify({
    title: nfc(fields.title),
    summary: nullableNfc(fields.summary),
    body: nfc(fields.body),
    coverImageUrl: nullableNfc(fields.coverImageUrl),
    channelIds: [...new Set(fields.channelIds.map(nfc))].sort(),
    publishAt: fields.publishAt == null ? null : instant(fields.publishAt),
  });
}

/** SHA-256 of the canonical revision, lowercase hex. */
export function contentHash(fields: RevisionFields): string {
  return createHash('sha256').update(canonicalRevision(fields), 'utf8').digest('hex');
}

function nfc(s: string): string {
  return s.normalize('NFC');
}

function nullableNfc(s: string | null | undefined): string | null {
  return s == null ? null : nfc(s);
}

function instant(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new RangeError(`publishAt is not a valid date: ${iso}`);
  return date.toISOString();
}
