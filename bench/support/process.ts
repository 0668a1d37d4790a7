import { ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { round } from './stats';

/** The repository root (this file runs as dist/bench/support/process.js). */
export const ROOT = join(__dirname, '..', '..', '..');

/** The environment of a child process: only what it needs, plus `extra`. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_PATH: join(ROOT, 'dist'),
    ...extra,
  };
}

export const CLK_TCK = 100;

/** CPU seconds (user + system) of a process, from /proc; null where /proc is not readable. */
export function cpuSecondsOf(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

export function findPid(names: string[]): number | undefined {
  try {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        if (names.includes(readFileSync(`/proc/${d}/comm`, 'utf8').trim())) return Number(d);
      } catch {
        // gone
      }
    }
  } catch {
    // no /proc
  }
  return undefined;
}

const LEVELS: Record<number, string> = { 40: 'warn', 50: 'error', 60: 'fatal' };

/**
 * Preloaded into each worker process (`node -r`): once a second, how busy its event loop was
 * and how late timers ran. Observes only; written to the run's temp dir.
 */
export const LOOP_PROBE = `
const { monitorEventLoopDelay, performance } = require('node:perf_hooks');
const h = monitorEventLoopDelay({ resolution: 5 });
h.enable();
let last = performance.eventLoopUtilization();
setInterval(() => {
  const now = performance.eventLoopUtilization();
  const elu = performance.eventLoopUtilization(now, last).utilization;
  last = now;
  process.stderr.write('BENCH_LOOP ' + JSON.stringify({ t: Date.now(), elu,
    mean: h.mean / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 }) + '\\n');
  h.reset();
}, 1000).unref();
`;

export interface LoopSample {
  t: number;
  elu: number;
  mean: number;
  p99: number;
  max: number;
}

/** Event-loop figures of some processes over a wall-clock window (whole seconds inside it). */
export function loopFigures(
  children: Child[],
  fromMs: number,
  toMs: number,
): { utilization: number; meanDelayMs: number; p99DelayMs: number; maxDelayMs: number } | null {
  const xs = children.flatMap((c) => c.loop.filter((l) => l.t > fromMs + 1000 && l.t <= toMs));
  if (!xs.length) return null;
  const avg = (f: (l: LoopSample) => number) => xs.reduce((a, l) => a + f(l), 0) / xs.length;
  return {
    utilization: round(
      avg((l) => l.elu),
      2,
    ),
    meanDelayMs: round(
      avg((l) => l.mean),
      1,
    ),
    p99DelayMs: round(
      avg((l) => l.p99),
      1,
    ),
    maxDelayMs: round(Math.max(...xs.map((l) => l.max)), 1),
  };
}

/** A child process whose output is scanned for its ready line and for warnings/errors. */
export class Child {
  readonly issues = new Map<string, number>();
  readonly tail: string[] = [];
  readonly loop: LoopSample[] = [];
  /** Listeners for `BENCH_<TAG> <payload>` lines a preloaded probe writes. */
  private readonly probes = new Map<string, Set<(payload: string) => void>>();
  private readonly proc: ChildProcess;
  private readonly ready: Promise<void>;
  private readonly exited: Promise<void>;
  private cpuAtExit: number | null = null;
  /** Set once SIGTERM is sent: what is logged afterwards is labelled as shutdown noise. */
  private stopping = false;

