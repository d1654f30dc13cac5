// npm run bench:mysql: the mysql collector beside Debian's prometheus-mysqld-exporter, on the
// same MariaDB instances (started here: Debian's mariadb-server, one temp dir each), for 1, 3 and
// 10 instances: sonde collecting them all every second (graphite to a local TCP sink), and one
// exporter per instance (as the exporter must run before 0.15) scraped every second, both at the
// same time for --seconds (default 60) after --warmup (10). Prints CPU ms per instance per
// collection (/proc/<pid>/stat) and RSS for each, and their ratios.
// Targets (issue 13): sonde's CPU per instance-collection at most the exporter's; sonde's RSS
// for 10 instances under 65 MB.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ensureDebs } from '../scripts/debs.mjs';
import { cpuMs, numberArg, rssKiB, sleep, startProcess, table } from './lib.mjs';

const root = path.resolve(import.meta.dirname, '..');
const seconds = numberArg('seconds', 60);
const warmup = numberArg('warmup', 10);
const countsArg = process.argv.indexOf('--counts');
const counts = countsArg > 0 ? process.argv[countsArg + 1].split(',').map(Number) : [1, 3, 10];
const asRoot = process.getuid?.() === 0;
// --node-flags '--x --y': node/V8 flags for sonde's process, to compare memory settings.
const flagsArg = process.argv.indexOf('--node-flags');
const nodeFlags = flagsArg > 0 ? process.argv[flagsArg + 1].split(' ').filter(Boolean) : [];

if (
  !ensureDebs(
    [
      { name: 'mariadb-server', proves: '/usr/sbin/mariadbd' },
      { name: 'mariadb-server', proves: '/usr/bin/mariadb-install-db' },
      { name: 'prometheus-mysqld-exporter', proves: '/usr/bin/prometheus-mysqld-exporter' },
    ],
    'bench:mysql',
  )
) {
  process.exit(1);
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A Graphite plaintext sink that counts complete lines. */
function sink() {
  let lines = 0;
  const server = net.createServer((sock) => {
    sock.on('data', (buf) => {
      for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) lines++;
    });
    sock.on('error', () => undefined);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: server.address().port, count: () => lines, close: () => server.close() })));
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sonde-bench-mysql-'));
const children = [];
// Stopped from outside (Ctrl-C, a timeout), the benchmark takes its servers and its sonde with it:
// left running they would load the machine for whatever is measured next.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
    process.exit(130);
  });
}

/** A MariaDB instance in its own dir, on its own socket, answering as root over unix_socket. */
async function startInstance(template, i) {
  const dir = path.join(tmp, `m${i}`);
  mkdirSync(dir);
  cpSync(template, path.join(dir, 'data'), { recursive: true });
  const socket = path.join(dir, 'mysqld.sock');
  const args = [
    '--no-defaults',
    `--datadir=${dir}/data`,
    `--socket=${socket}`,
    `--port=${await freePort()}`,
    '--bind-address=127.0.0.1',
    `--pid-file=${dir}/mysqld.pid`,
    `--log-error=${dir}/error.log`,
    `--server-id=${i + 1}`,
    '--innodb-buffer-pool-size=8M',
    '--innodb-log-file-size=4M',
    '--key-buffer-size=1M',
    '--performance-schema=OFF',
    '--skip-name-resolve',
  ];
  if (asRoot) args.push('--user=root');
  const proc = startProcess('/usr/sbin/mariadbd', args);
  children.push(proc);
  for (let t = 0; ; t++) {
    const ok = spawnSync('/usr/bin/mariadb', ['--no-defaults', '-S', socket, '-uroot', '-e', 'SELECT 1'], { stdio: 'ignore' }).status === 0;
    if (ok) break;
    if (proc.exitCode !== null || t > 600) throw new Error(`mariadbd m${i} did not start (see ${dir}/error.log)`);
    await sleep(50);
  }
  return { name: `m${i}`, socket };
}

async function scrape(port) {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await res.text();
  let n = 0;
  for (let i = text.indexOf('\nmysql_'); i !== -1; i = text.indexOf('\nmysql_', i + 1)) n++;
  return n;
}

