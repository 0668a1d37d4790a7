import fc from 'fast-check';
import { Change, DiffableRevision, diffRevisions } from 'src/modules/posts/revision-diff';

const rev = (number: number, overrides: Partial<DiffableRevision> = {}): DiffableRevision => ({
  number,
  title: '关于举办2024年迎新晚会的通知',
  summary: '欢迎新同学参加',
  body: '<p>第一段</p><p>第二段</p><p>第三段</p>',
  ...overrides,
});

const oldSide = (changes: Change[]) =>
  changes
    .filter((c) => c.op !== 'insert')
    .map((c) => c.text)
    .join('');
const newSide = (changes: Change[]) =>
  changes
    .filter((c) => c.op !== 'delete')
    .map((c) => c.text)
    .join('');

describe('diffRevisions', () => {
  it('shows a one-character edit of a Chinese title exactly', () => {
    const d = diffRevisions(rev(1), rev(2, { title: '关于举办2025年迎新晚会的通知' }));
    expect(d.fields.title).toEqual([
      { op: 'equal', text: '关于举办202' },
      { op: 'delete', text: '4' },
      { op: 'insert', text: '5' },
      { op: 'equal', text: '年迎新晚会的通知' },
    ]);
    expect(d.changed).toEqual(['title']);
  });

  it('shows inserted and deleted Chinese characters without needing spaces', () => {
    const d = diffRevisions(
      rev(1, { title: '迎新晚会通知' }),
      rev(2, { title: '2025迎新文艺晚会的通知' }),
    );
    expect(d.fields.title).toEqual([
      { op: 'insert', text: '2025' },
      { op: 'equal', text: '迎新' },
      { op: 'insert', text: '文艺' },
      { op: 'equal', text: '晚会' },
      { op: 'insert', text: '的' },
      { op: 'equal', text: '通知' },
    ]);
  });

  it('never splits a character outside the Basic Multilingual Plane', () => {
    const d = diffRevisions(rev(1, { title: '𠮷野家' }), rev(2, { title: '吉野家' }));
    expect(d.fields.title).toEqual([
      { op: 'delete', text: '𠮷' },
      { op: 'insert', text: '吉' },
      { op: 'equal', text: '野家' },
    ]);
  });

  it('gives an unchanged field one equal change and leaves it out of `changed`', () => {
    const d = diffRevisions(rev(1), rev(2, { title: '新标题' }));
    expect(d.fields.summary).toEqual([{ op: 'equal', text: '欢迎新同学参加' }]);
    expect(d.fields.body).toEqual([{ op: 'equal', text: '第一段\n第二段\n第三段\n' }]);
    expect(d.changed).toEqual(['title']);
  });

  it('reports nothing changed between identical revisions', () => {
    const d = diffRevisions(rev(3), rev(4));
    expect(d).toEqual({
      from: 3,
      to: 4,
      fields: {
        title: [{ op: 'equal', text: '关于举办2024年迎新晚会的通知' }],
        summary: [{ op: 'equal', text: '欢迎新同学参加' }],
        body: [{ op: 'equal', text: '第一段\n第二段\n第三段\n' }],
      },
      changed: [],
    });
  });

  it('treats an empty field as one empty equal change', () => {
    const d = diffRevisions(rev(1, { summary: null, body: '' }), rev(2, { summary: '', body: '' }));
    expect(d.fields.summary).toEqual([{ op: 'equal', text: '' }]);
    expect(d.fields.body).toEqual([{ op: 'equal', text: '' }]);
    expect(d.changed).toEqual([]);
  });

  it('shows a summary that was added', () => {
    const d = diffRevisions(rev(1, { summary: null }), rev(2, { summary: '新增摘要' }));
    expect(d.fields.summary).toEqual([{ op: 'insert', text: '新增摘要' }]);
    expect(d.changed).toEqual(['summary']);
  });

  it('diffs the body by paragraph on its reading text', () => {
    const d = diffRevisions(
      rev(1),
      rev(2, {
        body: '<p>第一段</p><p>第二段（<strong>修改</strong>）</p><p>第三段</p><p>新增段</p>',
      }),
    );
    expect(d.fields.body).toEqual([
      { op: 'equal', text: '第一段\n' },
      { op: 'delete', text: '第二段\n' },
      { op: 'insert', text: '第二段（修改）\n' },
      { op: 'equal', text: '第三段\n' },
      { op: 'insert', text: '新增段\n' },
    ]);
    expect(d.changed).toEqual(['body']);
  });

  it('shows a link that now points elsewhere although its text is the same', () => {
    const d = diffRevisions(
      rev(1, { body: '<p>报名<a href="https://www.example.edu.cn/form">点此</a></p>' }),
      rev(2, { body: '<p>报名<a href="https://evil.example/form">点此</a></p>' }),
    );
    expect(d.fields.body).toEqual([
      { op: 'delete', text: '报名点此 <https://www.example.edu.cn/form>\n' },
      { op: 'insert', text: '报名点此 <https://evil.example/form>\n' },
    ]);
  });

  it('lists a markup-only body change in `changed` even though the text is all equal', () => {
    const d = diffRevisions(
      rev(1),
      rev(2, { body: '<p>第一段</p><p><strong>第二段</strong></p><p>第三段</p>' }),
    );
    expect(d.fields.body).toEqual([{ op: 'equal', text: '第一段\n第二段\n第三段\n' }]);
    expect(d.changed).toEqual(['body']);
  });

  it('does not call NFC and NFD spellings a change, as the content hash does not', () => {
    const d = diffRevisions(rev(1, { title: 'Caf\u00e9' }), rev(2, { title: 'Cafe\u0301' }));
    expect(d.changed).toEqual([]);
    expect(d.fields.title).toEqual([{ op: 'equal', text: 'Caf\u00e9' }]);
  });

  it('lists changed fields in a fixed order and carries the revision numbers', () => {
    const d = diffRevisions(rev(5), rev(2, { title: 'x', summary: 'y', body: '<p>z</p>' }));
    expect(d.changed).toEqual(['title', 'summary', 'body']);
    expect([d.from, d.to]).toEqual([5, 2]);
  });

  it('always rebuilds both titles from its changes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        const { title } = diffRevisions(rev(1, { title: a }), rev(2, { title: b })).fields;
        expect(oldSide(title)).toBe(a.normalize('NFC'));
        expect(newSide(title)).toBe(b.normalize('NFC'));
      }),
    );
  });

  it('always rebuilds both bodies, line by line, from its changes', () => {
    const paragraph = fc.constantFrom('一', '二', '三', '四', '五');
    fc.assert(
      fc.property(
        fc.array(paragraph, { maxLength: 8 }),
        fc.array(paragraph, { maxLength: 8 }),
        (a, b) => {
          const html = (ps: string[]) => ps.map((p) => `<p>${p}</p>`).join('');
          const text = (ps: string[]) => ps.map((p) => `${p}\n`).join('');
          const { body } = diffRevisions(
            rev(1, { body: html(a) }),
            rev(2, { body: html(b) }),
          ).fields;
          expect(oldSide(body)).toBe(text(a));
          expect(newSide(body)).toBe(text(b));
          for (const c of body) expect(c.text === '' || c.text.endsWith('\n')).toBe(true);
        },
      ),
    );
  });
});
