// npm run bench:memcached: items and samples per second written by the memcached_queue handler
// into esmond persist queues on a local memcached, beside a Python writer that follows esmond's
// MemcachedPersistQueue.put() (incr, then set, per item) with Debian's python3-memcache, in the
// same run and on the same items; the ratio of items per second, and the handler's CPU per sample.
// Target (issue 16): at least 10 times the Python writer's items per second.
// Two workloads: a host's collectors (items of 31, 8, 27, 8, 17, 18, 8 and 6 samples, what
// `sonde once` emitted per collector on a 2-CPU Debian host: cpu, diskspace, iostat, loadavg,
// memory, network, sockets, vmstat) and a MySQL instance's 50 figures per item.
// The machine is shared: each writer runs three times, the two kinds taking turns, and each row
// shows its best run. `-- --items N` changes the 40,000 items of the handler's rows (Python: 5,000).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { numberArg, table } from './lib.mjs';

const root = path.resolve(import.meta.dirname, '..');
const HOST_MIX = [31, 8, 27, 8, 17, 18, 8, 6];
const MYSQL = [50];

// The entry is bundled from here, so the benchmark drives the handler's own source.
const ENTRY = String.raw`
import memcachedQueue from './handlers/memcached_queue/memcached_queue.js';
import { NameTable } from './src/model/naming.js';

const ITEMS = Number(process.env.BENCH_ITEMS);
const ROUND = process.env.BENCH_ROUND;
const DEVICES = 100;
const log = { debug() {}, info() {}, warn() {}, error() {} };

/** 100 devices; item k holds sizes[k % sizes.length] figures of one run, two decimals each. */
function samples(items, sizes) {
  const max = Math.max(...sizes);
  const tables = Array.from({ length: DEVICES }, () => new NameTable('mysql'));
  const names = tables.map((t, d) => Array.from({ length: max }, (_, i) => t.get(['status', 'Metric_' + i], 'db' + d)));
  const out = [];
  for (let k = 0; k < items; k++) {
    const d = k % DEVICES;
    const ts = 1_700_000_000_000 + Math.floor(k / DEVICES) * 10_000;
    const n = sizes[k % sizes.length];
    for (let i = 0; i < n; i++) out.push({ name: names[d][i], value: ((k * 7.3 + i) % 10000) / 4, kind: 'gauge', timestamp: ts, precision: 2 });
  }
  return out;
}

async function run(config, all, batchSize) {
  const ctx = { config: memcachedQueue.schema.parse(config), state: undefined, path: () => '', signal: new AbortController().signal, log, host: 'bench' };
  ctx.state = memcachedQueue.init(ctx);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < all.length; i += batchSize) await memcachedQueue.send(all.slice(i, i + batchSize), ctx);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  memcachedQueue.close(ctx);
  return { ms, cpuUs: cpu.user + cpu.system };
}

const dest = process.env.BENCH_DEST;
const host = samples(ITEMS, ${JSON.stringify(HOST_MIX)});
const mysql = samples(ITEMS, ${JSON.stringify(MYSQL)});
// Warm-up (not timed): the rows measure compiled code, as in an agent that has run a while.
await run({ destination: dest, queues: { warm: 4 }, device_name: '{instance}' }, mysql.slice(0, 100_000), 5000);
const r = {
  hostOne: await run({ destination: dest, queues: { ['h1_' + ROUND]: 1 }, device_name: '{instance}' }, host, 5000),
  hostFour: await run({ destination: dest, queues: { ['h4_' + ROUND]: 4 }, device_name: '{instance}' }, host, 5000),
  hostSmall: await run({ destination: dest, queues: { ['hs_' + ROUND]: 4 }, device_name: '{instance}' }, host, 500),
  mysqlFour: await run({ destination: dest, queues: { ['m4_' + ROUND]: 4 }, device_name: '{instance}' }, mysql, 5000),
};
process.stdout.write(JSON.stringify(r) + '\n');
`;

// esmond's put(), per item: serialize, incr last_added, set the item (python-memcached, as esmond).
const PYTHON_WRITER = String.raw`
import json, sys, time, memcache
uri, items, sizes, qname = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
PREFIX = '_mcpq_'
class PollResult(object):
    def __init__(self, oidset_name, device_name, oid_name, timestamp, data, metadata):
        self.oidset_name, self.device_name, self.oid_name = oidset_name, device_name, oid_name
        self.timestamp, self.data, self.metadata = timestamp, data, metadata
    def json(self):
        return json.dumps(dict(oidset_name=self.oidset_name, device_name=self.device_name,
            oid_name=self.oid_name, timestamp=self.timestamp, data=self.data, metadata=self.metadata))
class MemcachedPersistQueue(object):
    def __init__(self, qname, memcached_uri):
        self.qname = qname
        self.mc = memcache.Client([memcached_uri])
        self.last_added = '%s_%s_last_added' % (PREFIX, self.qname)
        if not self.mc.get(self.last_added):
            self.mc.set(self.last_added, 0)
        self.last_read = '%s_%s_last_read' % (PREFIX, self.qname)
        if not self.mc.get(self.last_read):
            self.mc.set(self.last_read, 0)
    def put(self, val):
        ser = val.json()
        if ser:
            qid = self.mc.incr(self.last_added)
            k = '%s_%s_%d' % (PREFIX, self.qname, qid)
            if not self.mc.set(k, ser):
                sys.stderr.write("memcache 'set' failed! Polling data lost!\n")
results = [PollResult('mysql', 'db%d' % (k % 100), 'mysql', 1700000000 + (k // 100) * 10,
    [[['status', 'Metric_%d' % i], round(((k * 7.3 + i) % 10000) / 4, 2)] for i in range(sizes[k % len(sizes)])],
    {'tsdb_flags': 1}) for k in range(items)]
q = MemcachedPersistQueue(qname, uri)
c0 = time.process_time()
t0 = time.perf_counter()
for r in results:
    q.put(r)
print(json.dumps({'ms': (time.perf_counter() - t0) * 1000, 'cpuUs': (time.process_time() - c0) * 1e6}))
`;

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise((r) => s.close(r));
  return port;
}

