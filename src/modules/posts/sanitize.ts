import sanitizeHtml from 'sanitize-html';
import { DROP_WITH_CONTENT } from 'src/common/html-text';

// Kept here for the posts module's callers; screening imports it from src/common.
export { bodyText, type BodyTextOptions } from 'src/common/html-text';

/*
 * Post bodies end up inside WeChat articles, Weibo long posts and the university's web pages, and
 * are shown to reviewers in the gateway's own UI. So the allow-list is the structural markup those
 * platforms render, and nothing that can run code, load a frame, or restyle the reviewer's page.
 */

const ALLOWED_TAGS = [
  'p',
  'br',
  'hr',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'strong',
  'b',
  'em',
  'i',
  'u',
  's',
  'sub',
  'sup',
  'blockquote',
  'ul',
  'ol',
  'li',
  'a',
  'img',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'span',
  'section',
  'figure',
  'figcaption',
  'pre',
  'code',
];

const LINK_SCHEMES = ['http:', 'https:', 'mailto:'];
const IMAGE_SCHEMES = ['http:', 'https:'];

/**
 * Only absolute URLs with an allowed scheme. Relative URLs mean nothing once the body is copied to
 * another platform, and the WHATWG parser sees through `jav&#x09;ascript:`-style obfuscation the
 * same way a browser does.
 */
function isAllowedUrl(value: string | undefined, schemes: readonly string[]): boolean {
  if (!value) return false;
  try {
    return schemes.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: ALLOWED_TAGS,
  allowedAttributes: {
    a: ['href', 'title', 'target', 'rel'],
    img: ['src', 'alt', 'title', 'width', 'height'],
    th: ['colspan', 'rowspan'],
    td: ['colspan', 'rowspan'],
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['http', 'https'] },
  allowedSchemesAppliedToAttributes: ['href', 'src'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  nonTextTags: DROP_WITH_CONTENT,
  transformTags: {
    a: (tagName, attribs) => {
      const out: sanitizeHtml.Attributes = {};
      if (isAllowedUrl(attribs.href, LINK_SCHEMES)) out.href = attribs.href;
      if (attribs.title) out.title = attribs.title;
      // A new window without noopener lets the opened page navigate the reviewer's tab.
      if (attribs.target === '_blank') {
        out.target = '_blank';
        out.rel = 'noopener noreferrer';
      }
      return { tagName, attribs: out };
    },
    img: (tagName, attribs) => {
      const out: sanitizeHtml.Attributes = { ...attribs };
      if (!isAllowedUrl(attribs.src, IMAGE_SCHEMES)) delete out.src;
      return { tagName, attribs: out };
    },
  },
  // An image with no usable source renders as a broken icon on every platform.
  exclusiveFilter: (frame) => frame.tag === 'img' && !frame.attribs.src,
};

/** Reduces untrusted HTML to the allow-listed markup. Idempotent. */
export function sanitizeBody(html: string): string {
  return sanitizeHtml(html, OPTIONS);
}
