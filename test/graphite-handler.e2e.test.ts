// The graphite handler against TCP listeners started by the test (real carbon comes with issue 4).
import dgram from 'node:dgram';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sonde } from './helpers/sonde.js';
import { freePort } from './helpers/carbon.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';
import { spawn } from 'node:child_process';
import { BUNDLE } from './helpers/sonde.js';
import { ConsistentHashRing } from '../handlers/graphite/ring.js';

const FIX = path.join(import.meta.dirname, 'fixtures');
const servers: net.Server[] = [];

function listener(): Promise<{ port: number; lines: () => string[] }> {
  let data = '';
  const server = net.createServer((sock) => sock.setEncoding('utf8').on('data', (d: string) => (data += d)));
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as net.AddressInfo).port, lines: () => data.split('\n').filter(Boolean) })),
  );
}

function runAsync(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BUNDLE, ...args]);
    let stderr = '';
    c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    c.on('exit', (status) => resolve({ status, stderr }));
  });
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function cfg(dir: string, handlers: string): string {
  return writeFiles(dir, {
    'sonde.yaml': `hostname: web01\nproc_root: ${FIX}/proc/e2e-0\nstate_dir: ${dir}/state\nplugin_paths: []\nshutdown_timeout: 2s\ncollectors:\n  memory: {}\n  loadavg: {}\nhandlers:\n${handlers}`,
  })['sonde.yaml']!;
}

describe('graphite handler', () => {
  it('sends the same plaintext lines the stdout handler prints', async () => {
    const dir = tmpdir();
    const sink = await listener();
    const r = await runAsync(['once', '--config', cfg(dir, `  stdout: {}\n  graphite: { destinations: ["127.0.0.1:${sink.port}"] }\n`)]);
    expect(r.status).toBe(0);
    const printed = sonde(['once', '--config', cfg(dir, '  stdout: {}\n')]).stdout.trim().split('\n');
    const strip = (ls: string[]) => ls.map((l) => l.split(' ').slice(0, 2).join(' ')).sort();
    expect(strip(sink.lines())).toEqual(strip(printed));
    expect(sink.lines()).toHaveLength(25);
  });

  it('fails over to the next destination when the first refuses', async () => {
    const dir = tmpdir();
    const sink = await listener();
    // A port freed again may be handed out next: the dead one must not be the sink's (the config
    // would then list one destination twice and be refused, 78).
    let dead = await freePort();
    while (dead === sink.port) dead = await freePort();
    const r = await runAsync(['once', '--config', cfg(dir, `  graphite: { destinations: ["127.0.0.1:${dead}", "127.0.0.1:${sink.port}"] }\n`)]);
    expect(r.status).toBe(0);
    expect(sink.lines()).toHaveLength(25);
  });

  it('keeps what it could not send on disk and sends it first on the next run (cron loses nothing)', async () => {
    const dir = tmpdir();
    const port = await freePort();
    const conf = cfg(dir, `  graphite: { destinations: ["127.0.0.1:${port}"], retry_min: 100ms }\n`);
    const down = await runAsync(['once', '--config', conf]);
    expect(down.status).toBe(1);
    expect(down.stderr).toContain(`connect to 127.0.0.1:${port} failed`);
    expect(down.stderr).toMatch(/handler graphite: 25 samples wait in the disk spool; the next run sends them first/);

    // carbon is back on the same port
    let data = '';
    const server = net.createServer((sock) => sock.setEncoding('utf8').on('data', (d: string) => (data += d)));
    servers.push(server);
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    const up = await runAsync(['once', '--config', conf]);
    expect(up.status).toBe(0);
    const lines = data.split('\n').filter(Boolean);
    expect(lines).toHaveLength(50);
    // the first run's samples come first: one timestamp, then the next
    const stamps = lines.map((l) => Number(l.split(' ')[2]));
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
  });

  it('replicate: every destination gets every sample', async () => {
    const dir = tmpdir();
    const [a, b] = [await listener(), await listener()];
    const r = await runAsync(['once', '--config', cfg(dir, `  graphite: { mode: replicate, destinations: ["127.0.0.1:${a.port}", "127.0.0.1:${b.port}"] }\n`)]);
    expect(r.status).toBe(0);
    expect(a.lines()).toHaveLength(25);
    expect(b.lines().sort()).toEqual(a.lines().sort());
  });

  it('shard: each metric goes, once, to the destination carbon-relay\'s ring chooses', async () => {
    const dir = tmpdir();
    const sinks = [await listener(), await listener(), await listener()];
    // One host with three carbon instances: the ring hashes host and instance, not the port.
    const dests = sinks.map((s, i) => `127.0.0.1:${s.port}:${'abc'[i]}`);
    const r = await runAsync(['once', '--config', cfg(dir, `  graphite: { mode: shard, hash: carbon_ch, destinations: [${dests.map((d) => `"${d}"`).join(', ')}] }\n`)]);
    expect(r.status).toBe(0);
    const ring = new ConsistentHashRing(dests.map((d, i) => ({ server: '127.0.0.1', instance: d.split(':')[2], i })), 'carbon_ch');
    const all = sinks.flatMap((s, i) => s.lines().map((l) => [i, l.split(' ')[0]!] as const));
    expect(all).toHaveLength(25);
    for (const [i, metric] of all) expect(ring.get(metric).i, metric).toBe(i);
    expect(sinks.filter((s) => s.lines().length > 0).length).toBeGreaterThan(1);
  });

  it('udp: whole plaintext lines in datagrams of at most 1400 bytes', async () => {
    const dir = tmpdir();
    const sock = dgram.createSocket('udp4');
    const datagrams: string[] = [];
    sock.on('message', (m) => datagrams.push(m.toString('utf8')));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const port = sock.address().port;
    try {
      const r = await runAsync(['once', '--config', cfg(dir, `  graphite: { transport: udp, destinations: ["127.0.0.1:${port}"] }\n`)]);
      expect(r.status).toBe(0);
      await new Promise((res) => setTimeout(res, 200));
      for (const d of datagrams) {
        expect(d.length).toBeLessThanOrEqual(1400);
        expect(d.endsWith('\n')).toBe(true);
      }
      const lines = datagrams.join('').split('\n').filter(Boolean);
      expect(lines).toHaveLength(25);
      expect(lines.every((l) => /^servers\.web01\.\S+ \S+ \d+$/.test(l))).toBe(true);
    } finally {
      sock.close();
    }
  });

  it('rejects a destination that is not host:port, naming the key', () => {
    const dir = tmpdir();
    const file = cfg(dir, '  graphite: { destinations: ["carbon1"] }\n');
    const r = sonde(['check-config', '--config', file]);
    expect(r.status).toBe(78);
    expect(r.stderr).toContain(`${file}:10: handlers.graphite.destinations[0]: expected host:port or host:port:instance, got "carbon1"`);
  });
});
