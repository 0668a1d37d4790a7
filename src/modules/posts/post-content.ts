import { AppException } from 'src/common/app.exception';
import { ErrorCode } from 'src/common/error-code';
import { contentHash, RevisionFields } from 'src/modules/posts/content-hash';
import { LIMITS } from 'src/modules/posts/dto/post.dto';
import { bodyText, sanitizeBody } from 'src/modules/posts/sanitize';

/**
 * Content exactly as it is stored and hashed: NFC text, sanitised body, sorted
 * channel ids, publishAt as one UTC instant. Storing the canonical form means the
 * stored bytes are the hashed bytes, so what is approved is what is published.
 */
export interface NormalisedContent extends RevisionFields {
  channelIds: string[];
}

function invalid(field: string, message: string): AppException {
  return new AppException(ErrorCode.VALIDATION_FAILED, `Invalid input: ${field}`, [
    { field, errors: [message] },
  ]);
}

export function normaliseContent(input: {
  title: string;
  summary: string | null;
  body: string;
  coverImageUrl: string | null;
  channelIds: readonly string[];
  publishAt: string | Date | null;
}): NormalisedContent & { hash: string } {
  const title = input.title.normalize('NFC').trim();
  if (!title) throw invalid('title', 'title must not be empty');
  if ([...title].length > LIMITS.title)
    throw invalid('title', `title must be at most ${LIMITS.title} characters`);
  const summary = input.summary?.normalize('NFC').trim() || null;
  if (summary && [...summary].length > LIMITS.summary) {
    throw invalid('summary', `summary must be at most ${LIMITS.summary} characters`);
  }
  const body = sanitizeBody(input.body).normalize('NFC');
  if (!bodyText(body).trim() && !/<img\b/i.test(body))
    throw invalid('body', 'body has no content after sanitising');
  if (body.length > LIMITS.body)
    throw invalid('body', `body must be at most ${LIMITS.body} characters`);
  const publishAt = input.publishAt === null ? null : new Date(input.publishAt).toISOString();
  const content: NormalisedContent = {
    title,
    summary,
    body,
    coverImageUrl: input.coverImageUrl?.normalize('NFC').trim() || null,
    channelIds: [...new Set(input.channelIds)].sort(),
    publishAt,
  };
  return { ...content, hash: contentHash(content) };
}
