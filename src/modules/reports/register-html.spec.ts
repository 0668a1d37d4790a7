import { beijingTime, escapeHtml, renderRegister } from 'src/modules/reports/register-html';

describe('the printed register', () => {
  it('escapes every character that could open markup or an attribute', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
    expect(escapeHtml(null)).toBe('');
  });

  it('shows times in Beijing time', () => {
    expect(beijingTime(new Date('2026-11-21T20:30:05.900Z'))).toBe('2026-11-22 04:30:05');
    expect(beijingTime(null)).toBe('—');
  });

  it('renders text from the database as text, and says what is missing', () => {
    const at = new Date('2026-11-21T08:30:00Z');
    const html = renderRegister({
      post: {
        id: 'p1',
        title: '</title><script>x()</script>',
        state: 'draft',
        department: '外国语学院',
        author: '李明（liming）',
        createdAt: at,
        currentRevisionNumber: 1,
      },
      revisions: [{ number: 1, title: '<b>t</b>', createdAt: at, contentHash: 'a'.repeat(64) }],
      decisions: [],
      publications: [],
      chainHead: { lastEventId: 7, headHash: 'f'.repeat(64) },
      generatedAt: at,
      generatedBy: '审计员',
    });
    expect(html).not.toMatch(/<script|<b>/);
    expect(html).toContain('&lt;/title&gt;&lt;script&gt;x()&lt;/script&gt;');
    expect(html).toContain('尚未送审');
    expect(html).toContain('尚未发布');
    expect(html).toContain('f'.repeat(64));
    expect(html).toContain('size: A4');
  });
});
