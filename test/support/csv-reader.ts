/**
 * RFC 4180, strictly, fed in chunks: records end in CRLF; quoted fields may hold commas,
 * doubled quotes and line breaks; anything else (a bare LF, text after a closing quote) throws.
 */
export class CsvReader {
  private buf = '';
  constructor(private readonly onRow: (row: string[]) => void) {}

  push(chunk: string): void {
    this.buf += chunk;
    this.buf = this.buf.slice(this.parse(this.buf, false));
  }

  end(): void {
    if (this.buf) this.parse(`${this.buf}\r\n`, true);
    this.buf = '';
  }

  /** Emits every complete record of `s`; returns where the incomplete rest begins. */
  private parse(s: string, final: boolean): number {
    let done = 0;
    let i = 0;
    let row: string[] = [];
    const delimiter = /[,\r\n"]/g;
    for (;;) {
      let field: string;
      if (s[i] === '"') {
        let j = s.indexOf('"', i + 1);
        while (j !== -1 && s[j + 1] === '"') j = s.indexOf('"', j + 2);
        if (j === -1 || j + 1 >= s.length) {
          if (final) throw new Error('unterminated quoted field');
          return done;
        }
        field = s.slice(i + 1, j).replace(/""/g, '"');
        i = j + 1;
      } else {
        delimiter.lastIndex = i;
        const m = delimiter.exec(s);
        if (!m) return done;
        if (m[0] === '"') throw new Error(`quote inside an unquoted field at ${m.index}`);
        field = s.slice(i, m.index);
        i = m.index;
      }
      row.push(field);
      if (s[i] === ',') {
        i++;
      } else if (s[i] === '\r' && s[i + 1] === '\n') {
        i += 2;
        this.onRow(row);
        row = [];
        done = i;
        if (i >= s.length) return done;
      } else if (s[i] === '\r' && i + 1 >= s.length && !final) {
        return done;
      } else {
        throw new Error(`expected , or CRLF at ${i}, found ${JSON.stringify(s[i])}`);
      }
    }
  }
}
