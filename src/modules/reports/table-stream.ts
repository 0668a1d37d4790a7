import { Logger } from '@nestjs/common';
import type { Response } from 'express';
import * as ExcelJS from 'exceljs';
import type { Writable } from 'node:stream';
import { safeMessage } from 'src/common/log-safe';

export type Cell = string | number | null;
export type ExportFormat = 'csv' | 'xlsx';

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/** Excel's limits: rows per sheet (the header included) and characters per cell. */
export const XLSX_MAX_ROWS = 1_048_576;
export const XLSX_MAX_CELL_CHARS = 32_767;

const BOM = '\uFEFF';
const CSV_CHUNK_CHARS = 16 * 1024;

/**
 * One CSV field (RFC 4180). A text cell that a spreadsheet would read as a formula
 * (= + - @, or a leading tab / carriage return) gets a leading apostrophe, so an
 * opened export never runs what someone typed as a reason or a title.
 */
export function csvField(value: Cell): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const s = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(cells: readonly Cell[]): string {
  return `${cells.map(csvField).join(',')}\r\n`;
}

/** Text as XML can carry it (no lone surrogates) and as Excel accepts it (cell length). */
export function xlsxCell(value: Cell): Cell {
  if (typeof value !== 'string') return value;
  const wellFormed = value.replace(
    /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    '\uFFFD',
  );
  return wellFormed.length > XLSX_MAX_CELL_CHARS
    ? `${wellFormed.slice(0, XLSX_MAX_CELL_CHARS - 1)}…`
    : wellFormed;
}

/**
 * Whether the stream asked to be left alone until 'drain'. exceljs' zip entries are
 * readable-stream 2 streams, which predate `writableNeedDrain`: read their state.
 */
function needsDrain(stream: Writable): boolean {
  if (stream.destroyed) return false;
  if (typeof stream.writableNeedDrain === 'boolean') return stream.writableNeedDrain;
  return (
    (stream as unknown as { _writableState?: { needDrain?: boolean } })._writableState
      ?.needDrain === true
  );
}

/**
 * Resolves once the stream can take more, or when it or `out` (the response) is gone:
 * a wait on an inner stream never outlives the client.
 */
function drained(stream: Writable | undefined, out?: Writable): Promise<void> {
  if (!stream || !needsDrain(stream) || out?.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      out?.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
    out?.on('close', done);
  });
}

export type Rows = readonly (readonly Cell[])[];

/**
 * `write` serialises the page at once and returns a promise for the moment the
 * output can take more: nothing holds on to the page while the client catches up,
 * so a page dies young instead of piling up in the old generation until a full GC.
 */
export interface TableSink {
  write(rows: Rows): Promise<void>;
  end(): Promise<void>;
}

/** UTF-8 with a BOM (so Excel reads Chinese), CRLF lines; waits for 'drain' between pages. */
export class CsvSink implements TableSink {
  constructor(
    private readonly out: Writable,
    header: readonly string[],
  ) {
    out.write(BOM + csvLine(header));
  }

  write(rows: Rows): Promise<void> {
    // Encoded here, in small chunks: what waits in the socket's queue is then buffers
    // (outside the JS heap, and their growth prompts a collection) rather than strings
    // that outlive a few scavenges, get promoted, and pile up until a full GC.
    let chunk = '';
    for (const row of rows) {
      chunk += csvLine(row);
      if (chunk.length >= CSV_CHUNK_CHARS) {
        this.out.write(Buffer.from(chunk, 'utf8'));
        chunk = '';
      }
    }
    if (chunk) this.out.write(Buffer.from(chunk, 'utf8'));
    return drained(this.out);
  }

  end(): Promise<void> {
    return new Promise((resolve) => this.out.end(resolve));
  }
}

/**
 * exceljs' streaming writer: each row is committed (serialised and let go) as it is
 * added, strings are written inline (no shared-string table held until the end).
 * exceljs ignores backpressure between a sheet and the zip, so after each page this
 * waits for the sheet's zip entry to drain as well as for the response.
 */
