import * as ExcelJS from 'exceljs';
import { PassThrough } from 'node:stream';
import { CsvSink, csvField, csvLine, XlsxSink, xlsxCell } from 'src/modules/reports/table-stream';

async function collect(stream: PassThrough, work: () => Promise<void>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((r) => stream.on('end', r));
  await work();
  await ended;
  return Buffer.concat(chunks);
}

describe('csvField', () => {
  it('quotes per RFC 4180 only when needed', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
    expect(csvField('cr\r')).toBe('"cr\r"');
    expect(csvField(null)).toBe('');
    expect(csvField(0.25)).toBe('0.25');
    expect(csvField(Number.NaN)).toBe('');
  });

  it('defuses text a spreadsheet would run as a formula', () => {
    expect(csvField('=1+1')).toBe("'=1+1");
    expect(csvField('+86 10 1234')).toBe("'+86 10 1234");
    expect(csvField('-2')).toBe("'-2");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('\tx')).toBe("'\tx");
    expect(csvField('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    // Numbers are numbers: a negative count stays a number.
    expect(csvField(-2)).toBe('-2');
    expect(csvField('a=b')).toBe('a=b');
  });

  it('ends each line with CRLF', () => {
    expect(csvLine(['a', 1, null])).toBe('a,1,\r\n');
  });
});

describe('xlsxCell', () => {
  it('replaces lone surrogates and cuts text to what a cell holds', () => {
    expect(xlsxCell('ok 中文 😀')).toBe('ok 中文 😀');
    expect(xlsxCell('bad \uD800 x')).toBe('bad \uFFFD x');
    const long = xlsxCell('x'.repeat(40_000)) as string;
    expect(long).toHaveLength(32_767);
    expect(long.endsWith('…')).toBe(true);
    expect(xlsxCell(3)).toBe(3);
  });
});

describe('CsvSink', () => {
  it('writes a BOM, the header and the rows, waiting for drain', async () => {
    const out = new PassThrough({ highWaterMark: 16 });
    const body = await collect(out, async () => {
      const sink = new CsvSink(out, ['id', 'name']);
      await sink.write([
        [1, '张三'],
        [2, '李四, "老李"'],
      ]);
      await sink.end();
    });
    expect(body.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(body.subarray(3).toString('utf8')).toBe('id,name\r\n1,张三\r\n2,"李四, ""老李"""\r\n');
  });
});

describe('XlsxSink', () => {
  it('carries on in a further sheet past the row limit', async () => {
    const out = new PassThrough();
    const body = await collect(out, async () => {
      const sink = new XlsxSink(out, ['id', 'text'], 'events', 3);
      await sink.write([
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
        [4, '=d'],
        [5, null],
      ]);
      await sink.end();
    });
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(body as unknown as ArrayBuffer);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['events', 'events (2)', 'events (3)']);
    const values = wb.worksheets.map((w) => {
      const rows: unknown[][] = [];
      w.eachRow((r) => rows.push((r.values as unknown[]).slice(1)));
      return rows;
    });
    expect(values).toEqual([
      [
        ['id', 'text'],
        [1, 'a'],
        [2, 'b'],
      ],
      [
        ['id', 'text'],
        [3, 'c'],
        [4, '=d'],
      ],
      [['id', 'text'], [5]],
    ]);
  });
});
