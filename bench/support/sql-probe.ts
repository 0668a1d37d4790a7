/**
 * Preloaded into a gateway process under test (`node -r dist/bench/support/sql-probe.js`):
 * counts the statements its mysql2 connections send, so a bench can tell the gateway's own
 * SQL from other clients of a shared server. On SIGWINCH it writes `BENCH_SQL <count>` to
 * stderr (not SIGUSR2: Nest's shutdown hooks stop the app on that). It only observes.
 */
import { Connection } from 'mysql2';

type QueryFn = (this: unknown, ...args: unknown[]) => unknown;

let count = 0;
let proto: object | null = Connection.prototype as object;
while (proto && !Object.prototype.hasOwnProperty.call(proto, 'query')) {
  proto = Object.getPrototypeOf(proto) as object | null;
}
if (proto) {
  const target = proto as { query: QueryFn };
  const original = target.query;
  target.query = function (this: unknown, ...args: unknown[]) {
    count++;
    return original.apply(this, args);
  };
}
process.on('SIGWINCH', () => {
  process.stderr.write(`BENCH_SQL ${proto ? count : -1}\n`);
});
