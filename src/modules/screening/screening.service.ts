import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AppException } from 'src/common/app.exception';
import { ErrorCode } from 'src/common/error-code';
import { bodyText } from 'src/common/html-text';
import { CheckDto } from 'src/modules/screening/dto/screening.dto';
import { FieldHit, TermLevel } from 'src/modules/screening/matcher';
import {
  PostScreening,
  ScreeningView,
  toScreeningView,
} from 'src/modules/screening/post-screening.entity';
import { ScreeningMatcherService } from 'src/modules/screening/screening-matcher.service';

/** Hits kept with a submission and returned by a check; the count is always complete. */
export const MAX_HITS = 1000;
/** Hits written into the `post.submitted` audit event. */
const MAX_AUDITED_HITS = 100;

export interface Hit {
  term: string;
  category: string;
  level: TermLevel;
  field: FieldHit['field'];
  start: number;
  end: number;
}

export interface ScreenedContent {
  title?: string | null;
  summary?: string | null;
  /** HTML: screened as its text form (`bodyText`), which the body offsets refer to. */
  body?: string | null;
}

/** What a submission is screened on: the submitted revision's fields, body as HTML. */
export interface SubmittedContent {
  title: string;
  summary: string | null;
  body: string;
}

const toHit = (h: FieldHit): Hit => ({
  term: h.term,
  category: h.category,
  level: h.level,
  field: h.field,
  start: h.start,
  end: h.end,
});

/** Screens text against the dictionary in force: checks, the submit gate, its record. */
@Injectable()
export class ScreeningService {
  constructor(private readonly matchers: ScreeningMatcherService) {}

  /** Every hit in the content, by field then offset; body offsets refer to `bodyText(body)`. */
  screen(content: ScreenedContent): Hit[] {
    return this.matchers.current
      .matchFields({
        title: content.title,
        summary: content.summary,
        body: content.body ? bodyText(content.body) : null,
      })
      .map(toHit);
  }

  check(dto: CheckDto): { hits: Hit[]; total: number } {
    const hits = this.screen(dto);
    return { hits: hits.slice(0, MAX_HITS), total: hits.length };
  }

  /**
   * The submit gate: a `block` hit refuses the submission (422 SENSITIVE_CONTENT, with
   * every hit so the author can fix them all); otherwise the `warn` hits are returned.
   */
  screenSubmission(content: SubmittedContent): Hit[] {
    const hits = this.screen(content);
    const blocking = hits.filter((h) => h.level === 'block');
    if (blocking.length) {
      const terms = [...new Set(blocking.map((h) => h.term))];
      throw new AppException(
        ErrorCode.SENSITIVE_CONTENT,
        `The post contains blocked terms (${terms.slice(0, 10).join('、')}); remove them before submitting`,
        { hits: hits.slice(0, MAX_HITS), hitCount: hits.length },
      );
    }
    return hits;
  }

  /** Stores a submission's screening in its transaction; returns what the audit event carries. */
  async recordSubmission(
    m: EntityManager,
    s: {
      postId: string;
      round: number;
      revisionId: string;
      decisionId: string;
      hits: Hit[];
      at: Date;
    },
  ): Promise<{ view: ScreeningView; audit: { hitCount: number; hits: Hit[] } }> {
    const row = Object.assign(new PostScreening(), {
      id: randomUUID(),
      postId: s.postId,
      round: s.round,
      revisionId: s.revisionId,
      decisionId: s.decisionId,
      hitCount: s.hits.length,
      hits: s.hits.slice(0, MAX_HITS),
      createdAt: s.at,
    });
    await m.insert(PostScreening, row);
    return {
      view: toScreeningView(row),
      audit: { hitCount: s.hits.length, hits: s.hits.slice(0, MAX_AUDITED_HITS) },
    };
  }
}
