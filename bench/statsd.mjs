// npm run bench:statsd: samples per second through the statsd handler to a UDP sink and to a TCP
// sink, datagrams per 1,000 samples at 512, 1432 and 8932 bytes, and the same figures for
// Logster's way (one datagram per metric: sonde logster -o statsd's output), in the same run.
// The sink is another process; it counts the datagrams and lines it receives.
// Targets (issue 14): at least 1,000,000 samples/s over UDP, at most one datagram per 25 samples
// at 1432 bytes.  `-- --samples N` changes the 1,000,000 samples of the throughput rows.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { numberArg, table } from './lib.mjs';

const root = path.resolve(import.meta.dirname, '..');

// The entry is bundled from here, so the benchmark drives the handler's own source.
const ENTRY = String.raw`
import { spawn } from 'node:child_process';
import statsd from './handlers/statsd/statsd.js';
import { createOutput } from './src/logster/outputs.js';
import { NameTable, PathRenderer } from './src/model/naming.js';

const N = Number(process.env.BENCH_SAMPLES);
const BATCH = 5000;
const NAMES = 1000;

/** Host figures as collectors make them: levels and rates with 2 decimals, a tenth running totals. */
function samples(n) {
  const names = Array.from({ length: NAMES }, (_, i) => new NameTable('c' + (i % 10)).get(['group', 'metric_' + i]));
  const ts = Date.now();
  return Array.from({ length: n }, (_, i) => {
    const k = i % NAMES;
    const round = Math.floor(i / NAMES);
    if (k % 10 === 9) return { name: names[k], value: 1e6 + round * (k + 1), kind: 'counter', timestamp: ts, precision: 0 };
    return { name: names[k], value: ((i * 7.3) % 1000) - 100, kind: k % 10 < 7 ? 'gauge' : 'rate', timestamp: ts, precision: 2 };
  });
}

/** One interval of a host with n names: a gauge each, 2 decimals. */
function interval(n) {
  const t = new NameTable('big');
  const ts = Date.now();
  return Array.from({ length: n }, (_, i) => ({ name: t.get(['group' + (i % 100), 'metric_' + i]), value: (i * 7.3) % 1000, kind: 'gauge', timestamp: ts, precision: 2 }));
}

async function sink() {
  const child = spawn(process.execPath, ['-e', ${JSON.stringify(`
    const dgram = require('dgram'); const net = require('net');
    let datagrams = 0, lines = 0, bytes = 0;
    const u = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
    u.on('message', (m) => { datagrams++; bytes += m.length; lines++; for (let i = 0; i < m.length; i++) if (m[i] === 10) lines++; });
    const t = net.createServer((c) => c.on('data', (d) => { bytes += d.length; for (let i = 0; i < d.length; i++) if (d[i] === 10) lines++; }));
    u.bind(0, '127.0.0.1', () => t.listen(0, '127.0.0.1', () => process.send({ udp: u.address().port, tcp: t.address().port })));
    process.on('message', (m) => { if (m === 'reset') { datagrams = 0; lines = 0; bytes = 0; process.send('ok'); } else process.send({ datagrams, lines, bytes }); });
  `)}], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const ports = await new Promise((r) => child.once('message', r));
  const ask = (m) => new Promise((r) => { child.once('message', r); child.send(m); });
  return { ...ports, counts: () => ask('?'), reset: () => ask('reset'), stop: () => child.kill() };
}

const settle = () => new Promise((r) => setTimeout(r, 300));
const renderer = new PathRenderer({ prefix: 'servers', host: 'bench', suffix: '' });
const log = { debug() {}, info() {}, warn() {}, error() {} };

/** The handler's own init, send and close, batch after batch, as the outbox calls them. */
async function throughHandler(config, all, s) {
  await s.reset();
  const ctx = { config: statsd.schema.parse(config), state: undefined, path: (n) => renderer.render(n), signal: new AbortController().signal, log };
  ctx.state = await statsd.init(ctx);
  let lines = 0;
  let ms = 0;
  for (let i = 0; i < all.length; i += BATCH) {
    const batch = all.slice(i, i + BATCH);
    const t0 = performance.now();
    await statsd.send(batch, ctx);
    ms += performance.now() - t0;
    lines += countLines(ctx.state.encoder);
  }
  const elapsed = ms / 1000;
  await statsd.close(ctx);
  await settle();
  const got = await s.counts();
  return { perSecond: all.length / elapsed, ms: elapsed * 1000, per1000: (got.datagrams * 1000) / all.length, linesSent: lines, linesGot: got.lines };
}

function countLines(enc) {
  let n = 0;
  for (let i = 0; i < enc.len; i++) if (enc.buf[i] === 10) n++;
  return n;
}

/** sonde logster's statsd output (Logster's one datagram per figure, or packed), one submit per batch. */
async function throughLogster(all, s, packetBytes) {
  await s.reset();
  const out = createOutput('statsd', { statsdHost: '127.0.0.1:' + s.udp, statsdPacketBytes: packetBytes, metricPrefix: '', metricSuffix: undefined, dryRun: false }, () => {});
  const figures = all.map((x) => ({ name: renderer.render(x.name), value: x.value, kind: x.kind === 'counter' ? 'counter' : 'gauge', float: !Number.isInteger(x.value) }));
  const t0 = performance.now();
  for (let i = 0; i < figures.length; i += BATCH) await out.submit(figures.slice(i, i + BATCH), 0);
  const elapsed = (performance.now() - t0) / 1000;
  await settle();
  const got = await s.counts();
  return { perSecond: all.length / elapsed, per1000: (got.datagrams * 1000) / all.length, linesSent: all.length, linesGot: got.lines };
}

const s = await sink();
const all = samples(N);
const small = all.slice(0, 100_000);
// A warm-up pass each (not timed): the rows measure compiled code, as in an agent that has run a while.
await throughHandler({ destination: '127.0.0.1:' + s.udp, udp_rate: 0 }, all.slice(0, 200_000), s);
await throughHandler({ destination: '127.0.0.1:' + s.tcp, protocol: 'tcp' }, all.slice(0, 200_000), s);
const r = {
  n: N,
  udp: await throughHandler({ destination: '127.0.0.1:' + s.udp, udp_rate: 0 }, all, s),
  udpPaced: await throughHandler({ destination: '127.0.0.1:' + s.udp }, small, s),
  tcp: await throughHandler({ destination: '127.0.0.1:' + s.tcp, protocol: 'tcp' }, all, s),
  sizes: {},
  burst: await throughHandler({ destination: '127.0.0.1:' + s.udp }, interval(10_000), s),
  logster: await throughLogster(small, s, undefined),
  logsterPacked: await throughLogster(small, s, 1432),
};
for (const max of [512, 1432, 8932]) r.sizes[max] = await throughHandler({ destination: '127.0.0.1:' + s.udp, max_packet_bytes: max }, small, s);
s.stop();
process.stdout.write(JSON.stringify(r) + '\n');
`;

