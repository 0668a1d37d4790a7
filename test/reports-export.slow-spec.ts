import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { get as httpGet, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createInflateRaw } from 'node:zlib';
import request from 'supertest';
import { Role } from 'src/common/roles';
import { Transactions } from 'src/database/transactions';
import { chainHash, HashedEvent, HASHED_FIELDS } from 'src/modules/audit/audit-hash';
import { AuditService } from 'src/modules/audit/audit.service';
import { AuditEventsExportQuery } from 'src/modules/reports/dto/report.query';
import { EXPORT_PAGE_SIZE, ReportExportsService } from 'src/modules/reports/report-exports.service';
import { bearer, startApp, TestApp, USING_MYSQL } from 'test/harness';
import { builders } from 'test/support/builders';
import { CsvReader } from 'test/support/csv-reader';

/**
 * Slow by nature: a year of audit events (200,000) appended, then exported whole as CSV and
 * XLSX while this process's memory is watched, and an export abandoned half-way.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Counts the rows of an XLSX file's first sheet without loading the workbook: the zip's
 * central directory says where the sheet's deflated XML lies; it is inflated as a stream.
 * (exceljs' own streaming reader takes half a minute over 200,000 rows.)
 */
async function xlsxSheetRows(path: string): Promise<{ rows: number; lastId: number }> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const tail = Buffer.alloc(Math.min(size, 65_557));
    await fh.read(tail, 0, tail.length, size - tail.length);
    const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    if (eocd < 0) throw new Error('not a zip file');
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cd = Buffer.alloc(cdSize);
    await fh.read(cd, 0, cdSize, tail.readUInt32LE(eocd + 16));
    for (let i = 0; i < cd.length;) {
      if (cd.readUInt32LE(i) !== 0x02014b50) throw new Error('bad central directory');
      const method = cd.readUInt16LE(i + 10);
      const compressed = cd.readUInt32LE(i + 20);
      const nameLen = cd.readUInt16LE(i + 28);
      const skip = nameLen + cd.readUInt16LE(i + 30) + cd.readUInt16LE(i + 32);
      const local = cd.readUInt32LE(i + 42);
      const name = cd.toString('utf8', i + 46, i + 46 + nameLen);
      i += 46 + skip;
      if (name !== 'xl/worksheets/sheet1.xml') continue;
      expect(method).toBe(8);
      const header = Buffer.alloc(30);
      await fh.read(header, 0, 30, local);
      const start = local + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
      const xml = createReadStream(path, { start, end: start + compressed - 1 }).pipe(
        createInflateRaw(),
      );
      const decoder = new StringDecoder('utf8');
      let rows = 0;
      let carry = '';
      for await (const chunk of xml) {
        const text = carry + decoder.write(chunk as Buffer);
        rows += text.split('<row ').length - carry.split('<row ').length;
        carry = text.slice(-4096);
      }
      const lastRow = carry.slice(carry.lastIndexOf('<row '));
      const lastId = Number(/<c r="A\d+"[^>]*><v>(\d+)<\/v>/.exec(lastRow)?.[1]);
      return { rows, lastId };
    }
    throw new Error('no first worksheet');
  } finally {
    await fh.close();
  }
}

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

