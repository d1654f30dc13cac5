// The statsd handler, driven by the real outbox, against Etsy's statsd (the npm package) started on
// free loopback ports: what arrives is read from statsd's admin interface (`gauges`, `counters`,
// `stats`) and, where flushed values matter, from whisper behind a real carbon-cache.
// bad_lines_seen must stay 0 through every test.
import dgram from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import statsd from '../handlers/statsd/statsd.js';
import type { OutboxSettings } from '../src/config/types.js';
import { NameTable, PathRenderer } from '../src/model/naming.js';
import type { Sample, SampleKind } from '../src/model/sample.js';
import { freePort, startCarbon, type Carbon } from './helpers/carbon.js';
import { recordingLog } from './helpers/plugin-log.js';
import { freeUdpPort, startHandler, startStatsd, type RunningHandler, type Statsd } from './helpers/statsd.js';

const paths = new PathRenderer({ prefix: 'servers', host: 'h', suffix: '' });

let root: string;
const started: Statsd[] = [];
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'sonde-statsd-'));
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function dir(): string {
  return mkdtempSync(path.join(root, 'd-'));
}

async function server(opts: Parameters<typeof startStatsd>[1] = {}): Promise<Statsd> {
  const s = await startStatsd(dir(), opts);
  started.push(s);
  return s;
}

let run = 0;
/** Names of one test of its own, so a statsd shared by nothing still shows only this test's. */
function names(): (name: string | string[]) => Sample['name'] {
  const t = new NameTable(`t${++run}`);
  return (n) => t.get(n);
}

function sample(name: Sample['name'], value: number, kind: SampleKind = 'gauge', precision?: number): Sample {
  return { name, value, kind, timestamp: Date.now(), precision };
}

/** The handler with a real outbox, its context as the core gives it (with a state directory when asked). */
function start(config: Record<string, unknown>, stateDir?: string, outbox: Partial<OutboxSettings> = {}): RunningHandler {
  return startHandler(config, paths, stateDir, outbox);
}

