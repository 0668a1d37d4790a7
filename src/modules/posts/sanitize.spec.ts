import fc from 'fast-check';
import sanitizeHtml from 'sanitize-html';
import { bodyText, sanitizeBody } from 'src/modules/posts/sanitize';

const ALLOWED: Record<string, string[]> = {
  p: [],
  br: [],
  hr: [],
  h1: [],
  h2: [],
  h3: [],
  h4: [],
  h5: [],
  h6: [],
  strong: [],
  b: [],
  em: [],
  i: [],
  u: [],
  s: [],
  sub: [],
  sup: [],
  blockquote: [],
  ul: [],
  ol: [],
  li: [],
  a: ['href', 'title', 'target', 'rel'],
  img: ['src', 'alt', 'title', 'width', 'height'],
  table: [],
  thead: [],
  tbody: [],
  tr: [],
  th: ['colspan', 'rowspan'],
  td: ['colspan', 'rowspan'],
  span: [],
  section: [],
  figure: [],
  figcaption: [],
  pre: [],
  code: [],
};

/**
 * Asserts that sanitised output holds nothing but allow-listed markup: every `<` opens or closes
 * an allowed tag (text `<` is escaped), every attribute is allowed for its tag, and every URL is
 * absolute with an allowed scheme.
 */
function expectHarmless(out: string) {
  const tagNames = Object.keys(ALLOWED).join('|');
  const stray = out.match(new RegExp(`<(?!/?(?:${tagNames})[\\s/>])`, 'gi'));
  expect({ out, stray }).toEqual({ out, stray: null });

  sanitizeHtml(out, {
    // Used here only as a parser to list what the output contains.
    allowedTags: false,
    allowedAttributes: false,
    allowVulnerableTags: true,
    onOpenTag: (name, attribs) => {
      expect(Object.keys(ALLOWED)).toContain(name);
      for (const [attr, value] of Object.entries(attribs)) {
        expect([name, ALLOWED[name]]).toEqual([name, expect.arrayContaining([attr])]);
        if (attr === 'href') expect(value).toMatch(/^(https?:\/\/|mailto:)/i);
        if (attr === 'src') expect(value).toMatch(/^https?:\/\//i);
        if (attr === 'target') expect(value).toBe('_blank');
      }
    },
  });
}

describe('sanitizeBody', () => {
  describe('removes every way to run code', () => {
    it.each<[string, string, string]>([
      ['script element', '<p>hi<script>alert(1)</script></p>', '<p>hi</p>'],
      ['external script', '<SCRIPT SRC=https://evil.example/x.js></SCRIPT>ok', 'ok'],
      ['img onerror', '<img src=x onerror=alert(1)>', ''],
      [
        'img onerror with a good src',
        '<img src="https://cdn.example.edu.cn/a.png" onerror="alert(1)">',
        '<img src="https://cdn.example.edu.cn/a.png" />',
      ],
      ['javascript: link', '<a href="javascript:alert(1)">x</a>', '<a>x</a>'],
      ['tab-split javascript: link', '<a href="jav&#x09;ascript:alert(1)">x</a>', '<a>x</a>'],
      ['newline-split javascript: link', '<a href="java\nscript:alert(1)">x</a>', '<a>x</a>'],
      [
        'entity-encoded javascript: link',
        '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
        '<a>x</a>',
      ],
      ['mixed-case, padded javascript:', '<a href="  JaVaScRiPt:alert(1)">x</a>', '<a>x</a>'],
      ['vbscript: link', '<a href="vbscript:msgbox(1)">x</a>', '<a>x</a>'],
      ['data: link', '<a href="data:text/html,<script>alert(1)</script>">x</a>', '<a>x</a>'],
      ['data: image', '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">', ''],
      ['javascript: image', '<img src="javascript:alert(1)">', ''],
      ['svg onload', '<svg onload=alert(1)><text>x</text></svg>after', 'after'],
      ['script inside svg', '<svg><script>alert(1)</script></svg>', ''],
      ['iframe', '<iframe src="https://evil.example/"></iframe>ok', 'ok'],
      ['iframe srcdoc', '<iframe srcdoc="<script>alert(1)</script>"></iframe>', ''],
      ['unclosed iframe', '<p>a</p><iframe src="https://evil.example/">', '<p>a</p>'],
      ['object', '<object data="https://evil.example/x.swf"><p>fallback</p></object>', ''],
      ['embed', '<embed src="https://evil.example/x.swf">', ''],
      [
        'form',
        '<form action="https://evil.example/"><input onfocus=alert(1) autofocus>x</form>',
        'x',
      ],
      ['event handler on allowed tag', '<p onclick="alert(1)">x</p>', '<p>x</p>'],
      ['body onload', '<body onload=alert(1)><p>x</p></body>', '<p>x</p>'],
      ['style attribute', '<p style="background:url(javascript:alert(1))">x</p>', '<p>x</p>'],
      ['style element', '<style>@import "https://evil.example/x.css";</style>x', 'x'],
      [
        'link and meta',
        '<link rel=stylesheet href=x><meta http-equiv=refresh content="0;url=x">x',
        'x',
      ],
      ['base', '<base href="https://evil.example/">x', 'x'],
      ['comment', '<!--<img src=x onerror=alert(1)>-->x', 'x'],
      ['nested script tags', '<<script>script>alert(1)<</script>/script>', '&lt;/script&gt;'],
      ['noscript mXSS', '<noscript><p title="</noscript><img src=x onerror=alert(1)>">', ''],
      ['xmp', '<xmp><img src=x onerror=alert(1)></xmp>', ''],
      ['textarea', '<textarea><img src=x onerror=alert(1)></textarea>', ''],
      [
        'math mXSS',
        '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>',
        '',
      ],
      [
        'mouseover on a good link',
        '<a href="https://ok.example/" onmouseover="alert(1)">x</a>',
        '<a href="https://ok.example/">x</a>',
      ],
    ])('%s', (_name, input, expected) => {
      const out = sanitizeBody(input);
      expect(out).toBe(expected);
      expectHarmless(out);
    });
  });

  describe('links and images', () => {
    it('keeps http, https and mailto links', () => {
      for (const href of [
        'http://a.example/',
        'https://a.example/x?y=1',
        'mailto:xcb@example.edu.cn',
      ]) {
        expect(sanitizeBody(`<a href="${href}">x</a>`)).toBe(`<a href="${href}">x</a>`);
      }
    });

    it('drops relative and protocol-relative URLs, which break once copied to another platform', () => {
      expect(sanitizeBody('<a href="/news/1.html">x</a>')).toBe('<a>x</a>');
      expect(sanitizeBody('<a href="//evil.example/">x</a>')).toBe('<a>x</a>');
      expect(sanitizeBody('<img src="/a.png">')).toBe('');
      expect(sanitizeBody('<img src="//cdn.example/a.png">')).toBe('');
    });

    it('drops mailto on images', () => {
      expect(sanitizeBody('<img src="mailto:a@b.example">')).toBe('');
    });

    it('adds rel="noopener noreferrer" to _blank links and drops any other target or rel', () => {
      expect(sanitizeBody('<a href="https://a.example/" target="_blank" rel="opener">x</a>')).toBe(
        '<a href="https://a.example/" target="_blank" rel="noopener noreferrer">x</a>',
      );
      expect(sanitizeBody('<a href="https://a.example/" target="_top" rel="opener">x</a>')).toBe(
        '<a href="https://a.example/">x</a>',
      );
    });

    it('escapes ampersands in URLs without changing them', () => {
      expect(sanitizeBody('<a href="https://a.example/?x=1&y=2">x</a>')).toBe(
        '<a href="https://a.example/?x=1&amp;y=2">x</a>',
      );
    });

    it('keeps non-ASCII URLs as written', () => {
      const html = '<img src="https://图片.example.cn/校园/封面.jpg" alt="校园" />';
      expect(sanitizeBody(html)).toBe(html);
    });
  });

  it('strips class, id and unknown attributes', () => {
    expect(sanitizeBody('<p class="x" id="y" data-z="1" align="center">x</p>')).toBe('<p>x</p>');
  });

  it('keeps the text of unknown elements but not the elements', () => {
    expect(sanitizeBody('<div><font color="red">红色</font><center>居中</center></div>')).toBe(
      '红色居中',
    );
  });

  it('leaves allowed markup exactly as it was', () => {
    const article =
      '<section><h1>一</h1><h2>二</h2><h3>三</h3><h4>四</h4><h5>五</h5><h6>六</h6>' +
      '<p>正文<strong>加粗</strong><b>粗</b><em>强调</em><i>斜</i><u>下划线</u><s>删除</s>' +
      'H<sub>2</sub>O，x<sup>2</sup><span>片段</span></p>' +
      '<blockquote><p>引用</p></blockquote><ul><li>甲</li></ul><ol><li>乙</li></ol>' +
      '<p><a href="https://www.example.edu.cn/news/1.html" title="新闻">链接</a> ' +
      '<a href="mailto:xcb@example.edu.cn">邮件</a> ' +
      '<a href="https://x.example/" target="_blank" rel="noopener noreferrer">新窗口</a></p>' +
      '<figure><img src="https://cdn.example.edu.cn/a.jpg" alt="校园" title="校园" width="640" height="480" />' +
      '<figcaption>图注</figcaption></figure>' +
      '<table><thead><tr><th colspan="2">表头</th></tr></thead>' +
      '<tbody><tr><td rowspan="2">a</td><td>b</td></tr></tbody></table>' +
      '<pre><code>const a = 1;\n  return a &lt; 2;</code></pre><hr /><p>第一行<br />第二行</p></section>';
    expect(sanitizeBody(article)).toBe(article);
    expectHarmless(article);
  });

  describe('is idempotent', () => {
    const samples = [
      '<p>a<script>x</script></p>',
      '<a href="https://a.example/" target="_blank">x</a>',
      '<b><i>misnested</b></i>',
      '<p>1 < 2 & 3 > 2 &amp;amp; &nbsp;</p>',
      '<<script>script>alert(1)<</script>/script>',
      '<img src="https://a.example/a.png" alt="">',
      '<table><tr><td>no tbody</td></tr></table>',
      '<p>unclosed <strong>bold',
    ];

    it.each(samples)('on %s', (html) => {
      const once = sanitizeBody(html);
      expect(sanitizeBody(once)).toBe(once);
    });

    const fragments = [
      '<p>',
      '</p>',
      '<a href="https://a.example/?q=1&r=2" target="_blank" onclick="x()">',
      '<a href="javascript:alert(1)">',
      '</a>',
      '<img src="https://a.example/i.png" onerror="x()">',
      '<img src="data:image/png;base64,AA">',
      '<script>',
      '</script>',
      '<iframe>',
      '<svg onload=x>',
      '</svg>',
      '<table>',
      '<tr>',
      '<td colspan="2" style="x">',
      '<br>',
      '<strong>',
      '</strong>',
      '<!--',
      '-->',
      '<',
      '>',
      '&',
      '&amp;',
      '&lt;',
      '&nbsp;',
      '"',
      '中文',
      ' ',
      '\n',
      'text',
    ];

    it('on any mix of tags, broken markup and text', () => {
      fc.assert(
        fc.property(fc.array(fc.constantFrom(...fragments), { maxLength: 30 }), (parts) => {
          const once = sanitizeBody(parts.join(''));
          expect(sanitizeBody(once)).toBe(once);
          expectHarmless(once);
        }),
        { numRuns: 500 },
      );
    });

    it('on arbitrary strings', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
          const once = sanitizeBody(s);
          expect(sanitizeBody(once)).toBe(once);
        }),
        { numRuns: 500 },
      );
    });
  });
});

