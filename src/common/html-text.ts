import sanitizeHtml from 'sanitize-html';

/*
 * A post body's plain text, shared by the posts module (search, diffs) and screening (whose hit
 * offsets refer to it), so neither depends on the other.
 */

/**
 * Dropped with everything inside them: their content is code, a fallback for an embed, or
 * markup-that-is-not-text, none of which belongs in the article's text.
 */
export const DROP_WITH_CONTENT = [
  'script',
  'style',
  'textarea',
  'option',
  'select',
  'xmp',
  'noscript',
  'noembed',
  'noframes',
  'template',
  'iframe',
  'object',
  'embed',
  'svg',
  'math',
  'title',
  'head',
];

/** Elements that start a new line of text. */
const BLOCK_TAGS = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'caption',
  'dd',
  'div',
  'dl',
  'dt',
  'figcaption',
  'figure',
  'footer',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'header',
  'hr',
  'li',
  'main',
  'nav',
  'ol',
  'p',
  'pre',
  'section',
  'table',
  'tbody',
  'tfoot',
  'thead',
  'tr',
  'ul',
]);

const CELL_TAGS = new Set(['td', 'th']);

export interface BodyTextOptions {
  /**
   * Also write link targets and image sources into the text, so that a diff shows a link that now
   * points elsewhere or an image that was swapped, which the visible text alone would hide.
   */
  urls?: boolean;
}

/**
 * The text a reader sees: tags removed, entities decoded, whitespace collapsed as a browser would
 * (no-break spaces included), one line per block element (paragraph, heading, list item, table
 * row), table cells separated by a tab, empty lines dropped. For search, diffs and screening.
 */
export function bodyText(html: string, options: BodyTextOptions = {}): string {
  const lines: string[] = [];
  let line = '';
  let lineHasPre = false;
  let preDepth = 0;
  const hrefs: Array<string | undefined> = [];

  const endLine = () => {
    // Indentation inside <pre> is content; everywhere else edge whitespace is layout.
    const text = lineHasPre ? line.trimEnd() : line.replace(/ {2,}/g, ' ').trim();
    if (text !== '') lines.push(text);
    line = '';
    lineHasPre = false;
  };

  sanitizeHtml(html, {
    allowedTags: [],
    allowedAttributes: {},
    disallowedTagsMode: 'discard',
    nonTextTags: DROP_WITH_CONTENT,
    onOpenTag: (name, attribs) => {
      if (BLOCK_TAGS.has(name) || name === 'br') endLine();
      if (name === 'pre') preDepth++;
      if (name === 'a') hrefs.push(attribs.href);
      if (name === 'img' && options.urls && attribs.src) line += ` [image: ${attribs.src}] `;
    },
    onCloseTag: (name) => {
      if (BLOCK_TAGS.has(name)) endLine();
      if (CELL_TAGS.has(name)) line += '\t';
      if (name === 'pre') preDepth = Math.max(0, preDepth - 1);
      if (name === 'a') {
        const href = hrefs.pop();
        if (options.urls && href) line += ` <${href}> `;
      }
    },
    // sanitize-html hands over the text escaped for its own output; undo exactly that escaping.
    textFilter: (escaped) => {
      const text = escaped.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
      if (preDepth > 0) {
        const [first, ...rest] = text.split(/\r?\n/);
        line += first;
        lineHasPre = true;
        for (const next of rest) {
          endLine();
          line = next;
          lineHasPre = true;
        }
      } else {
        line += text.replace(/[ \t\n\r\f\u00a0]+/g, ' ');
      }
      return '';
    },
  });
  endLine();

  return lines.join('\n');
}

/**
 * Every `<img src>` of a body, in order, each once, as the HTML parser reads them (entities
 * decoded). A parser, never a pattern: a URL inside another attribute (`alt="x src='...'"`) or a
 * comment is text, not an image, exactly as the reviewer's browser sees it.
 */
export function imageSources(html: string): string[] {
  const found = new Set<string>();
  sanitizeHtml(html, {
    allowedTags: [],
    allowedAttributes: {},
    nonTextTags: DROP_WITH_CONTENT,
    onOpenTag: (name, attribs) => {
      if (name === 'img' && attribs.src) found.add(attribs.src);
    },
  });
  return [...found];
}

/**
 * The body with each `<img src>` replaced as `replace` says (unchanged when it answers
 * undefined). Meant for bodies the sanitiser produced: it re-serialises everything else as it is.
 */
export function replaceImageSources(
  html: string,
  replace: (src: string) => string | undefined,
): string {
  return sanitizeHtml(html, {
    allowedTags: false,
    allowedAttributes: false,
    allowVulnerableTags: true,
    allowedSchemes: ['http', 'https', 'mailto'],
    nonTextTags: DROP_WITH_CONTENT,
    transformTags: {
      img: (tagName, attribs) => {
        const src = attribs.src ? replace(attribs.src) : undefined;
        return { tagName, attribs: src === undefined ? attribs : { ...attribs, src } };
      },
    },
  });
}