describe('reports: exporting a year of audit events in bounded memory', () => {
  const N = 200_000;
  let t: TestApp;
  let auditor: { token: string };
  let dir: string;
  let total: number;
  /** The size of the CSV export: the data, as text. */
  let dataBytes = 120 * 2 ** 20;

  /** Appends N events under the chain-head lock, hashed as the chain requires, in multi-row INSERTs. */
  async function appendEvents(n: number, people: string[]) {
    const columns = [...HASHED_FIELDS, 'prevHash', 'hash'] as const;
    const actions = [
      ['post.created', null, 'draft'],
      ['post.submitted', 'draft', 'pending_dept_review'],
      ['post.approved', 'pending_dept_review', 'pending_final_review'],
      ['post.rejected', 'pending_final_review', 'returned'],
      ['post.approved', 'pending_final_review', 'approved'],
    ] as const;
    const perInsert = USING_MYSQL ? 1000 : 500;
    // Five events per post, as a post goes through review.
    const posts = Array.from({ length: Math.ceil(n / 5) }, () => randomUUID());
    const start = Date.parse('2025-01-01T00:00:00.000Z');
    const row = `(${columns.map(() => '?').join(',')})`;
    const sql = (k: number) =>
      `INSERT INTO audit_events (${columns.map((col) => `\`${col}\``).join(',')}) VALUES ${Array(k).fill(row).join(',')}`;
    return t.app.get(Transactions).run(async (m) => {
      const head = await t.app.get(AuditService).lockHead(m);
      let prev = head.headHash;
      let id = head.lastEventId;
      for (let i = 0; i < n; i += perInsert) {
        const params: unknown[] = [];
        const k = Math.min(perInsert, n - i);
        for (let j = 0; j < k; j++) {
          const seq = i + j;
          const [action, fromState, toState] = actions[seq % actions.length];
          const e: HashedEvent = {
            id: ++id,
            createdAt: new Date(start + seq * 157_000).toISOString(),
            actorId: people[seq % people.length],
            actorRole: 'dept_reviewer',
            action,
            entityType: 'post',
            entityId: posts[Math.floor(seq / 5)],
            fromState,
            toState,
            revisionId: randomUUID(),
            contentHash: createHash('sha256').update(String(seq)).digest('hex'),
            comment:
              action === 'post.rejected' ? `第 ${seq} 号稿件：标题不准确，"数据"需核实` : null,
            details: `{"level":2,"revisionNumber":1,"round":${(seq % 3) + 1}}`,
            requestId: randomUUID(),
            ip: '10.12.0.7',
            userAgent:
              'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36',
          };
          const hash = chainHash(prev, e);
          params.push(
            ...columns.slice(0, 16).map((col) => e[col as keyof HashedEvent]),
            prev,
            hash,
          );
          prev = hash;
        }
        await m.query(sql(k), params);
      }
      await m.query('UPDATE audit_chain_head SET lastEventId = ?, headHash = ? WHERE id = 1', [
        id,
        prev,
      ]);
      return id;
    });
  }

  /** Downloads to a file while sampling this process's RSS (the export runs in it too). */
  async function download(path: string, to: string) {
    // Start from a collected heap, so that the insert's garbage is not mistaken for headroom.
    collectGarbage();
    // RSS, and the JS heap plus memory outside it (buffers): RSS after a collection keeps
    // freed pages the export could reuse unseen, the heap figures do not.
    const heap = () => {
      const u = process.memoryUsage();
      return u.heapUsed + u.external;
    };
    const baseline = process.memoryUsage.rss();
    const heapBaseline = heap();
    let peak = baseline;
    let heapPeak = heapBaseline;
    let samples = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
      if (++samples % 4 === 0) heapPeak = Math.max(heapPeak, heap());
    }, 5);
    const started = Date.now();
    try {
      // The body goes to a file: superagent may answer before the file is flushed, so
      // the file's own 'finish' is awaited too.
      let written!: Promise<void>;
      const res = await request(t.http)
        .get(`/api/v1/reports/${path}`)
        .set(bearer(auditor.token))
        .buffer(false)
        .parse((res, cb) => {
          const stream = res as unknown as NodeJS.ReadableStream;
          const out = createWriteStream(to);
          written = new Promise((resolve, reject) => {
            out.on('finish', resolve);
            out.on('error', reject);
          });
          stream.pipe(out);
          out.on('finish', () => cb(null, null));
          stream.on('error', (err) => cb(err, null));
        });
      expect(res.status).toBe(200);
      await written;
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage.rss());
    return {
      bytes: statSync(to).size,
      baselineMb: baseline / 2 ** 20,
      peakMb: peak / 2 ** 20,
      growthMb: (peak - baseline) / 2 ** 20,
      heapGrowthMb: (heapPeak - heapBaseline) / 2 ** 20,
      seconds: (Date.now() - started) / 1000,
    };
  }

  beforeAll(async () => {
    t = await startApp({ PUBLISH_WORKERS_IN_API: 'false' });
    const b = builders(t);
    const d = await b.department();
    const a = await b.person(await b.user({ roles: [Role.AUDITOR], departmentId: d.id }));
    const e = await b.user({ roles: [Role.DEPT_REVIEWER], departmentId: d.id });
    auditor = a;
    dir = mkdtempSync(join(tmpdir(), 'sanshen-export-'));
    const started = Date.now();
    const before = (await request(t.http).get('/api/v1/audit/events?limit=1').set(bearer(a.token)))
      .body.items[0].id as number;
    total = await appendEvents(N, [a.id, e.id, randomUUID()]);
    expect(total).toBe(before + N);
    console.log(`appended ${N} audit events in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 120_000);
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams them as CSV with peak RSS growth far below the size of the data', async () => {
    const path = join(dir, 'events.csv');
    const m = await download('audit-events?format=csv', path);
    let rows = 0;
    let lastId = 0;
    let ordered = true;
    const reader = new CsvReader((r) => {
      rows++;
      if (rows === 1) return;
      const id = Number(r[0]);
      if (id !== lastId + 1) ordered = false;
      lastId = id;
    });
    const input = createReadStream(path, { encoding: 'utf8' });
    for await (const chunk of input) reader.push(chunk as string);
    reader.end();
    console.log(
      `CSV export: ${total} events, ${(m.bytes / 2 ** 20).toFixed(1)} MB in ${m.seconds.toFixed(1)} s; ` +
        `RSS ${m.baselineMb.toFixed(0)} → peak ${m.peakMb.toFixed(0)} MB (growth ${m.growthMb.toFixed(1)} MB); ` +
        `heap+external peak growth ${m.heapGrowthMb.toFixed(1)} MB`,
    );
    expect(rows).toBe(total + 1);
    expect(ordered).toBe(true);
    expect(lastId).toBe(total);
    expect(m.bytes).toBeGreaterThan(100 * 2 ** 20);
    dataBytes = m.bytes;
    for (const growth of [m.growthMb, m.heapGrowthMb]) {
      expect(growth).toBeLessThan(150);
      expect(growth * 2 ** 20).toBeLessThan(dataBytes * 0.75);
    }
  }, 120_000);

  it('streams them as XLSX with peak RSS growth far below the size of the data', async () => {
    const path = join(dir, 'events.xlsx');
    const m = await download('audit-events?format=xlsx', path);
    console.log(
      `XLSX export: ${total} events, ${(m.bytes / 2 ** 20).toFixed(1)} MB zipped in ${m.seconds.toFixed(1)} s; ` +
        `RSS ${m.baselineMb.toFixed(0)} → peak ${m.peakMb.toFixed(0)} MB (growth ${m.growthMb.toFixed(1)} MB); ` +
        `heap+external peak growth ${m.heapGrowthMb.toFixed(1)} MB`,
    );
    for (const growth of [m.growthMb, m.heapGrowthMb]) {
      expect(growth).toBeLessThan(150);
      expect(growth * 2 ** 20).toBeLessThan(dataBytes * 0.75);
    }
    const { rows, lastId } = await xlsxSheetRows(path);
    expect(rows).toBe(total + 1);
    expect(lastId).toBe(total);
  }, 120_000);

  it('stops reading the database when the client goes away', async () => {
    const exporter = t.app.get(ReportExportsService);
    const original = exporter.auditEventPages.bind(exporter);
    const server = t.http as Server;
    if (!server.listening) await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    for (const format of ['csv', 'xlsx']) {
      let pages = 0;
      let finished = false;
      const spy = jest.spyOn(exporter, 'auditEventPages').mockImplementation(async function* (
        q: AuditEventsExportQuery,
      ) {
        try {
          for await (const page of original(q)) {
            pages++;
            yield page;
          }
        } finally {
          finished = true;
        }
      });
      try {
        await new Promise<void>((resolve, reject) => {
          const req = httpGet(
            `http://127.0.0.1:${port}/api/v1/reports/audit-events?format=${format}`,
            { headers: bearer(auditor.token) },
            (res) => {
              let bytes = 0;
              res.on('data', (c: Buffer) => {
                bytes += c.length;
                if (bytes > 256 * 1024) {
                  req.destroy();
                  resolve();
                }
              });
              res.on('end', () => reject(new Error('the whole export arrived')));
            },
          );
          req.on('error', () => undefined);
        });
        const until = Date.now() + 10_000;
        while (!finished && Date.now() < until) await sleep(20);
        expect([format, finished]).toEqual([format, true]);
        expect(pages).toBeLessThan(total / EXPORT_PAGE_SIZE / 2);
      } finally {
        spy.mockRestore();
      }
    }
  }, 60_000);
});