describe('bodyText', () => {
  it('puts each paragraph, heading and list item on its own line', () => {
    expect(bodyText('<h1>标题</h1><p>第一段</p><p>第二段</p><ul><li>一</li><li>二</li></ul>')).toBe(
      '标题\n第一段\n第二段\n一\n二',
    );
  });

  it('adds no spaces between inline elements: Chinese has none', () => {
    expect(bodyText('<p>中<strong>文</strong><a href="https://a.example/">字</a>符</p>')).toBe(
      '中文字符',
    );
  });

  it('breaks lines at <br>', () => {
    expect(bodyText('<p>第一行<br />第二行</p>')).toBe('第一行\n第二行');
  });

  it('decodes entities', () => {
    expect(bodyText('<p>&lt;b&gt; &amp; &quot;引号&quot; &#x4E2D;&#25991; &copy;</p>')).toBe(
      '<b> & "引号" 中文 ©',
    );
  });

  it('collapses whitespace as a browser does, no-break spaces included', () => {
    expect(bodyText('<p>\n   a \t  b\n  c&nbsp;&nbsp;d  </p>\n\n<p>  e  </p>')).toBe('a b c d\ne');
  });

  it('drops empty paragraphs', () => {
    expect(bodyText('<p>a</p><p></p><p>&nbsp;</p><p><br></p><p>b</p>')).toBe('a\nb');
  });

  it('writes a table row per line with cells separated by tabs', () => {
    expect(
      bodyText(
        '<table><thead><tr><th>姓名</th><th>学院</th></tr></thead>' +
          '<tbody><tr><td>张三</td><td>化学</td></tr></tbody></table>',
      ),
    ).toBe('姓名\t学院\n张三\t化学');
  });

  it('keeps the layout of preformatted text', () => {
    expect(bodyText('<p>代码：</p><pre><code>if (a) {\n  return 1;\n}</code></pre>')).toBe(
      '代码：\nif (a) {\n  return 1;\n}',
    );
  });

  it('leaves out scripts, styles and other non-text content', () => {
    expect(
      bodyText('<p>a</p><script>var x = 1;</script><style>p{}</style><svg><text>t</text></svg>'),
    ).toBe('a');
  });

  it('is empty for an empty body', () => {
    expect(bodyText('')).toBe('');
    expect(bodyText('<p></p>')).toBe('');
  });

  it('leaves out URLs unless asked, then writes link targets and image sources', () => {
    const html =
      '<p>详见<a href="https://www.example.edu.cn/n/1">通知</a></p>' +
      '<p><img src="https://cdn.example.edu.cn/a.jpg" alt="校园" /></p>';
    expect(bodyText(html)).toBe('详见通知');
    expect(bodyText(html, { urls: true })).toBe(
      '详见通知 <https://www.example.edu.cn/n/1>\n[image: https://cdn.example.edu.cn/a.jpg]',
    );
  });

  it('gives back any plain text it is wrapped around, whitespace collapsed', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 60 }).filter((s) => !/[<&]/.test(s)),
        (s) => {
          const expected = s.replace(/[ \t\n\r\f]+/g, ' ').trim();
          expect(bodyText(sanitizeBody(`<p>${s}</p>`))).toBe(expected);
        },
      ),
    );
  });
});
