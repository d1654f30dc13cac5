// The built bundle with StatsD: `sonde once` through the statsd handler to Etsy's statsd, and
// `sonde logster -o statsd`, Logster's one datagram per figure byte for byte, packed only with
// --statsd-packet-bytes (datagrams captured by a UDP socket of the test, and read by a real statsd).
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { appendFileSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE, sonde, type Result } from './helpers/sonde.js';
import { startStatsd, type Statsd } from './helpers/statsd.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';

const FIX = path.join(import.meta.dirname, 'fixtures');

function sondeAsync(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BUNDLE, ...args]);
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    c.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

let root: string;
let sd: Statsd;
beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'sonde-statsd-e2e-'));
  sd = await startStatsd(root);
});
afterAll(async () => {
  await sd?.stop();
  rmSync(root, { recursive: true, force: true });
});

async function gaugesBelow(prefix: string, count: number): Promise<Record<string, number>> {
  const end = Date.now() + 10_000;
  for (;;) {
    const out: Record<string, number> = {};
    for (const [k, v] of await sd.gauges()) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
    if (Object.keys(out).length >= count || Date.now() > end) return out;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function noBadLines(): Promise<void> {
  expect((await sd.stats()).get('messages.bad_lines_seen')).toBe(0);
}

describe('sonde once with the statsd handler', () => {
  for (const protocol of ['udp', 'tcp'] as const) {
    it(`sends what the stdout handler prints, as StatsD gauges (${protocol})`, async () => {
      const dir = tmpdir();
      const port = protocol === 'udp' ? sd.udpPort : sd.tcpPort;
      const conf = (handlers: string) =>
        writeFiles(dir, {
          'sonde.yaml': `hostname: ${protocol}01\nproc_root: ${FIX}/proc/e2e-0\nstate_dir: ${dir}/state\nplugin_paths: []\nshutdown_timeout: 5s\ncollectors:\n  memory: {}\n  loadavg: {}\nhandlers:\n${handlers}`,
        })['sonde.yaml']!;
      const r = await sondeAsync(['once', '--config', conf(`  statsd: { destination: "127.0.0.1:${port}", protocol: ${protocol} }\n`)]);
      expect([r.status, r.stderr.split('\n').filter((l) => /"level":(40|50)/.test(l))]).toEqual([0, []]);
      const printed = sonde(['once', '--config', conf('  stdout: {}\n')]).stdout.trim().split('\n');
      const want = Object.fromEntries(printed.map((l) => l.split(' ')).map(([p, v]) => [p!.slice(`servers.${protocol}01.`.length), Number(v)]));
      expect(await gaugesBelow(`servers.${protocol}01.`, printed.length)).toEqual(want);
      await noBadLines();
    });
  }
});

describe('sonde check-config with absurd statsd settings', () => {
  it('names the file, line, key and what it expected for max_packet_bytes 0, 1, 70000 and "big"', () => {
    const dir = tmpdir();
    const cases: [string, string][] = [
      ['0', 'must be at least 64, got 0'],
      ['1', 'must be at least 64, got 1'],
      ['70000', 'must be at most 65507, got 70000'],
      ['big', 'expected a number, got "big"'],
    ];
    for (const [value, why] of cases) {
      const conf = writeFiles(dir, { 'sonde.yaml': `hostname: x\nstate_dir: ${dir}/state\ncollectors:\n  loadavg: {}\nhandlers:\n  statsd:\n    max_packet_bytes: ${value}\n` })['sonde.yaml']!;
      const r = sonde(['check-config', '--config', conf]);
      expect({ value, status: r.status, first: r.stderr.split('\n')[0] }).toEqual({ value, status: 78, first: `${conf}:7: handlers.statsd.max_packet_bytes: ${why}` });
    }
  });
});

describe('sonde logster -o statsd', () => {
  // 150 datagrams fit the receiving socket's default buffer (212 KiB, ~1 KiB each as the kernel counts them) even when
  // the test process is too busy to read them at once: Logster's way sends them back to back.
  const FIGURES = 150;
  /** A JsonLogster log whose last line has FIGURES numbers (k0 = 0, k1 = -1, k2 = 2, ...), after a first run. */
  function setup(): (...extra: string[]) => string[] {
    const dir = tmpdir();
    const log = path.join(dir, 'stats.json');
    const state = path.join(dir, 'state');
    const args = (...extra: string[]) => ['logster', '-s', state, '-l', path.join(dir, 'logs'), ...extra, 'JsonLogster', log];
    writeFileSync(log, '');
    expect(sonde(args('-o', 'stdout')).status).toBe(0);
    appendFileSync(log, `${JSON.stringify(Object.fromEntries(Array.from({ length: FIGURES }, (_, i) => [`key_number_${i}`, i % 2 ? -i : i])))}\n`);
    const t = Math.floor(Date.now() / 1000) - 60;
    utimesSync(path.join(state, `logtail-logster.parsers.JsonLogster.JsonLogster${log.split('/').join('-')}.state`), t, t);
    return args;
  }
  // Logster's statsd output: "%s:%s|g" % (name, value) for each figure, one sendto each.
  const LINES = Array.from({ length: FIGURES }, (_, i) => `pf.key_number_${i}:${i % 2 ? -i : i}|g`);

  async function capture(run: (port: number) => Promise<Result>, lines: number): Promise<{ r: Result; got: Buffer[] }> {
    const sock = dgram.createSocket('udp4');
    const got: Buffer[] = [];
    sock.on('message', (m) => got.push(m));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    try {
      const r = await run(sock.address().port);
      for (let i = 0; i < 100 && got.reduce((a, d) => a + d.toString().split('\n').length, 0) < lines; i++) await new Promise((res) => setTimeout(res, 20));
      return { r, got };
    } finally {
      sock.close();
    }
  }

  it('without --statsd-packet-bytes: Logster\'s one datagram per figure, byte for byte', async () => {
    const args = setup();
    const { r, got } = await capture((port) => sondeAsync(args('-o', 'statsd', '--statsd-host', `127.0.0.1:${port}`, '-p', 'pf')), FIGURES);
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(got.map((d) => d.toString('latin1')).sort()).toEqual([...LINES].sort());
  });

  for (const max of [512, 1432]) {
    it(`--statsd-packet-bytes ${max}: the same lines, packed whole into datagrams of at most ${max} bytes`, async () => {
      const args = setup();
      const { r, got } = await capture((port) => sondeAsync(args('-o', 'statsd', '--statsd-host', `127.0.0.1:${port}`, '-p', 'pf', '--statsd-packet-bytes', String(max))), FIGURES);
      expect([r.status, r.stderr]).toEqual([0, '']);
      for (const d of got) expect(d.length).toBeLessThanOrEqual(max);
      expect(got.flatMap((d) => d.toString('latin1').split('\n')).sort()).toEqual([...LINES].sort());
      // ~24-byte lines: each datagram holds about max / 25 of them
      expect(got.length).toBeLessThanOrEqual(Math.ceil((FIGURES * 25) / (max - 25)));
    });
  }

  it('--statsd-packet-bytes to a real statsd: every figure arrives, no bad line', async () => {
    const args = setup();
    const r = await sondeAsync(args('-o', 'statsd', '--statsd-host', `127.0.0.1:${sd.udpPort}`, '-p', 'lgpack', '--statsd-packet-bytes', '1432'));
    expect([r.status, r.stderr]).toEqual([0, '']);
    const g = await gaugesBelow('lgpack.', FIGURES);
    expect(Object.keys(g)).toHaveLength(FIGURES);
    for (let i = 0; i < FIGURES; i += 2) expect(g[`key_number_${i}`]).toBe(i);
    await noBadLines();
  });

  it('a prefix Logster read as --statsd-host still is; a bad --statsd-packet-bytes is refused (exit 2)', async () => {
    const args = setup();
    const { r, got } = await capture((port) => sondeAsync(args('-o', 'statsd', '--statsd', `127.0.0.1:${port}`, '-p', 'pf')), FIGURES);
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(got).toHaveLength(FIGURES);
    for (const bad of ['10', '70000', '1k']) {
      const b = sonde(args('-o', 'statsd', '--statsd-host', '127.0.0.1:9', '--statsd-packet-bytes', bad));
      expect(b.status).toBe(2);
      expect(b.stderr).toContain(`--statsd-packet-bytes must be a whole number from 64 to 65507 (the most a UDP datagram carries), not "${bad}"`);
    }
  });
});
