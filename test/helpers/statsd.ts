// Etsy's statsd (the npm package, a dev dependency) on free loopback ports, started and stopped by
// the test: a UDP and a TCP listener, its admin (management) interface, and optionally its graphite
// backend pointed at a real carbon-cache (test/helpers/carbon.ts) for flushed values in whisper;
// and the statsd handler driven by a real outbox, as the core drives it.
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { expect } from 'vitest';
import statsd from '../../handlers/statsd/statsd.js';
import type { OutboxSettings } from '../../src/config/types.js';
import type { Outbox } from '../../src/delivery/outbox.js';
import type { PathRenderer } from '../../src/model/naming.js';
import type { Sample } from '../../src/model/sample.js';
import { freePort } from './carbon.js';
import { harness } from './handler-harness.js';

const STATS_JS = path.resolve(import.meta.dirname, '..', '..', 'node_modules', 'statsd', 'stats.js');

export interface StatsdPorts {
  readonly udpPort: number;
  readonly tcpPort: number;
  readonly mgmtPort: number;
}

export interface StatsdOptions {
  /** The ports of a previous server, to restart it where the handler sends. */
  readonly ports?: StatsdPorts;
  /** ms between flushes; long by default, so counters add up in the admin interface until read. */
  readonly flushInterval?: number;
  /** carbon's plaintext port: the graphite backend flushes there (legacy namespace: stats.gauges.<name>, stats_counts.<name>). */
  readonly graphitePort?: number;
}

export interface Statsd extends StatsdPorts {
  /** The admin interface's `gauges`, parsed. */
  gauges(): Promise<Map<string, number>>;
  /** The admin interface's `counters` (what was counted since the last flush), parsed; statsd's own included. */
  counters(): Promise<Map<string, number>>;
  /** The admin interface's `stats`: `messages.bad_lines_seen` and the others. */
  stats(): Promise<Map<string, number>>;
  /** What statsd printed (its log: bad lines are named there). */
  output(): string;
  /** SIGSTOP: a hung statsd, whose sockets the kernel still fills. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  stop(): Promise<void>;
}

/** A UDP port nothing is bound to now. */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Sends one admin command and reads its answer up to `END` (or the end of a one-line answer). */
function admin(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => sock.destroy(new Error(`statsd admin "${command}" on ${port} did not answer within 10 s`)), 10_000);
    sock.setEncoding('utf8');
    sock.once('connect', () => sock.write(`${command}\n`));
    sock.on('data', (d: string) => {
      text += d;
      if (text.includes('END\n\n') || (command === 'health' && text.includes('\n'))) sock.end();
    });
    sock.once('error', (err) => (clearTimeout(timer), reject(err)));
    sock.once('close', () => (clearTimeout(timer), resolve(text)));
  });
}

/** util.inspect's `{ 'a.b': 1, c: -2.5 }`, as statsd prints its counters and gauges. */
export function parseInspect(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = /(?:'((?:[^'\\]|\\.)*)'|([A-Za-z_$][\w$]*)):\s*(-?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|Infinity)|NaN)/g;
  for (const m of text.matchAll(re)) out.set(m[1] ?? m[2]!, Number(m[3]));
  return out;
}

async function waitForAdmin(port: number, child: ChildProcess, out: () => string): Promise<void> {
  const end = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`statsd exited with ${child.exitCode} before it listened:\n${out()}`);
    const up = await admin(port, 'health').then((t) => t.includes('health: up'), () => false);
    if (up) return;
    if (Date.now() > end) throw new Error(`statsd's admin interface did not answer on ${port} within 20 s:\n${out()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startStatsd(dir: string, opts: StatsdOptions = {}): Promise<Statsd> {
  const ports: StatsdPorts = opts.ports ?? { udpPort: await freeUdpPort(), tcpPort: await freePort(), mgmtPort: await freePort() };
  const config = {
    address: '127.0.0.1',
    mgmt_address: '127.0.0.1',
    mgmt_port: ports.mgmtPort,
    servers: [
      { server: './servers/udp', address: '127.0.0.1', port: ports.udpPort },
      { server: './servers/tcp', address: '127.0.0.1', port: ports.tcpPort },
    ],
    flushInterval: opts.flushInterval ?? 3_600_000,
    automaticConfigReload: false,
    title: false,
    ...(opts.graphitePort === undefined ? { backends: [] } : { backends: ['./backends/graphite'], graphiteHost: '127.0.0.1', graphitePort: opts.graphitePort }),
  };
  const file = path.join(dir, `statsd-${ports.mgmtPort}-${Date.now()}.js`);
  writeFileSync(file, JSON.stringify(config));
  const child = spawn(process.execPath, [STATS_JS, file], { cwd: path.dirname(STATS_JS), stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (text += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (text += d));
  const output = () => text;
  try {
    await waitForAdmin(ports.mgmtPort, child, output);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    ...ports,
    gauges: async () => parseInspect(await admin(ports.mgmtPort, 'gauges')),
    counters: async () => parseInspect(await admin(ports.mgmtPort, 'counters')),
    async stats() {
      const out = new Map<string, number>();
      for (const line of (await admin(ports.mgmtPort, 'stats')).split('\n')) {
        const m = /^([\w.]+): (-?\d+(?:\.\d+)?)$/.exec(line);
        if (m) out.set(m[1]!, Number(m[2]));
      }
      return out;
    },
    output,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      // A paused statsd takes no SIGTERM until it runs again.
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The statsd handler at work: its real outbox, its context as the core gives it. */
export interface RunningHandler {
  push(samples: Sample[]): void;
  /** Sends what is queued, waits for it, closes the handler (counter totals saved). */
  stop(): Promise<void>;
  readonly outbox: Outbox;
  readonly failures: Error[];
  /** What the handler logged, as `<level> <message>`. */
  readonly said: string[];
  /** Samples the outbox dropped as rejected (RejectedSamplesError), with the reason. */
  readonly rejected: { count: number; first: Sample; reason: Error }[];
}

/** Outbox settings for tests: quick retries, no spool, no resend window (as the handler asks). */
export const TEST_OUTBOX: OutboxSettings = { batchSize: 1000, flushInterval: 10, queueSize: 1_000_000, sendTimeout: 5000, retryMin: 50, retryMax: 200, spool: false, spoolMaxBytes: 0, spoolMaxAge: 0, resendWindow: 0 };

/** Starts the handler with `config` (its YAML section as an object), with a state directory when given one. */
export function startHandler(config: Record<string, unknown>, paths: PathRenderer, stateDir?: string, outbox: Partial<OutboxSettings> = {}): RunningHandler {
  const h = harness(statsd, config, { settings: { ...TEST_OUTBOX, ...outbox }, context: { path: (n) => paths.render(n), stateDir } });
  return {
    push: h.push,
    outbox: h.outbox,
    failures: h.failures,
    said: h.said,
    rejected: h.rejected,
    async stop() {
      expect(await h.stop(10_000)).toEqual([]);
    },
  };
}
