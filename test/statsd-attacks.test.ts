// The statsd handler on an operator's worst day, with its real outbox: a full disk under the state
// directory, a directory where counters.json should be, a send_timeout that cuts a paced burst,
// values and names StatsD cannot take. What arrives is read from a running Etsy statsd's admin
// interface; the files are read back from disk (a real tmpfs that fills up).
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NameTable, PathRenderer } from '../src/model/naming.js';
import type { Sample, SampleKind } from '../src/model/sample.js';
import { startHandler, startStatsd, type RunningHandler, type Statsd } from './helpers/statsd.js';
import { tmpdir } from './helpers/tmp.js';
import { tmpfs } from './helpers/tmpfs.js';

const paths = new PathRenderer({ prefix: 'servers', host: 'h', suffix: '' });

const started: Statsd[] = [];
const sinks: dgram.Socket[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
  for (const s of sinks.splice(0)) s.close();
});

async function server(): Promise<Statsd> {
  const s = await startStatsd(tmpdir());
  started.push(s);
  return s;
}

/** A UDP socket that takes datagrams and ignores them: a StatsD nobody reads back. */
async function sink(): Promise<number> {
  const s = dgram.createSocket('udp4');
  s.on('message', () => undefined);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  sinks.push(s);
  return s.address().port;
}

let run = 0;
function names(): (name: string | string[]) => Sample['name'] {
  const t = new NameTable(`a${++run}`);
  return (n) => t.get(n);
}

function sample(name: Sample['name'], value: number, kind: SampleKind = 'gauge', precision?: number): Sample {
  return { name, value, kind, timestamp: Date.now(), precision };
}

