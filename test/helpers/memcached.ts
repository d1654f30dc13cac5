// Debian's memcached on a free loopback port, started and stopped by the test (`-M -m 2` for the
// out-of-memory cases: it then refuses sets instead of evicting). Restarted on the same port it is
// empty again, as a real memcached restart is. Also: an esmond-style reader in Python, and the
// memcached_queue handler driven by a real outbox.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import memcachedQueue from '../../handlers/memcached_queue/memcached_queue.js';
import type { OutboxSettings } from '../../src/config/types.js';
import type { Outbox } from '../../src/delivery/outbox.js';
import { Spool } from '../../src/delivery/spool.js';
import type { Sample } from '../../src/model/sample.js';
import { freePort } from './carbon.js';
import { harness } from './handler-harness.js';

export const MEMCACHED = '/usr/bin/memcached';

export interface MemcachedOptions {
  /** `-m`: megabytes of item memory (memcached refuses fewer than 2). */
  readonly memoryMb?: number;
  /** `-M`: answer "SERVER_ERROR out of memory" instead of evicting items. */
  readonly noEvict?: boolean;
  /** The port of a server stopped before, to start it again where the agent writes. */
  readonly port?: number;
}

export interface Memcached {
  readonly port: number;
  readonly address: string;
  /** What memcached printed. */
  output(): string;
  /** SIGSTOP, resolved once the kernel shows it stopped: a hung memcached whose socket still accepts. */
  pause(): Promise<void>;
  resume(): void;
  stop(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, out: () => string): Promise<void> {
  const end = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`memcached exited with ${child.exitCode} before it listened on ${port}:\n${out()}`);
    const ok = await new Promise<boolean>((r) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), r(true)));
      c.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`memcached did not listen on ${port} within 10 s:\n${out()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startMemcached(opts: MemcachedOptions = {}): Promise<Memcached> {
  const port = opts.port ?? (await freePort());
  const args = ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', String(opts.memoryMb ?? 64), '-c', '64', '-t', '1'];
  if (opts.noEvict) args.push('-M');
  // memcached refuses to run as root without a user to switch to.
  if (process.getuid?.() === 0) args.push('-u', 'root');
  const child = spawn(MEMCACHED, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (text += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (text += d));
  const output = () => text;
  try {
    await waitForPort(port, child, output);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    port,
    address: `127.0.0.1:${port}`,
    output,
    async pause() {
      child.kill('SIGSTOP');
      // The signal takes effect when memcached is next scheduled: until then it may still answer.
      for (let i = 0; i < 500; i++) {
        const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
        if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'T') return;
        await new Promise((r) => setTimeout(r, 2));
      }
      throw new Error(`memcached (pid ${child.pid}) did not stop after SIGSTOP`);
    },
    resume: () => void child.kill('SIGCONT'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

// --- An esmond-style persister reading the queues, and the memcached_queue handler at work.

export const READER = path.join(import.meta.dirname, 'memcached-reader.py');
export const PYTHON = '/usr/bin/python3';

/** An item as esmond's reader got it. */
export interface ReadItem {
  readonly queue: string;
  readonly item: { oidset_name: string; device_name: string; oid_name: string; timestamp: number; data: [string[], number][]; metadata: { tsdb_flags: number } };
}

export interface Reader {
  readonly items: ReadItem[];
  /** What it wrote to stderr: esmond's "missing data" lines, workers that died. */
  stderr(): string;
  /** Reads what is left, then exits; resolves with everything it read. */
  finish(): Promise<ReadItem[]>;
  kill(): void;
}

/** Starts the Python reader (test/helpers/memcached-reader.py) on `queues`. */
export function startReader(address: string, queues: readonly string[]): Reader {
  const stop = path.join(os.tmpdir(), `sonde-reader-stop-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const child = spawn(PYTHON, [READER, address, stop, ...queues], { stdio: ['ignore', 'pipe', 'pipe'] });
  const items: ReadItem[] = [];
  let partial = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    partial += d;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      items.push(JSON.parse(partial.slice(0, nl)) as ReadItem);
      partial = partial.slice(nl + 1);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    items,
    stderr: () => err,
    async finish() {
      writeFileSync(stop, '');
      const code = await exited;
      if (existsSync(stop)) unlinkSync(stop);
      if (code !== 0) throw new Error(`the reader exited with ${code}:\n${err}`);
      return items;
    },
    kill: () => void child.kill('SIGKILL'),
  };
}

export interface QueueHandler {
  push(samples: Sample[]): void;
  readonly outbox: Outbox;
  readonly failures: Error[];
  readonly said: string[];
  /** Sends what is queued (waiting up to `ms`), closes the handler; returns what was left. */
  stop(ms?: number): Promise<Sample[]>;
}

/** Quick retries, no resend window, as the handler asks. */
export const QUEUE_OUTBOX: OutboxSettings = { batchSize: 500, flushInterval: 10, queueSize: 1_000_000, sendTimeout: 10_000, retryMin: 20, retryMax: 200, spool: false, spoolMaxBytes: 0, spoolMaxAge: 0, resendWindow: 0 };

/** The memcached_queue handler with its real outbox (and a disk spool in `spoolDir`), its context as the core gives it. */
export function startQueueHandler(config: Record<string, unknown>, opts: { outbox?: Partial<OutboxSettings>; spoolDir?: string; host?: string } = {}): QueueHandler {
  const settings = { ...QUEUE_OUTBOX, ...opts.outbox, ...(opts.spoolDir ? { spool: true, spoolMaxBytes: 1024 ** 3, spoolMaxAge: 86_400_000 } : {}) };
  const spool = opts.spoolDir ? new Spool(opts.spoolDir, { maxBytes: 1024 ** 3, maxAge: 86_400_000 }) : undefined;
  const h = harness(memcachedQueue, config, { settings, spool, context: { path: (n) => [n.collector, ...n.segments].join('.'), host: opts.host ?? 'web01' } });
  return { push: h.push, outbox: h.outbox, failures: h.failures, said: h.said, stop: (ms = 20_000) => h.stop(ms) };
}