/** sonde and the exporters on the first `n` instances, at once, measured over the same seconds. */
async function measure(instances, n) {
  const use = instances.slice(0, n);
  const graphite = await sink();
  const cfg = path.join(tmp, `sonde-${n}.yaml`);
  writeFileSync(
    cfg,
    [
      'hostname: bench',
      'interval: 1s',
      `state_dir: ${tmp}/state-${n}`,
      'plugin_paths: []',
      'self_metrics: { enabled: false }   # the exporters are scraped for their mysql_* figures alone too',
      'collectors:',
      '  mysql:',
      '    instance_timeout: 800ms',
      '    instances:',
      ...use.map((i) => `      ${i.name}: { socket: ${i.socket} }`),
      'handlers:',
      `  graphite: { destinations: ["127.0.0.1:${graphite.port}"] }`,
      '',
    ].join('\n'),
  );
  const sonde = startProcess(process.execPath, [...nodeFlags, path.join(root, 'dist', 'sonde.cjs'), 'run', '--config', cfg]);
  children.push(sonde);
  const exporters = [];
  for (const i of use) {
    const port = await freePort();
    const proc = startProcess('/usr/bin/prometheus-mysqld-exporter', [`--web.listen-address=127.0.0.1:${port}`], { env: { DATA_SOURCE_NAME: `root@unix(${i.socket})/` } });
    children.push(proc);
    exporters.push({ proc, port, scrapes: 0, values: 0 });
  }
  // Every exporter scraped once a second, as a Prometheus with scrape_interval: 1s would.
  let scraping = true;
  let counting = false;
  const loops = exporters.map(async (e) => {
    for (let next = performance.now(); scraping; ) {
      try {
        const v = await scrape(e.port);
        if (counting) {
          e.scrapes++;
          e.values += v;
        }
      } catch {
        // not listening yet
      }
      next += 1000;
      await sleep(Math.max(0, next - performance.now()));
    }
  });
  await sleep(warmup * 1000);
  if (sonde.exitCode !== null) throw new Error(`sonde exited during warm-up (status ${sonde.exitCode})`);
  const s0 = cpuMs(sonde.pid);
  const e0 = exporters.map((e) => cpuMs(e.proc.pid));
  const lines0 = graphite.count();
  counting = true;
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const elapsed = (performance.now() - t0) / 1000;
  counting = false;
  const sCpu = cpuMs(sonde.pid) - s0;
  const eCpu = exporters.reduce((sum, e, k) => sum + cpuMs(e.proc.pid) - e0[k], 0);
  const sRss = rssKiB(sonde.pid).peak / 1024;
  // Beside the peak: where the sawtooth of V8's collections stands when the measurement ends.
  const sRssEnd = rssKiB(sonde.pid).now / 1024;
  const eRss = exporters.map((e) => rssKiB(e.proc.pid).peak / 1024);
  const lines = graphite.count() - lines0;
  scraping = false;
  await Promise.all(loops);
  for (const p of [sonde, ...exporters.map((e) => e.proc)]) p.kill('SIGTERM');
  graphite.close();
  const collections = Math.round(elapsed); // one a second, each covering every instance
  const scrapes = exporters.reduce((s, e) => s + e.scrapes, 0);
  return {
    n,
    sondePer: sCpu / (collections * n),
    exporterPer: eCpu / scrapes,
    sondeValues: lines / (collections * n),
    exporterValues: exporters.reduce((s, e) => s + e.values, 0) / scrapes,
    sondeRss: sRss,
    sondeRssEnd: sRssEnd,
    exporterRss: eRss.reduce((a, b) => a + b, 0) / eRss.length,
    exporterRssTotal: eRss.reduce((a, b) => a + b, 0),
  };
}

try {
  const r = spawnSync('/usr/bin/mariadb-install-db', ['--no-defaults', `--datadir=${tmp}/template`, '--auth-root-authentication-method=socket', '--skip-test-db', '--innodb-buffer-pool-size=8M', '--innodb-log-file-size=4M', ...(asRoot ? ['--user=root'] : [])], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mariadb-install-db failed: ${r.stderr}`);
  const most = Math.max(...counts);
  const instances = [];
  for (let i = 0; i < most; i++) instances.push(await startInstance(`${tmp}/template`, i));
  console.log(`node ${process.version}, ${os.cpus().length} CPUs; ${most} MariaDB instances (${spawnSync('/usr/sbin/mariadbd', ['--version'], { encoding: 'utf8' }).stdout.trim()})`);
  console.log(`each count: warm-up ${warmup} s, then ${seconds} s measured; sonde collects every instance every 1 s, each exporter is scraped every 1 s\n`);
  const rows = [];
  for (const n of counts) rows.push(await measure(instances, n));
  console.log(
    table(
      ['instances', 'sonde CPU ms / instance-collection', 'exporter CPU ms / scrape', 'sonde / exporter CPU', 'values / collection (sonde, exporter)', 'sonde RSS MB', 'sonde RSS MB at end', 'exporter RSS MB each (all)'],
      rows.map((x) => [
        x.n,
        x.sondePer.toFixed(3),
        x.exporterPer.toFixed(3),
        (x.sondePer / x.exporterPer).toFixed(2),
        `${x.sondeValues.toFixed(0)}, ${x.exporterValues.toFixed(0)}`,
        x.sondeRss.toFixed(1),
        x.sondeRssEnd.toFixed(1),
        `${x.exporterRss.toFixed(1)} (${x.exporterRssTotal.toFixed(1)})`,
      ]),
    ),
  );
  const worst = Math.max(...rows.map((x) => x.sondePer / x.exporterPer));
  const ten = rows.find((x) => x.n === 10);
  console.log(`\ntargets: sonde CPU per instance-collection <= the exporter's: ${worst <= 1 ? 'met' : 'NOT met'} (worst ratio ${worst.toFixed(2)})`);
  if (ten) console.log(`         10 instances under 65 MB RSS for the whole agent: ${ten.sondeRss < 65 ? 'met' : 'NOT met'} (${ten.sondeRss.toFixed(1)} MB)`);
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await sleep(200);
  rmSync(tmp, { recursive: true, force: true });
}