/** Polls until `check` holds (or fails with what it last saw). */
async function until<T>(what: string, read: () => Promise<T>, check: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (check(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last saw ${JSON.stringify(v instanceof Map ? [...v] : v).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The entries of a statsd map below a path prefix. */
function below(m: Map<string, number>, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of m) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

async function noBadLines(s: Statsd): Promise<void> {
  expect((await s.stats()).get('messages.bad_lines_seen')).toBe(0);
  expect((await s.counters()).get('statsd.bad_lines_seen')).toBe(0);
}

describe('statsd handler against Etsy statsd', () => {
  it('gauges (positive, negative, zero), rates and counters (growth, a reset, a restart) arrive as computed', async () => {
    const sd = await server();
    const n = names();
    const p = `servers.h.t${run}.`;
    const stateDir = path.join(dir(), 'handlers', 'statsd');
    const cfg = { destination: `127.0.0.1:${sd.udpPort}` };

    let h = start(cfg, stateDir);
    h.push([sample(n('pos'), 12.5, 'gauge', 2), sample(n('neg'), -3.25, 'gauge', 2), sample(n('zero'), 0), sample(n('r'), 7.5, 'rate', 1), sample(n('c'), 1000, 'counter', 0), sample(n('k'), 50, 'counter', 0)]);
    await until('the first gauges', () => sd.gauges(), (g) => Object.keys(below(g, p)).length === 4);
    expect(below(await sd.gauges(), p)).toEqual({ pos: 12.5, neg: -3.25, zero: 0, r: 7.5 });
    // a counter seen for the first time sends nothing, never its whole total
    expect(below(await sd.counters(), p)).toEqual({});

    // neg goes to -4 (not -3.25 - 4), pos to 0; c grew by 250; k went down (a reset): nothing
    h.push([sample(n('pos'), 0, 'gauge', 2), sample(n('neg'), -4, 'gauge', 2), sample(n('c'), 1250, 'counter', 0), sample(n('k'), 10, 'counter', 0)]);
    await until('the growth of c', () => sd.counters(), (c) => below(c, p).c === 250);
    expect(below(await sd.gauges(), p)).toEqual({ pos: 0, neg: -4, zero: 0, r: 7.5 });
    expect(below(await sd.counters(), p)).toEqual({ c: 250 });
    // saved a moment after the send, not only at close (a kill -9 keeps them)
    const saved = await until(
      'the saved totals',
      async () => (existsSync(path.join(stateDir, 'counters.json')) ? (JSON.parse(readFileSync(path.join(stateDir, 'counters.json'), 'utf8')) as { counters: Record<string, [number, number]> }) : undefined),
      (v) => v?.counters[`${p}c`]?.[0] === 1250,
      5000,
    );
    expect(saved!.counters[`${p}k`]![0]).toBe(10);
    await h.stop();

    // a restart: the totals last sent come back from the state directory, so c sends its growth
    h = start(cfg, stateDir);
    h.push([sample(n('c'), 1300, 'counter', 0), sample(n('k'), 15, 'counter', 0)]);
    await until('the growth after the restart', () => sd.counters(), (c) => below(c, p).k === 5);
    expect(below(await sd.counters(), p)).toEqual({ c: 300, k: 5 });
    await h.stop();

    // without a state directory a restart sends nothing for each counter (never the whole 1400)
    h = start(cfg);
    h.push([sample(n('c'), 1400, 'counter', 0), sample(n('pos'), 1)]);
    await until('the marker gauge', () => sd.gauges(), (g) => below(g, p).pos === 1);
    expect(below(await sd.counters(), p)).toEqual({ c: 300, k: 5 });
    expect(h.said).toContain('info statsd: no state directory; counter totals are kept in memory only, so after a restart each counter sends nothing until its second sample');
    await h.stop();
    await noBadLines(sd);
  });

  it('flushed to carbon, the values land in whisper as sent (stats.gauges.<name>, stats_counts.<name>)', async () => {
    const cdir = dir();
    const carbon: Carbon = await startCarbon(cdir);
    try {
      const sd = await server({ flushInterval: 1000, graphitePort: carbon.plaintextPort });
      const n = names();
      const t = `t${run}`;
      const h = start({ destination: `127.0.0.1:${sd.udpPort}` });
      const from = Math.floor(Date.now() / 1000) - 2;
      h.push([sample(n('neg'), -2.5, 'gauge', 1), sample(n('pos'), 42, 'gauge', 0), sample(n('zero'), 0, 'gauge', 0), sample(n('r'), 0.25, 'rate', 2), sample(n('c'), 70, 'counter', 0)]);
      await until('the gauges', () => sd.gauges(), (g) => Object.keys(below(g, `servers.h.${t}.`)).length === 4);
      h.push([sample(n('c'), 100, 'counter', 0)]);
      await until('the counter', () => sd.counters(), (c) => below(c, `servers.h.${t}.`).c === 30);
      await h.stop();
      const last = (metric: string) =>
        until(
          metric,
          async () => {
            const file = path.join(carbon.storage, 'whisper', ...metric.split('.')) + '.wsp';
            return existsSync(file) ? [...carbon.fetch(metric, from, Math.floor(Date.now() / 1000) + 1)] : [];
          },
          (pts) => pts.length > 0 && (metric.startsWith('stats_counts') ? pts.some(([, v]) => v > 0) : true),
          15_000,
        );
      for (const [leaf, want] of [['neg', -2.5], ['pos', 42], ['zero', 0], ['r', 0.25]] as const) {
        const pts = await last(`stats.gauges.servers.h.${t}.${leaf}`);
        expect({ leaf, v: pts.at(-1)![1] }).toEqual({ leaf, v: want });
      }
      // a counter's growth is counted once: the flushes' counts add up to it
      await new Promise((r) => setTimeout(r, 1500));
      const counts = await last(`stats_counts.servers.h.${t}.c`);
      expect(counts.reduce((a, [, v]) => a + v, 0)).toBe(30);
      await noBadLines(sd);
    } finally {
      await carbon.stop();
    }
  });

  it('10,000 names in one interval over UDP: every one arrives, paced so statsd\'s socket buffer never overflows', async () => {
    const sd = await server();
    const n = names();
    const p = `servers.h.t${run}.`;
    // A pace a quarter of the default: under a fully loaded machine Etsy's statsd (one node
    // process) reads slower than 4 MiB/s, and a datagram that finds the buffer full is gone.
    const h = start({ destination: `127.0.0.1:${sd.udpPort}`, udp_rate: '1MiB' });
    const batch = Array.from({ length: 10_000 }, (_, i) => sample(n(['group' + (i % 100), `metric_${i}`]), i, 'gauge', 0));
    const t0 = performance.now();
    h.push(batch);
    await until('the outbox to send them', async () => h.outbox.stats.sent, (sent) => sent === 10_000, 20_000);
    const ms = performance.now() - t0;
    const g = await until('10,000 gauges', () => sd.gauges(), (m) => Object.keys(below(m, p)).length >= 10_000, 10_000);
    const got = below(g, p);
    expect(Object.keys(got)).toHaveLength(10_000);
    for (let i = 0; i < 10_000; i += 997) expect(got[`group${i % 100}.metric_${i}`]).toBe(i);
    expect(h.failures).toEqual([]);
    // pacing costs well under a second of a 10 s interval (about 0.1 s at the default udp_rate)
    expect(ms).toBeLessThan(2000);
    console.log(`statsd: 10,000 names over UDP went out in ${Math.round(ms)} ms`);
    await h.stop();
    await noBadLines(sd);
  });

  it('packs whole lines into datagrams of at most max_packet_bytes (a UDP capture)', async () => {
    const sink = dgram.createSocket('udp4');
    const datagrams: Buffer[] = [];
    sink.on('message', (m) => datagrams.push(m));
    await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
    try {
      for (const max of [512, 1432, 8932]) {
        datagrams.length = 0;
        const n = names();
        const batch = Array.from({ length: 3000 }, (_, i) => sample(n(['g', `m${i}`, 'x'.repeat(i % 40)]), (i % 9) - 4, 'gauge', 0));
        // The sink reads in this busy process: a quarter of the default pace keeps its buffer from
        // overflowing when the machine is loaded (UDP drops what finds the buffer full).
        const h = start({ destination: `127.0.0.1:${sink.address().port}`, max_packet_bytes: max, udp_rate: '1MiB' });
        h.push(batch);
        await h.stop();
        await until('every datagram', async () => datagrams.reduce((a, d) => a + d.toString().split('\n').length, 0), (k) => k >= 3000 + 3000 * (4 / 9), 5000);
        const want: string[] = [];
        for (const s of batch) {
          const line = `${paths.render(s.name)}:${s.value}|g`;
          if (s.value < 0) want.push(`${paths.render(s.name)}:0|g`);
          want.push(line);
        }
        const got: string[] = [];
        for (const d of datagrams) {
          expect(d.length).toBeLessThanOrEqual(max);
          for (const line of d.toString('latin1').split('\n')) {
            expect(line).toMatch(/^[\w.-]+:-?\d+\|g$/);
            got.push(line);
          }
        }
        expect(got).toEqual(want);
      }
    } finally {
      sink.close();
    }
  });

  it('an IPv6 destination, [::1]:port, gets the same datagrams', async () => {
    const sink = dgram.createSocket('udp6');
    const got: string[] = [];
    sink.on('message', (m) => got.push(m.toString('latin1')));
    await new Promise<void>((r) => sink.bind(0, '::1', () => r()));
    try {
      const n = names();
      const h = start({ destination: `[::1]:${sink.address().port}` });
      h.push([sample(n('a'), 1), sample(n('b'), -2)]);
      await h.stop();
      await until('the datagram', async () => got.length, (k) => k > 0);
      expect(got).toEqual([`servers.h.t${run}.a:1|g\nservers.h.t${run}.b:0|g\nservers.h.t${run}.b:-2|g`]);
    } finally {
      sink.close();
    }
  });

  it('TCP: statsd restarted in the middle of a run loses nothing and counts nothing twice', async () => {
    const sd1 = await server();
    const n = names();
    const p = `servers.h.t${run}.`;
    const h = start({ destination: `127.0.0.1:${sd1.tcpPort}`, protocol: 'tcp' });
    h.push([sample(n('c'), 100, 'counter'), sample(n('g'), 0)]);
    h.push([sample(n('c'), 110, 'counter'), sample(n('g'), 1)]);
    await until('the first server to count 10', () => sd1.counters(), (c) => below(c, p).c === 10);
    const first = below(await sd1.counters(), p).c!;
    await sd1.stop();
    await new Promise((r) => setTimeout(r, 200));

    // statsd is down: these wait in the outbox, retried with backoff
    h.push([sample(n('c'), 125, 'counter'), sample(n('g'), 2)]);
    await new Promise((r) => setTimeout(r, 300));
    h.push([sample(n('c'), 130, 'counter'), sample(n('g'), 3)]);
    await until('a failed send', async () => h.failures.length, (k) => k > 0);
    expect(h.failures[0]!.message).toMatch(new RegExp(`(connect to 127\\.0\\.0\\.1:${sd1.tcpPort} failed|write to 127\\.0\\.0\\.1:${sd1.tcpPort} failed)`));

    const sd2 = await server({ ports: sd1 });
    await until('the second server to have the rest', () => sd2.gauges(), (g) => below(g, p).g === 3);
    await h.stop();
    const second = below(await sd2.counters(), p).c!;
    expect(first + second).toBe(130 - 100);
    expect(h.outbox.stats.sendErrors).toBeGreaterThan(0);
    await noBadLines(sd2);
  });

  it('UDP: an ICMP refusal fails the send (counted in send_errors); the batch arrives once statsd is back', async () => {
    const port = await freeUdpPort();
    const n = names();
    const p = `servers.h.t${run}.`;
    const h = start({ destination: `127.0.0.1:${port}` });
    h.push([sample(n('c'), 5, 'counter'), sample(n('g'), 1)]);
    await until('a refusal', async () => h.failures.length, (k) => k >= 2);
    expect(h.failures[0]!.message).toBe(`127.0.0.1:${port} refused UDP datagrams (ICMP port unreachable): no StatsD listens on that port. Start it, or correct destination`);
    expect(h.outbox.stats.sendErrors).toBeGreaterThanOrEqual(2);
    expect(h.outbox.stats.sent).toBe(0);

    const sd = await server({ ports: { udpPort: port, tcpPort: await freePort(), mgmtPort: await freePort() } });
    await until('the batch', () => sd.gauges(), (g) => below(g, p).g === 1);
    h.push([sample(n('c'), 8, 'counter')]);
    await until('the growth', () => sd.counters(), (c) => below(c, p).c === 3);
    await h.stop();
    await noBadLines(sd);
  });

  it('TCP: a hung statsd (SIGSTOP) times sends out without wedging the handler; once it runs again every gauge ends on its last value', async () => {
    const sd = await server();
    const n = names();
    const p = `servers.h.t${run}.`;
    const h = start({ destination: `127.0.0.1:${sd.tcpPort}`, protocol: 'tcp' }, undefined, { sendTimeout: 500, retryMin: 100, retryMax: 300 });
    const keys = Array.from({ length: 1000 }, (_, i) => n(['g', `m${i}`, 'x'.repeat(30)]));
    h.push(keys.map((k) => sample(k, 0)));
    await until('the first round', () => sd.gauges(), (g) => Object.keys(below(g, p)).length === 1000);
    sd.pause();
    // more than the kernel's socket buffers hold (about 16 MB): a send must wait, and time out
    for (let round = 1; round <= 300; round++) h.push(keys.map((k) => sample(k, round)));
    await until('a send to time out', async () => h.failures.length, (k) => k > 0, 20_000);
    expect(h.failures[0]!.message).toBe('send took longer than send_timeout (500 ms)');
    sd.resume();
    await until('the outbox to empty', async () => h.outbox.depth, (d) => d === 0, 30_000);
    h.push(keys.map((k) => sample(k, 301)));
    const g = await until('the last round', () => sd.gauges(), (m) => Object.values(below(m, p)).every((v) => v === 301), 20_000);
    expect(Object.keys(below(g, p))).toHaveLength(1000);
    await h.stop();
    await noBadLines(sd);
  });

  it('a host name that does not resolve fails the send, naming it', async () => {
    const h = start({ destination: 'nohost.invalid:8125', connect_timeout: '300ms' });
    h.push([sample(names()('g'), 1)]);
    await until('a failed send', async () => h.failures.length, (k) => k > 0);
    expect(h.failures[0]!.message).toMatch(/^cannot resolve nohost\.invalid \(.+\); check destination and DNS$/);
    await h.outbox.drain(performance.now() + 100);
  });

  it('names with StatsD\'s syntax in them (: @ | whitespace) arrive as one metric each, no bad line', async () => {
    const sd = await server();
    const n = names();
    const h = start({ destination: `127.0.0.1:${sd.udpPort}`, prefix: 'app|x y:z@w' });
    // the core keeps : and @ in Graphite paths; segments from plugins may hold anything
    h.push([sample(n(['db:primary@eu', 'q']), 1), sample(n(['a|b c\nd', 'e']), 2), sample(n('ok'), -3)]);
    const p = `app_x_y_z_w.servers.h.t${run}.`;
    await until('three gauges', () => sd.gauges(), (g) => Object.keys(below(g, p)).length === 3);
    expect(below(await sd.gauges(), p)).toEqual({ 'db_primary_eu.q': 1, 'a_b_c_d.e': 2, ok: -3 });
    await h.stop();
    await noBadLines(sd);
  });
});

describe('statsd handler config', () => {
  const problems = (config: Record<string, unknown>) => {
    const r = statsd.schema.safeParse(config);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('refuses absurd values with the key and what it expected', () => {
    expect(problems({ destination: 'statsd' })).toEqual(['destination: expected host:port (or [v6 address]:port), got "statsd"']);
    expect(problems({ destination: 'h:0' })).toHaveLength(1);
    expect(problems({ destination: 'h:70000' })).toHaveLength(1);
    expect(problems({ destination: '[::1]:8125' })).toEqual([]);
    expect(problems({ max_packet_bytes: 10 })[0]).toMatch(/^max_packet_bytes: /);
    expect(problems({ max_packet_bytes: 70_000 })[0]).toMatch(/^max_packet_bytes: /);
    expect(problems({ max_packet_bytes: 1432.5 })[0]).toMatch(/^max_packet_bytes: /);
    expect(problems({ udp_rate: '1KiB' })).toEqual([
      "udp_rate: must be 0 (unpaced) or at least 64KiB a second, got 1024 bytes: slower, one interval's samples would not go out before the next",
    ]);
    expect(problems({ udp_rate: -1 })[0]).toMatch(/^udp_rate: /);
    expect(problems({ udp_rate: 0 })).toEqual([]);
    expect(problems({ protocol: 'sctp' })[0]).toMatch(/^protocol: /);
    expect(problems({ counters_as: 'timer' })[0]).toMatch(/^counters_as: /);
    expect(problems({ max_names: 0 })[0]).toMatch(/^max_names: /);
  });

  it('an unreadable counter state file is named in a warning and replaced, never taken as totals', async () => {
    const stateDir = path.join(dir(), 'handlers', 'statsd');
    mkdirSync(stateDir, { recursive: true });
    const torn = '{"version": 1, "coun';
    writeFileSync(path.join(stateDir, 'counters.json'), torn);
    let why = '';
    try {
      JSON.parse(torn);
    } catch (err) {
      why = (err as Error).message;
    }
    const { log, said } = recordingLog();
    const config = statsd.schema.parse({});
    const state = statsd.init!({ config, state: undefined, path: (n: Sample['name']) => paths.render(n), signal: new AbortController().signal, log, stateDir } as never);
    expect(said).toEqual([
      `warn statsd: counter totals in ${path.join(stateDir, 'counters.json')} are unreadable (${why}); starting without them: each counter sends nothing until its second sample, and the file is written anew`,
    ]);
    expect((state as { counters: { size: number } }).counters.size).toBe(0);
  });

  it('defaults: UDP to 127.0.0.1:8125, 1432-byte datagrams, counters as counters, 4 MiB a second', () => {
    expect(statsd.schema.parse({})).toEqual({
      destination: '127.0.0.1:8125',
      protocol: 'udp',
      max_packet_bytes: 1432,
      counters_as: 'counter',
      prefix: '',
      udp_rate: 4 * 1024 * 1024,
      connect_timeout: 5000,
      max_names: 100_000,
    });
  });
});