async function startMemcached() {
  const port = await freePort();
  const args = ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', '4096', '-t', '1'];
  if (process.getuid?.() === 0) args.push('-u', 'root');
  const child = spawn('/usr/bin/memcached', args, { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((r) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), r(true)));
      c.once('error', () => r(false));
    });
    if (ok) return { port, stop: () => child.kill('SIGKILL') };
    await new Promise((r) => setTimeout(r, 25));
  }
  child.kill('SIGKILL');
  throw new Error('memcached did not start');
}

const ITEMS = numberArg('items', 40_000);
const PY_ITEMS = Math.min(ITEMS, 5000);
const dir = mkdtempSync(path.join(os.tmpdir(), 'sonde-bench-memcached-'));
const mc = await startMemcached();
try {
  const out = path.join(dir, 'entry.mjs');
  await build({
    stdin: { contents: ENTRY, resolveDir: root, loader: 'ts', sourcefile: 'bench-memcached-entry.ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: out,
    logLevel: 'error',
    banner: { js: "import { createRequire as __c } from 'node:module'; const require = __c(import.meta.url);" },
  });
  const dest = `127.0.0.1:${mc.port}`;
  const pyFile = path.join(dir, 'writer.py');
  writeFileSync(pyFile, PYTHON_WRITER);
  const python = (sizes, q) => JSON.parse(execFileSync('/usr/bin/python3', [pyFile, dest, String(PY_ITEMS), JSON.stringify(sizes), q], { encoding: 'utf8' }));
  const best = (a, b) => (a === undefined || b.ms < a.ms ? b : a);
  let r = {};
  let pyHost;
  let pyMysql;
  for (let round = 0; round < 3; round++) {
    const x = JSON.parse(execFileSync(process.execPath, [out], { encoding: 'utf8', env: { ...process.env, BENCH_ITEMS: String(ITEMS), BENCH_DEST: dest, BENCH_ROUND: String(round) }, maxBuffer: 1 << 24 }));
    for (const key of Object.keys(x)) r[key] = best(r[key], x[key]);
    pyHost = best(pyHost, python(HOST_MIX, `pyhost${round}`));
    pyMysql = best(pyMysql, python(MYSQL, `pymysql${round}`));
  }
  const k = (x) => Math.round(x).toLocaleString('en-US');
  const samplesIn = (items, sizes) => {
    let n = 0;
    for (let i = 0; i < items; i++) n += sizes[i % sizes.length];
    return n;
  };
  const row = (label, x, items, sizes, batch, py) => {
    const sec = x.ms / 1000;
    const n = samplesIn(items, sizes);
    const pyRate = PY_ITEMS / (py.ms / 1000);
    return [label, batch, k(items / sec), k(n / sec), (x.cpuUs / n).toFixed(2), `${(items / sec / pyRate).toFixed(1)}x`];
  };
  console.log(`memcached on 127.0.0.1 (Debian's, -t 1); the handler writes ${k(ITEMS)} items a row, esmond's put() ${k(PY_ITEMS)}; 100 devices; best of 3 runs each\n`);
  console.log(
    table(
      ['writer', 'items of', 'batch (samples)', 'items/s', 'samples/s', 'CPU µs/sample', 'vs esmond put()'],
      [
        row('memcached_queue, 1 queue', r.hostOne, ITEMS, HOST_MIX, '5000', pyHost),
        row('memcached_queue, 4 queues', r.hostFour, ITEMS, HOST_MIX, '5000', pyHost),
        row('memcached_queue, 4 queues', r.hostSmall, ITEMS, HOST_MIX, '500', pyHost),
        row("esmond's put() (python3-memcache)", pyHost, PY_ITEMS, HOST_MIX, '1 item', pyHost),
        row('memcached_queue, 4 queues', r.mysqlFour, ITEMS, MYSQL, '5000', pyMysql),
        row("esmond's put() (python3-memcache)", pyMysql, PY_ITEMS, MYSQL, '1 item', pyMysql),
      ].map((x, i) => [x[0], i < 4 ? 'a host (15.4)' : 'mysql (50)', ...x.slice(1)]),
    ),
  );
  const ratio = ITEMS / (r.hostFour.ms / 1000) / (PY_ITEMS / (pyHost.ms / 1000));
  const ratioMysql = ITEMS / (r.mysqlFour.ms / 1000) / (PY_ITEMS / (pyMysql.ms / 1000));
  console.log(`\nTarget: at least 10x esmond's put() in items/s. A host's collectors, 4 queues, batches of 5000: ${ratio.toFixed(1)}x, ${ratio >= 10 ? 'met' : 'NOT met'}; 50-sample items: ${ratioMysql.toFixed(1)}x, ${ratioMysql >= 10 ? 'met' : 'NOT met'}.`);
} finally {
  mc.stop();
  if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
  else console.log(dir);
}