export class XlsxSink implements TableSink {
  private readonly workbook: ExcelJS.stream.xlsx.WorkbookWriter;
  private sheet: ExcelJS.Worksheet;
  private sheetRows = 0;
  private sheets = 0;

  constructor(
    private readonly out: Writable,
    private readonly header: readonly string[],
    private readonly sheetName: string,
    private readonly maxRows = XLSX_MAX_ROWS,
  ) {
    this.workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
      stream: out,
      useStyles: false,
      useSharedStrings: false,
    });
    this.sheet = this.openSheet();
  }

  write(rows: Rows): Promise<void> {
    for (const row of rows) {
      // Past Excel's row limit the table carries on in a further sheet.
      if (this.sheetRows >= this.maxRows) {
        this.sheet.commit();
        this.sheet = this.openSheet();
      }
      this.sheet.addRow(row.map(xlsxCell)).commit();
      this.sheetRows++;
    }
    return drained(this.entryStream(), this.out).then(() => drained(this.out));
  }

  async end(): Promise<void> {
    this.sheet.commit();
    await this.workbook.commit();
  }

  private openSheet(): ExcelJS.Worksheet {
    this.sheets++;
    const name = this.sheets === 1 ? this.sheetName : `${this.sheetName} (${this.sheets})`;
    const sheet = this.workbook.addWorksheet(name, {
      views: [{ state: 'frozen', ySplit: 1 }],
    });
    sheet.columns = this.header.map((h) => ({ key: h, width: Math.max(12, h.length + 2) }));
    sheet.addRow([...this.header]).commit();
    this.sheetRows = 1;
    return sheet;
  }

  /** The pass-through archiver reads the sheet from (exceljs internals; absent, only the response paces). */
  private entryStream(): Writable | undefined {
    const buf = (this.sheet as unknown as { stream?: { pipes?: Writable[] } }).stream;
    return buf?.pipes?.[0];
  }
}

export interface TableExport {
  format: ExportFormat;
  /** Without extension; ASCII, so every browser keeps it. */
  filename: string;
  sheetName: string;
  header: readonly string[];
  /** Pages of rows, read lazily: the next page is fetched only once the last one is written. */
  pages: AsyncIterable<Rows> | Iterable<Rows>;
}

const logger = new Logger('TableExport');

/**
 * Streams a table to the response page by page. The first page is read before any
 * header is sent, so a failing query still answers with an error body; a failure
 * later can only cut the transfer short, which the client sees as an incomplete download.
 */
export async function sendTable(res: Response, t: TableExport): Promise<void> {
  const pages =
    Symbol.asyncIterator in t.pages
      ? t.pages[Symbol.asyncIterator]()
      : (async function* () {
          yield* t.pages as Iterable<Rows>;
        })();
  // Read before the headers go out, so that a failing first query still answers as an error.
  let next: IteratorResult<Rows> | null = await pages.next();
  let gone = false;
  res.on('close', () => {
    gone = !res.writableFinished;
  });
  res.status(200);
  res.setHeader('Content-Type', CONTENT_TYPES[t.format]);
  res.setHeader(
    'Content-Disposition',
    `attachment; filename="${t.filename}.${t.format}"; filename*=UTF-8''${encodeURIComponent(`${t.filename}.${t.format}`)}`,
  );
  res.setHeader('Cache-Control', 'no-store');
  const sink: TableSink =
    t.format === 'csv' ? new CsvSink(res, t.header) : new XlsxSink(res, t.header, t.sheetName);
  try {
    while (!next.done) {
      const writable = sink.write(next.value);
      next = null;
      await writable;
      if (gone) {
        await pages.return?.();
        return;
      }
      next = await pages.next();
    }
    await sink.end();
  } catch (e) {
    logger.error(`export ${t.filename} failed: ${safeMessage(e)}`);
    res.destroy(e instanceof Error ? e : new Error(String(e)));
  }
}