  constructor(
    readonly name: string,
    args: string[],
    childEnv: NodeJS.ProcessEnv,
    readyText: string,
  ) {
    this.proc = spawn(process.execPath, args, {
      cwd: ROOT,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let markReady!: () => void;
    let failReady!: (e: Error) => void;
    this.ready = new Promise<void>((res, rej) => {
      markReady = res;
      failReady = rej;
    });
    this.ready.catch(() => undefined);
    const onLine = (line: string, stream: 'out' | 'err') => {
      if (!line.trim()) return;
      if (line.includes(readyText)) return markReady();
      if (line.startsWith('BENCH_LOOP ')) {
        try {
          this.loop.push(JSON.parse(line.slice(11)) as LoopSample);
        } catch {
          // a torn line
        }
        return;
      }
      const probe = /^BENCH_([A-Z_]+) (.*)$/.exec(line);
      if (probe && this.probes.has(probe[1])) {
        for (const fn of this.probes.get(probe[1])!) fn(probe[2]);
        return;
      }
      this.tail.push(line.slice(0, 500));
      if (this.tail.length > 20) this.tail.shift();
      let key: string;
      try {
        const j = JSON.parse(line) as { level?: number; msg?: string; context?: string };
        if ((j.level ?? 0) < 40) return;
        key = `${LEVELS[j.level!] ?? j.level} ${j.context ? `[${j.context}] ` : ''}${j.msg ?? ''}`;
      } catch {
        key = `${stream === 'err' ? 'stderr' : 'stdout'} ${line}`;
      }
      key = key
        .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>')
        .replace(/\d+/g, '#')
        .slice(0, 200);
      if (this.stopping) key = `(during shutdown) ${key}`;
      this.issues.set(key, (this.issues.get(key) ?? 0) + 1);
    };
    for (const [stream, name] of [
      [this.proc.stdout!, 'out'],
      [this.proc.stderr!, 'err'],
    ] as const) {
      let buf = '';
      stream.on('data', (d: Buffer) => {
        buf += d.toString('utf8');
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, i), name);
          buf = buf.slice(i + 1);
        }
      });
    }
    this.exited = new Promise<void>((r) =>
      this.proc.once('exit', (code, signal) => {
        failReady(new Error(`${this.name} exited (${signal ?? code}): ${this.tail.join('\n')}`));
        r();
      }),
    );
  }

  /** Calls `fn` with the payload of each `BENCH_<tag> …` line until the returned function is called. */
  onProbe(tag: string, fn: (payload: string) => void): () => void {
    const set = this.probes.get(tag) ?? new Set();
    this.probes.set(tag, set);
    set.add(fn);
    return () => set.delete(fn);
  }

  signal(sig: NodeJS.Signals): void {
    if (this.alive) this.proc.kill(sig);
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.ready,
        new Promise<void>((_, rej) => {
          timer = setTimeout(
            () => rej(new Error(`${this.name} not ready after ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  cpuSeconds(): number | null {
    return this.alive ? cpuSecondsOf(this.proc.pid) : this.cpuAtExit;
  }

  /** SIGTERM (the worker's shutdown hooks run), SIGKILL after 10 s. */
  /** How the last stop() went: graceful (exit after SIGTERM) or killed after 10 s. */
  stopped: { killed: boolean; ms: number; code: number | null } | null = null;

  async stop(): Promise<void> {
    if (!this.alive) return;
    this.cpuAtExit = cpuSecondsOf(this.proc.pid);
    this.stopping = true;
    const t0 = performance.now();
    let killed = false;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => {
      if (!this.alive) return;
      killed = true;
      this.proc.kill('SIGKILL');
    }, 10_000);
    await this.exited;
    clearTimeout(t);
    this.stopped = { killed, ms: Math.round(performance.now() - t0), code: this.proc.exitCode };
  }
}

export interface CpuSnapshot {
  mysqld: number | null;
  redis: number | null;
  bench: number;
  /** Busy CPU seconds of the whole machine (all processes), from /proc/stat. */
  machine: number | null;
}

export function machineBusySeconds(): number | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1);
    const [user, nice, system, , , irq, softirq, steal] = f.map(Number);
    return (user + nice + system + irq + softirq + (steal || 0)) / CLK_TCK;
  } catch {
    return null;
  }
}

let serverPids: { mysqld?: number; redis?: number } | undefined;

export function cpuSnapshot(): CpuSnapshot {
  serverPids ??= { mysqld: findPid(['mariadbd', 'mysqld']), redis: findPid(['redis-server']) };
  const u = process.cpuUsage();
  return {
    mysqld: cpuSecondsOf(serverPids.mysqld),
    redis: cpuSecondsOf(serverPids.redis),
    bench: (u.user + u.system) / 1e6,
    machine: machineBusySeconds(),
  };
}

/** CPU used meanwhile by everything else on the machine (other tests, other databases). */
export function otherCpu(
  a: CpuSnapshot,
  b: CpuSnapshot,
  workers: number | null,
  seconds: number,
): { seconds: number | null; cores: number | null } {
  if (a.machine === null || b.machine === null || workers === null) {
    return { seconds: null, cores: null };
  }
  const mine =
    workers +
    (b.bench - a.bench) +
    ((b.mysqld ?? 0) - (a.mysqld ?? 0)) +
    ((b.redis ?? 0) - (a.redis ?? 0));
  const other = Math.max(0, b.machine - a.machine - mine);
  return { seconds: round(other, 2), cores: round(other / seconds, 2) };
}
