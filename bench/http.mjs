// npm run bench:http: samples per second through the http handler, per format, with and without
// gzip, to a local HTTP sink (another process) over one keep-alive connection, and the handler
// process's CPU microseconds per sample. Targets (issue 15): at least 1,000,000 samples/s for
// graphite, json and influx without gzip, 500,000 for prometheus_remote_write.
// `-- --samples N` changes the 1,000,000 samples of each row.
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
import http from './handlers/http/http.js';
import { NameTable, PathRenderer } from './src/model/naming.js';

const N = Number(process.env.BENCH_SAMPLES);
const BATCH = 5000;
const NAMES = 1000;

// The sink: counts requests and body bytes, answers 204 on the same connection.
const SINK = "const http = require('node:http'); let req = 0, bytes = 0;" +
  "const s = http.createServer((q, r) => { q.on('data', (c) => (bytes += c.length)); q.on('end', () => { req++; r.writeHead(204); r.end(); }); });" +
  "s.keepAliveTimeout = 60000; s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));" +
  "process.stdin.on('data', () => process.stdout.write(JSON.stringify({ req, bytes }) + '\\n'));";

function samples(n) {
  const names = Array.from({ length: NAMES }, (_, i) => new NameTable('c' + (i % 10)).get(i % 5 === 0 ? ['group', 'metric_' + i] : ['metric_' + i]));
  const ts = Date.now();
  return Array.from({ length: n }, (_, i) => ({ name: names[i % NAMES], value: ((i * 7.3) % 1000) - 100, kind: 'gauge', timestamp: ts + Math.floor(i / NAMES) * 1000, precision: 2 }));
}

const sink = spawn(process.execPath, ['-e', SINK], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = [];
let wake;
sink.stdout.on('data', (c) => { for (const l of c.toString().split('\n')) if (l) lines.push(l); wake?.(); });
const next = async () => { while (lines.length === 0) await new Promise((r) => (wake = r)); return lines.shift(); };
const port = Number(await next());
const paths = new PathRenderer({ prefix: 'servers', host: 'bench-host', suffix: '' });
const all = samples(N);

async function run(format, encoding, n) {
  const url = format === 'influx' ? 'http://127.0.0.1:' + port + '/write?db=bench' : 'http://127.0.0.1:' + port + '/';
  const config = http.schema.parse({ url, format, content_encoding: encoding });
  const ctx = { config, state: undefined, path: (nm) => paths.render(nm), signal: new AbortController().signal, log: { debug() {}, info() {}, warn() {}, error() {} } };
  ctx.state = http.init(ctx);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i += BATCH) await http.send(all.slice(i, Math.min(n, i + BATCH)), ctx);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  http.close(ctx);
  sink.stdin.write('\n');
  const total = JSON.parse(await next());
  const got = { req: total.req - seen.req, bytes: total.bytes - seen.bytes };
  seen = total;
  return { perSecond: n / (ms / 1000), cpuUsPerSample: (cpu.user + cpu.system) / n, bytesPerSample: got.bytes / got.req / BATCH, requests: got.req };
}

let seen = { req: 0, bytes: 0 };
const rows = {};
for (const format of ['graphite', 'json', 'diamond_json', 'influx', 'prometheus_remote_write']) {
  for (const encoding of format === 'prometheus_remote_write' ? ['identity'] : ['identity', 'gzip']) {
    await run(format, encoding, Math.min(N, 100_000)); // warm-up
    rows[format + '/' + encoding] = await run(format, encoding, N);
  }
}
sink.kill();
process.stdout.write(JSON.stringify({ n: N, rows }));
`;

const N = numberArg('samples', 1_000_000);
const dir = mkdtempSync(path.join(os.tmpdir(), 'sonde-bench-http-'));
try {
  const out = path.join(dir, 'bench.mjs');
  await build({
    stdin: { contents: ENTRY, resolveDir: root, loader: 'ts', sourcefile: 'bench-http-entry.ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: out,
    logLevel: 'error',
    banner: { js: "import { createRequire as __c } from 'node:module'; const require = __c(import.meta.url);" },
  });
  const r = JSON.parse(execFileSync(process.execPath, [out], { encoding: 'utf8', env: { ...process.env, BENCH_SAMPLES: String(N) }, maxBuffer: 1 << 24 }));
  const k = (x) => Math.round(x).toLocaleString('en-US');
  const target = { graphite: 1e6, json: 1e6, influx: 1e6, prometheus_remote_write: 5e5 };
  console.log(`${k(r.n)} samples per row after a warm-up, 1000 names, batches of 5000, one keep-alive connection to a sink process; node ${process.version}, ${os.cpus().length} CPUs\n`);
  console.log(
    table(
      ['format', 'content encoding', 'samples / s', 'CPU µs / sample', 'body bytes / sample', 'target', 'met'],
      Object.entries(r.rows).map(([key, v]) => {
        const [format, encoding] = key.split('/');
        const t = encoding === 'identity' ? target[format] : undefined;
        return [format, format === 'prometheus_remote_write' ? 'snappy' : encoding, k(v.perSecond), v.cpuUsPerSample.toFixed(2), v.bytesPerSample.toFixed(1), t ? `>= ${k(t)} / s` : '', t ? (v.perSecond >= t ? 'yes' : 'NO') : ''];
      }),
    ),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
