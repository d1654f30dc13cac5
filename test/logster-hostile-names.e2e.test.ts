// Names taken from log content cannot forge metrics: a JSON key with a space and a newline, StatsD's
// `:` `|` `@`, empty keys and keys of only dots, through `sonde logster` and every output that
// listens on a socket, read as raw bytes (docs/compat.md, "Logster: outputs").
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { appendFileSync, utimesSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE, sonde, type Result } from './helpers/sonde.js';
import { tmpdir } from './helpers/tmp.js';

/** One JSON line whose keys are hostile; JsonLogster reports its numbers under the flattened keys. */
const HOSTILE = JSON.stringify({
  'a b\nservers.other.cpu 99 0': 1,
  'k:1|c@0.5\r\n': 2,
  '': 3,
  '...': { z: 4 },
  x: { '': 5, 'y.': 6 },
  'tab\there': 7,
  ok: 8,
});

// Worked by hand from the rule: whitespace, `|` and control characters become `_`, dots separate
// segments, empty segments are dropped and a name left empty becomes `_`; StatsD also loses `:` `@`.
const NAMES = ['a_b_servers.other.cpu_99_0', 'k:1_c@0.5__', '_', 'z', 'x', 'x.y', 'tab_here', 'ok'];
const STATSD_NAMES = ['a_b_servers.other.cpu_99_0', 'k_1_c_0.5__', '_', 'z', 'x', 'x.y', 'tab_here', 'ok'];

/** `sonde logster` as a child process, without blocking this process's event loop (its listeners). */
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

/** A JsonLogster log whose last line is HOSTILE, after a first run; returns the logster arguments. */
function setup(): { dir: string; args: (...extra: string[]) => string[] } {
  const dir = tmpdir();
  const log = path.join(dir, 'stats.json');
  const state = path.join(dir, 'state');
  const args = (...extra: string[]) => ['logster', '-s', state, '-l', path.join(dir, 'logs'), ...extra, 'JsonLogster', log];
  writeFileSync(log, '');
  expect(sonde(args('-o', 'stdout')).status).toBe(0);
  appendFileSync(log, `${HOSTILE}\n`);
  const t = Math.floor(Date.now() / 1000) - 60;
  utimesSync(path.join(state, `logtail-logster.parsers.JsonLogster.JsonLogster${log.split('/').join('-')}.state`), t, t);
  return { dir, args };
}

/** Splits what was sent into lines and checks each has exactly `fields` space-separated fields. */
function wireLines(text: string, fields: number): string[][] {
  expect(text.endsWith('\n'), JSON.stringify(text)).toBe(true);
  const lines = text.slice(0, -1).split('\n').map((l) => l.split(' '));
  for (const l of lines) expect(l, JSON.stringify(text)).toHaveLength(fields);
  return lines;
}

describe('sonde logster: names from the log cannot forge metrics', () => {
  it('-o stdout: one line per figure, `<ts> <name> <value>`, names sanitised', () => {
    const t = setup();
    const r = sonde(t.args('-o', 'stdout', '-p', 'servers.mx1'));
    expect([r.status, r.stderr]).toEqual([0, '']);
    const lines = wireLines(r.stdout, 3);
    expect(lines.map((l) => `${l[1]} ${l[2]}`)).toEqual(NAMES.map((n, i) => `servers.mx1_${n} ${i + 1}`));
  });

  it('-o graphite over TCP: the raw bytes are one `<name> <value> <ts>` line per figure', async () => {
    const t = setup();
    let got = '';
    const server = net.createServer((s) => s.setEncoding('utf8').on('data', (d: string) => (got += d)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const r = await sondeAsync(t.args('-o', 'graphite', '--graphite-host', `127.0.0.1:${port}`, '-p', 'servers.mx1'));
      expect([r.status, r.stderr]).toEqual([0, '']);
      const lines = wireLines(got, 3);
      expect(lines.map((l) => `${l[0]} ${l[1]}`)).toEqual(NAMES.map((n, i) => `servers.mx1.${n} ${i + 1}`));
    } finally {
      server.close();
    }
  });

  /** Collects the datagrams a UDP socket receives while `run` runs. */
  async function datagrams(run: (port: number) => Promise<Result>, expected: number): Promise<{ r: Result; got: string[] }> {
    const sock = dgram.createSocket('udp4');
    const got: string[] = [];
    sock.on('message', (m) => got.push(m.toString('utf8')));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    try {
      const r = await run(sock.address().port);
      for (let i = 0; i < 50 && got.length < expected; i++) await new Promise((res) => setTimeout(res, 20));
      return { r, got };
    } finally {
      sock.close();
    }
  }

  it('-o graphite over UDP: one datagram per figure, each one line', async () => {
    const t = setup();
    const { r, got } = await datagrams((port) => sondeAsync(t.args('-o', 'graphite', '--graphite-protocol', 'udp', '--graphite-host', `127.0.0.1:${port}`)), NAMES.length);
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(got.map((d) => wireLines(d, 3)[0]!.slice(0, 2).join(' '))).toEqual(NAMES.map((n, i) => `${n} ${i + 1}`));
  });

  it('-o statsd: one `<name>:<value>|g` datagram per figure, with no `:` `|` `@` or newline in a name', async () => {
    const t = setup();
    const { r, got } = await datagrams((port) => sondeAsync(t.args('-o', 'statsd', '--statsd-host', `127.0.0.1:${port}`, '-p', 'pf')), NAMES.length);
    expect([r.status, r.stderr]).toEqual([0, '']);
    for (const d of got) expect(d).toMatch(/^[^:|@\s]+:\d+\|g$/);
    expect(got).toEqual(STATSD_NAMES.map((n, i) => `pf.${n}:${i + 1}|g`));
  });

  it('--config FILE -o <handler>: the handler gets the same sanitised names', () => {
    const t = setup();
    const cfg = path.join(t.dir, 'sonde.yaml');
    writeFileSync(cfg, 'handlers:\n  stdout: {}\n');
    const r = sonde(t.args('--config', cfg, '-o', 'stdout', '-p', 'servers.mx1'));
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(wireLines(r.stdout, 3).map((l) => `${l[0]} ${l[1]}`)).toEqual(NAMES.map((n, i) => `servers.mx1.${n} ${i + 1}`));
  });

  it('a prefix, a suffix and a separator with spaces, dots and newlines are sanitised the same way', () => {
    const t = setup();
    const r = sonde(t.args('-o', 'stdout', '-p', 'servers..my host.', '-x', '\nprod', '--stdout-separator', ' '));
    expect([r.status, r.stderr]).toEqual([0, '']);
    const lines = wireLines(r.stdout, 3);
    // `servers..my host. ok \nprod` → segments servers, my_host, _ok__prod.
    expect(lines.at(-1)!.slice(1)).toEqual(['servers.my_host._ok__prod', '8']);
  });
});
