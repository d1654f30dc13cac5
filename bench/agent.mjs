// npm run bench:agent: sonde against collectd, side by side, each sending Graphite plaintext to
// its own local TCP sink at a 1 s interval, for --seconds (default 60) after a warm-up. Prints
// values sent per interval, CPU ms per interval (/proc/<pid>/stat), peak RSS, and the ratios.
// Target (issue 3): sonde's CPU per interval at most 2x collectd's for at least as many values,
// RSS under 60 MB.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ensureDebs } from '../scripts/debs.mjs';
import { cpuMs, numberArg, rssKiB, sleep, startProcess, table } from './lib.mjs';

const root = path.resolve(import.meta.dirname, '..');
const seconds = numberArg('seconds', 60);
const warmup = numberArg('warmup', 10);

if (!ensureDebs([{ name: 'collectd-core', proves: '/usr/sbin/collectd' }], 'bench:agent')) process.exit(1);

/** A Graphite plaintext sink that counts complete lines. */
function sink() {
  let lines = 0;
  const server = net.createServer((sock) => {
    sock.on('data', (buf) => {
      for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) lines++;
    });
    sock.on('error', () => undefined);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ port: server.address().port, count: () => lines, close: () => server.close() })),
  );
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sonde-bench-agent-'));
const children = [];
try {
  const sondeSink = await sink();
  const collectdSink = await sink();

  const sondeCfg = path.join(tmp, 'sonde.yaml');
  writeFileSync(
    sondeCfg,
    [
      'hostname: bench',
      'interval: 1s',
      `state_dir: ${tmp}/sonde-state`,
      'plugin_paths: []',
      'self_metrics: { enabled: false }   # collectd sends nothing about itself either',
      'collectors:',
      '  cpu: {}',
      '  memory: {}',
      '  # Cover what collectd covers by default: every interface and the same filesystems.',
      '  diskspace: { filesystems: [ext4, xfs, btrfs, tmpfs, devtmpfs], exclude_filters: [] }',
      '  iostat: {}',
      '  loadavg: {}',
      "  network: { interfaces: [''] }",
      '  vmstat: {}',
      '  sockets: {}',
      'handlers:',
      `  graphite: { destinations: ["127.0.0.1:${sondeSink.port}"] }`,
      '',
    ].join('\n'),
  );

  mkdirSync(path.join(tmp, 'collectd'), { recursive: true });
  const collectdCfg = path.join(tmp, 'collectd.conf');
  writeFileSync(
    collectdCfg,
    `Hostname "bench"
FQDNLookup false
Interval 1
BaseDir "${tmp}/collectd"
PIDFile "${tmp}/collectd/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin cpu
LoadPlugin memory
LoadPlugin df
LoadPlugin disk
LoadPlugin load
LoadPlugin interface
LoadPlugin vmem
LoadPlugin write_graphite
<Plugin write_graphite>
  <Node "sink">
    Host "127.0.0.1"
    Port "${collectdSink.port}"
    Protocol "tcp"
  </Node>
</Plugin>
`,
  );

  const agents = [
    { name: 'sonde', proc: startProcess(process.execPath, [path.join(root, 'dist', 'sonde.cjs'), 'run', '--config', sondeCfg]), sink: sondeSink },
    { name: 'collectd', proc: startProcess('/usr/sbin/collectd', ['-f', '-C', collectdCfg]), sink: collectdSink },
  ];
  children.push(...agents.map((a) => a.proc));
  console.log(`node ${process.version}, ${os.cpus().length} CPUs; warm-up ${warmup} s, then ${seconds} s measured, 1 s interval\n`);
  await sleep(warmup * 1000);
  for (const a of agents) {
    if (a.proc.exitCode !== null) throw new Error(`${a.name} exited during warm-up (status ${a.proc.exitCode})`);
    a.cpu0 = cpuMs(a.proc.pid);
    a.lines0 = a.sink.count();
  }
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const elapsed = (performance.now() - t0) / 1000;
  const rows = agents.map((a) => {
    const cpu = (cpuMs(a.proc.pid) - a.cpu0) / elapsed;
    const values = (a.sink.count() - a.lines0) / elapsed;
    return { name: a.name, values, cpu, cpuPerValue: (cpu * 1000) / values, rss: rssKiB(a.proc.pid).peak / 1024 };
  });
  for (const c of children) c.kill('SIGTERM');
  sondeSink.close();
  collectdSink.close();
  const [s, c] = rows;
  console.log(
    table(
      ['agent', 'values / interval', 'CPU ms / interval', 'CPU us / value', 'peak RSS MB'],
      [
        ...rows.map((r) => [r.name, r.values.toFixed(1), r.cpu.toFixed(2), r.cpuPerValue.toFixed(1), r.rss.toFixed(1)]),
        ['sonde / collectd', (s.values / c.values).toFixed(2), (s.cpu / c.cpu).toFixed(2), (s.cpuPerValue / c.cpuPerValue).toFixed(2), (s.rss / c.rss).toFixed(2)],
      ],
    ),
  );
  console.log(`\ntargets: CPU per interval <= 2x collectd's: ${s.cpu <= 2 * c.cpu ? 'met' : 'NOT met'} (${(s.cpu / c.cpu).toFixed(2)}x)`);
  console.log(`         at least as many values: ${s.values >= c.values ? 'met' : 'NOT met'} (${s.values.toFixed(0)} vs ${c.values.toFixed(0)})`);
  console.log(`         sonde RSS < 60 MB: ${s.rss < 60 ? 'met' : 'NOT met'} (${s.rss.toFixed(1)} MB)`);
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
}
