import fc from 'fast-check';
import { canonicalRevision, contentHash, RevisionFields } from 'src/modules/posts/content-hash';

const revision = (overrides: Partial<RevisionFields> = {}): RevisionFields => ({
  title: '关于举办2025年迎新晚会的通知',
  summary: '欢迎新同学',
  body: '<p>晚会将于<strong>9月1日</strong>举行。</p>',
  coverImageUrl: 'https://cdn.example.edu.cn/cover.jpg',
  channelIds: ['ch-web', 'ch-wechat'],
  publishAt: '2025-09-01T10:00:00.000Z',
  ...overrides,
});

describe('contentHash', () => {
  it('is pinned: approvals already stored carry this exact hash', () => {
    // If this fails, the canonical form changed and every stored approval stops matching.
    expect(canonicalRevision(revision())).toBe(
      '{"title":"关于举办2025年迎新晚会的通知","summary":"欢迎新同学",' +
        '"body":"<p>晚会将于<strong>9月1日</strong>举行。</p>",' +
        '"coverImageUrl":"https://cdn.example.edu.cn/cover.jpg",' +
        '"channelIds":["ch-web","ch-wechat"],"publishAt":"2025-09-01T10:00:00.000Z"}',
    );
    expect(contentHash(revision())).toBe(
      '1387b391387d5522be7d908affc7ca48292ebb25bbcf375cee2b467fbf8750fd',
    );
    expect(
      contentHash({
        title: 'T',
        summary: null,
        body: '',
        coverImageUrl: null,
        channelIds: [],
        publishAt: null,
      }),
    ).toBe('a3ba6cc7fbd536696fa0560a22e35d23a43bf248a4454419630abd08c85017b6');
  });

  it('is 64 lowercase hex characters', () => {
    expect(contentHash(revision())).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not depend on the key order of the object it is given', () => {
    const r = revision();
    const shuffled = {
      publishAt: r.publishAt,
      channelIds: r.channelIds,
      body: r.body,
      coverImageUrl: r.coverImageUrl,
      summary: r.summary,
      title: r.title,
    };
    expect(contentHash(shuffled)).toBe(contentHash(r));
  });

  it('ignores properties that are not revision content', () => {
    const entity = { ...revision(), id: 'rev-1', number: 3, createdAt: new Date() };
    expect(contentHash(entity)).toBe(contentHash(revision()));
  });

  it('treats target channels as a set: order and repeats do not matter', () => {
    const h = contentHash(revision({ channelIds: ['ch-web', 'ch-wechat'] }));
    expect(contentHash(revision({ channelIds: ['ch-wechat', 'ch-web'] }))).toBe(h);
    expect(contentHash(revision({ channelIds: ['ch-wechat', 'ch-web', 'ch-wechat'] }))).toBe(h);
  });

  it('hashes NFC and NFD spellings of the same text alike', () => {
    // "Café Über" typed with precomposed vs combining characters.
    const nfc = 'Caf\u00e9 \u00dcber';
    const nfd = 'Cafe\u0301 U\u0308ber';
    expect(nfc).not.toBe(nfd);
    const h = contentHash(revision({ title: nfc, summary: nfc, body: `<p>${nfc}</p>` }));
    expect(contentHash(revision({ title: nfd, summary: nfd, body: `<p>${nfd}</p>` }))).toBe(h);
  });

  it('hashes every spelling of one publish instant alike', () => {
    const h = contentHash(revision({ publishAt: '2025-09-01T10:00:00.000Z' }));
    expect(contentHash(revision({ publishAt: '2025-09-01T10:00:00Z' }))).toBe(h);
    expect(contentHash(revision({ publishAt: '2025-09-01T18:00:00+08:00' }))).toBe(h);
    expect(contentHash(revision({ publishAt: '2025-09-01T10:00:00.001Z' }))).not.toBe(h);
  });

  it('refuses a publishAt that is not a date rather than hashing garbage', () => {
    expect(() => contentHash(revision({ publishAt: 'next Tuesday' }))).toThrow(RangeError);
  });

  it.each<[string, Partial<RevisionFields>]>([
    ['the title changes', { title: '关于举办2025年迎新晚会的通知（更正）' }],
    ['one character of the title changes', { title: '关于举办2026年迎新晚会的通知' }],
    ['the summary changes', { summary: '欢迎新同学！' }],
    ['the summary becomes null', { summary: null }],
    ['the summary becomes empty', { summary: '' }],
    ['the body changes', { body: '<p>晚会将于<strong>9月2日</strong>举行。</p>' }],
    ['only the body markup changes', { body: '<p>晚会将于<em>9月1日</em>举行。</p>' }],
    ['the cover image changes', { coverImageUrl: 'https://cdn.example.edu.cn/cover2.jpg' }],
    ['the cover image is removed', { coverImageUrl: null }],
    ['a channel is added', { channelIds: ['ch-web', 'ch-wechat', 'ch-weibo'] }],
    ['a channel is removed', { channelIds: ['ch-web'] }],
    ['publishAt moves by a second', { publishAt: '2025-09-01T10:00:01.000Z' }],
    ['publishAt is cleared', { publishAt: null }],
  ])('changes when %s', (_name, change) => {
    expect(contentHash(revision(change))).not.toBe(contentHash(revision()));
  });

  it('cannot be fooled by moving text between fields', () => {
    const a = revision({ title: 'AB', summary: 'C' });
    const b = revision({ title: 'A', summary: 'BC' });
    expect(contentHash(a)).not.toBe(contentHash(b));
    const c = revision({ channelIds: ['a,b'] });
    const d = revision({ channelIds: ['a', 'b'] });
    expect(contentHash(c)).not.toBe(contentHash(d));
  });

  it('is stable under any permutation and duplication of channel ids', () => {
    fc.assert(
      fc.property(
        fc
          .uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 6 })
          .chain((ids) =>
            fc.tuple(
              fc.constant(ids),
              fc.shuffledSubarray(ids, { minLength: ids.length, maxLength: ids.length }),
            ),
          ),
        ([ids, shuffled]) => {
          const withRepeats = [...shuffled, ...shuffled.slice(0, 2)];
          expect(contentHash(revision({ channelIds: withRepeats }))).toBe(
            contentHash(revision({ channelIds: ids })),
          );
        },
      ),
    );
  });

  it('tells apart any two different titles', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        fc.pre(a.normalize('NFC') !== b.normalize('NFC'));
        expect(contentHash(revision({ title: a }))).not.toBe(contentHash(revision({ title: b })));
      }),
    );
  });
});