const N = numberArg('samples', 1_000_000);
const dir = mkdtempSync(path.join(os.tmpdir(), 'sonde-bench-statsd-'));
try {
  const out = path.join(dir, 'entry.mjs');
  await build({
    stdin: { contents: ENTRY, resolveDir: root, loader: 'ts', sourcefile: 'bench-statsd-entry.ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: out,
    logLevel: 'error',
    banner: { js: "import { createRequire as __c } from 'node:module'; const require = __c(import.meta.url);" },
  });
  const r = JSON.parse(execFileSync(process.execPath, [out], { encoding: 'utf8', env: { ...process.env, BENCH_SAMPLES: String(N) }, maxBuffer: 1 << 24 }));
  const k = (x) => Math.round(x).toLocaleString('en-US');
  const d = (x) => x.toFixed(1);
  const got = (x) => `${k(x.linesGot)} / ${k(x.linesSent)}`;
  console.log(`${k(r.n)} samples after a warm-up (100,000 in the rows at udp_rate 4MiB and Logster's), 1000 names (7 in 10 gauges, 2 rates, 1 counter), batches of 5000; node ${process.version}, ${os.cpus().length} CPUs\n`);
  console.log(
    table(
      ['path', 'samples / s', 'datagrams at the sink / 1,000 samples', 'lines at the sink / sent', 'target', 'met'],
      [
        ['statsd handler -> UDP sink, 1432 B, udp_rate 0 (unpaced)', k(r.udp.perSecond), d(r.udp.per1000), got(r.udp), '>= 1,000,000 / s', r.udp.perSecond >= 1e6 ? 'yes' : 'NO'],
        ['statsd handler -> UDP sink, 1432 B, udp_rate 4MiB (default)', k(r.udpPaced.perSecond), d(r.udpPaced.per1000), got(r.udpPaced), '(paced)', ''],
        ['statsd handler -> TCP sink', k(r.tcp.perSecond), '', got(r.tcp), '', ''],
        ...[512, 1432, 8932].map((m) => [
          `statsd handler -> UDP sink, max_packet_bytes ${m}, udp_rate 4MiB`,
          k(r.sizes[m].perSecond),
          d(r.sizes[m].per1000),
          got(r.sizes[m]),
          m === 1432 ? '<= 40 (1 per 25)' : '',
          m === 1432 ? (r.sizes[m].per1000 <= 40 ? 'yes' : 'NO') : '',
        ]),
        ["Logster's way: sonde logster -o statsd (a datagram per metric)", k(r.logster.perSecond), d(r.logster.per1000), got(r.logster), '', ''],
        ['sonde logster -o statsd --statsd-packet-bytes 1432', k(r.logsterPacked.perSecond), d(r.logsterPacked.per1000), got(r.logsterPacked), '', ''],
      ],
    ),
  );
  console.log(`\nOne interval of 10,000 names at the defaults (1432 B, udp_rate 4MiB): out in ${k(r.burst.ms)} ms; ${got(r.burst)} lines at the sink.`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