async function until<T>(what: string, read: () => T | Promise<T>, check: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (check(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last saw ${JSON.stringify(v instanceof Map ? [...v] : v).slice(0, 1000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function below(m: Map<string, number>, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of m) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

type Saved = { version: number; counters: Record<string, [number, number]> };
function saved(file: string): Saved | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Saved) : undefined;
}

/** Sends `count` counters at `total` each (a first sight, or their growth since the last total). */
function counters(h: RunningHandler, n: ReturnType<typeof names>, count: number, total: number, width = 0): void {
  h.push(Array.from({ length: count }, (_, i) => sample(n(['c', `m${i}${'x'.repeat(width)}`]), total, 'counter', 0)));
}

describe('statsd counter totals on a bad day for the state directory', () => {
  it('a full disk: counters.json is never torn, and older totals are removed so that a restart does not count their growth again', async () => {
    const sd = await server();
    const fs = tmpfs('256k');
    const stateDir = path.join(fs, 'handlers', 'statsd');
    const file = path.join(stateDir, 'counters.json');
    const n = names();
    const p = `servers.h.a${run}.c.`;
    const cfg = { destination: `127.0.0.1:${sd.udpPort}`, udp_rate: 0 };
    let h = start(cfg, stateDir);
    counters(h, n, 1200, 1000, 20);
    counters(h, n, 1200, 1001, 20);
    await until('the first save', () => saved(file), (s) => Object.keys(s?.counters ?? {}).length === 1200 && Object.values(s!.counters).every(([t]) => t === 1001), 5000);
    // Fill the disk but for one page, far less than the file.
    const st = statfsSync(fs);
    const fill = path.join(fs, 'fill');
    writeFileSync(fill, Buffer.alloc(Number(st.bavail * st.bsize) - 4096));
    counters(h, n, 1200, 1002, 20);
    const warning = `warn statsd: cannot save counter totals to ${file} (`;
    const failed = () => h.said.filter((l) => l.startsWith(warning));
    await until('the failed save', () => failed().length, (k) => k > 0, 5000);
    expect(failed()[0]).toMatch(/ \(.*ENOSPC.*\); no older totals are left there, so after a restart each counter sends nothing until its second sample \(rather than send again the growth it sent since\)\. Check that directory and its file system$/);
    expect(existsSync(file)).toBe(false);
    // and fill what the removal freed, so that the save at shutdown meets a full disk too
    const st2 = statfsSync(fs);
    writeFileSync(`${fill}2`, Buffer.alloc(Number(st2.bavail * st2.bsize) - 4096));
    await h.stop();
    // The save at shutdown met the full disk too, and left nothing torn behind.
    expect(readdirSync(stateDir)).toEqual([]);
    expect(failed().length).toBeGreaterThanOrEqual(2);

    // Restarted with room again: a first sight for each counter, never 1003 - 1001 again.
    rmSync(fill);
    rmSync(`${fill}2`);
    h = start(cfg, stateDir);
    counters(h, n, 1200, 1003, 20);
    counters(h, n, 1200, 1004, 20);
    await h.stop();
    // each counted 1001 - 1000, 1002 - 1001 and 1004 - 1003
    const got = await until('the last growth', async () => below(await sd.counters(), p), (c) => Object.keys(c).length === 1200 && Object.values(c).every((v) => v >= 3), 5000);
    expect(Object.values(got).filter((v) => v !== 3)).toEqual([]);
    expect(Object.values(saved(file)!.counters).every(([t]) => t === 1004)).toBe(true);
  });

  it('a directory where counters.json should be: warned about, named, saves tried again less and less often, and no temporary file left behind', async () => {
    const stateDir = path.join(tmpdir(), 'handlers', 'statsd');
    const file = path.join(stateDir, 'counters.json');
    mkdirSync(path.join(file, 'inside'), { recursive: true });
    const n = names();
    const h = start({ destination: `127.0.0.1:${await sink()}`, udp_rate: 0 }, stateDir);
    counters(h, n, 10, 5);
    counters(h, n, 10, 6);
    const failed = () => h.said.filter((l) => l.startsWith(`warn statsd: cannot save counter totals to ${file} (`)).length;
    await until('the failed save', failed, (k) => k > 0, 5000);
    // Tried again, but less and less often (1 s, 2 s, 4 s, ... apart): not a save a second for ever.
    await new Promise((r) => setTimeout(r, 3500));
    expect(failed()).toBeLessThanOrEqual(2);
    await h.stop();
    expect(h.said[0]).toMatch(new RegExp(`^warn statsd: counter totals in ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} are unreadable \\(it is a directory\\); starting without them`));
    expect(readdirSync(stateDir)).toEqual(['counters.json']);
  });
});

describe('statsd over UDP when send_timeout cuts a paced burst', () => {
  it('the retry goes on from the first datagram not yet sent: the batch arrives whole, each counter counted once', async () => {
    const sd = await server();
    const n = names();
    const p = `servers.h.a${run}.c.`;
    // 3000 lines of ~50 bytes at the slowest udp_rate: about 2.5 s of datagrams, against a 400 ms send_timeout.
    const h = start({ destination: `127.0.0.1:${sd.udpPort}`, udp_rate: '64KiB' }, undefined, { batchSize: 10_000, sendTimeout: 400 });
    counters(h, n, 3000, 100, 20);
    counters(h, n, 3000, 101, 20);
    await until('every counter', async () => below(await sd.counters(), p), (c) => Object.keys(c).length === 3000, 15_000);
    await until('the outbox to send them', () => h.outbox.stats.sent, (s) => s === 6000, 5000);
    expect(h.failures.length).toBeGreaterThan(0);
    expect(h.failures[0]!.message).toBe('send took longer than send_timeout (400 ms)');
    const got = below(await sd.counters(), p);
    expect(Object.values(got).filter((v) => v !== 1)).toEqual([]);
    await h.stop();
    expect((await sd.stats()).get('messages.bad_lines_seen')).toBe(0);
  });
});

describe('statsd that does not answer', () => {
  it('TCP: a StatsD whose listen queue is full (the handshake never completes) fails each send after connect_timeout, naming it', async () => {
    // A listener with a backlog of 0 that never accepts: the kernel completes one handshake, then drops SYNs.
    const py = spawn('python3', ['-c', 'import socket,sys,time\ns=socket.socket();s.bind(("127.0.0.1",0));s.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const port = Number(await new Promise<string>((r) => py.stdout.once('data', (d: Buffer) => r(d.toString()))));
      const filler = net.connect(port, '127.0.0.1');
      await new Promise((r) => filler.once('connect', r));
      const h = start({ destination: `127.0.0.1:${port}`, protocol: 'tcp', connect_timeout: '300ms' });
      const t0 = performance.now();
      h.push([sample(names()('g'), 1)]);
      await until('a failed send', () => h.failures.length, (k) => k > 0, 5000);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
      expect(h.failures[0]!.message).toBe(`connect to 127.0.0.1:${port} timed out after 300 ms`);
      expect(h.outbox.stats.sent).toBe(0);
      await h.outbox.drain(performance.now() + 100);
      filler.destroy();
    } finally {
      py.kill('SIGKILL');
    }
  });

  it('UDP: a hung StatsD (SIGSTOP) wedges nothing; once it runs again the next values arrive', async () => {
    const sd = await server();
    const n = names();
    const p = `servers.h.a${run}.`;
    const h = start({ destination: `127.0.0.1:${sd.udpPort}` });
    const keys = Array.from({ length: 200 }, (_, i) => n(['g', `m${i}`]));
    h.push(keys.map((k) => sample(k, 0)));
    await until('the first round', async () => Object.keys(below(await sd.gauges(), p)).length, (k) => k === 200);
    sd.pause();
    // Far more than its socket buffer holds: the kernel drops the rest, unseen; the handler goes on.
    for (let round = 1; round <= 50; round++) h.push(keys.map((k) => sample(k, round)));
    await until('the outbox to send them', () => h.outbox.stats.sent, (k) => k === 200 * 51, 10_000);
    sd.resume();
    // The values of the next intervals: while statsd still reads its full buffer, a datagram that
    // finds no room is lost (UDP), so the agent's next interval is what must get through.
    const resend = setInterval(() => h.push(keys.map((k) => sample(k, 99))), 300);
    h.push(keys.map((k) => sample(k, 99)));
    try {
      await until('the last round', async () => below(await sd.gauges(), p), (g) => Object.values(g).every((v) => v === 99), 10_000);
    } finally {
      clearInterval(resend);
    }
    expect(h.failures).toEqual([]);
    await h.stop();
    expect((await sd.stats()).get('messages.bad_lines_seen')).toBe(0);
  });
});

describe('statsd names that come and go', () => {
  it('thousands of vanishing names keep counters.json bounded by max_names, and the names still sent keep counting', async () => {
    const sd = await server();
    const stateDir = path.join(tmpdir(), 'handlers', 'statsd');
    const file = path.join(stateDir, 'counters.json');
    const n = names();
    const p = `servers.h.a${run}.`;
    // Batches of 400: what one send carries fits in the 900 names a sweep keeps.
    const h = start({ destination: `127.0.0.1:${sd.udpPort}`, max_names: 1000 }, stateDir, { batchSize: 400 });
    // A counter that stays, among 20 waves of 300 names that are each seen twice and never again.
    const stay = n('stay');
    for (let wave = 0; wave < 20; wave++) {
      for (const total of [10, 11]) {
        h.push([sample(stay, wave * 2 + total, 'counter', 0), ...Array.from({ length: 300 }, (_, i) => sample(n(['w', `v${wave}n${i}`]), total, 'counter', 0))]);
      }
    }
    await until('the waves to be sent', () => h.outbox.stats.sent, (k) => k === 20 * 2 * 301, 10_000);
    const got = await until('every wave counted', async () => below(await sd.counters(), `${p}w.`), (c) => Object.keys(c).length === 6000, 5000);
    expect(Object.values(got).filter((v) => v !== 1)).toEqual([]);
    await h.stop();
    // stay went 10, 11, 12, ... 49: a growth of 39, all of it counted
    expect(below(await sd.counters(), p).stay).toBe(39);
    const st = h.said.filter((l) => l.startsWith('warn statsd: more than max_names (1000) counter names were sent in a day; forgot the '));
    expect(st.length).toBeGreaterThan(0);
    // what is kept is bounded by max_names and one batch (400 samples) sent since the last sweep
    const kept = Object.keys((JSON.parse(readFileSync(file, 'utf8')) as Saved).counters);
    expect(kept.length).toBeLessThanOrEqual(1000 + 400);
    expect(kept).toContain(`${p}stay`);
  });
});

describe('statsd: what StatsD cannot take', () => {
  it('NaN, Infinity and a 5,000-byte name are dropped alone, counted and named; the rest of the batch arrives, counters keep their totals', async () => {
    const sd = await server();
    const n = names();
    const p = `servers.h.a${run}.`;
    const h = start({ destination: `127.0.0.1:${sd.udpPort}` });
    h.push([sample(n('c'), 100, 'counter', 0), sample(n('big'), 0, 'counter', 0)]);
    h.push([
      sample(n('g1'), 1),
      sample(n('nan'), NaN),
      sample(n('c'), Infinity, 'counter', 0),
      sample(n(['long', 'y'.repeat(5000)]), 2),
      sample(n('minf'), -Infinity, 'rate'),
      sample(n('g2'), -2),
      // a counter going up by 1e18: its growth, with no exponent notation
      sample(n('big'), 1e18, 'counter', 0),
    ]);
    h.push([sample(n('c'), 130, 'counter', 0)]);
    await until('the counters', async () => below(await sd.counters(), p), (c) => c.c === 30 && c.big === 1e18);
    expect(below(await sd.gauges(), p)).toEqual({ g1: 1, g2: -2 });
    await h.stop();
    // One batch: the outbox reports its rejected samples together, with the first of them.
    expect(h.rejected.map((r) => [r.count, paths.render(r.first.name), r.reason.message])).toEqual([[4, `${p}nan`, 'value NaN is not a finite number; StatsD takes finite numbers only']]);
    expect(h.outbox.stats.rejected).toBe(4);
    expect((await sd.stats()).get('messages.bad_lines_seen')).toBe(0);
  });
});

function start(config: Record<string, unknown>, stateDir?: string, outbox: Parameters<typeof startHandler>[3] = {}): RunningHandler {
  return startHandler(config, paths, stateDir, outbox);
}
