// npm run bench:core: what the agent costs to start and to run.
//   - wall time and peak RSS of `sonde --version` and `sonde once` (shipped config), median of
//     several interleaved runs, beside `node -e 0` measured in the same run;
//   - `sonde run` with the shipped collectors at a 1 s interval: CPU ms per collection cycle
//     (from /proc/<pid>/stat) and peak RSS, over --seconds (default 60).
// Targets (issue 2): `sonde once` under 120 ms wall, `sonde run` RSS under 60 MB.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuMs, numberArg, rssKiB, sleep, startProcess, table, timeMany } from './lib.mjs';

const root = path.resolve(import.meta.dirname, '..');
const bundle = path.join(root, 'dist', 'sonde.mjs');
const shipped = path.join(root, 'config', 'sonde.yaml');
const seconds = numberArg('seconds', 60);
const runs = numberArg('runs', 15);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'sonde-bench-'));

try {
  console.log(`node ${process.version}, ${os.cpus().length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ${runs} interleaved runs each\n`);
  const env = { XDG_STATE_HOME: path.join(tmp, 'state') };
  const starts = timeMany(
    [
      { name: 'node -e 0 (baseline)', cmd: process.execPath, args: ['-e', '0'] },
      { name: 'sonde --version', cmd: process.execPath, args: [bundle, '--version'] },
      { name: 'sonde once (shipped config)', cmd: process.execPath, args: [bundle, 'once', '--config', shipped], env },
    ],
    runs,
  );
  const base = starts[0].wall;
  console.log(
    table(
      ['command', 'wall ms (median)', 'x node -e 0', 'peak RSS MB'],
      starts.map((s) => [s.name, s.wall.toFixed(1), (s.wall / base).toFixed(2), (s.rss / 1024).toFixed(1)]),
    ),
  );

  // sonde run: the shipped collectors every second, samples to /dev/null through the stdout handler.
  const cfg = path.join(tmp, 'sonde.yaml');
  writeFileSync(
    cfg,
    `interval: 1s\nstate_dir: ${tmp}/state\nplugin_paths: []\ncollectors:\n  cpu: {}\n  memory: {}\n  loadavg: {}\nhandlers:\n  stdout: {}\n`,
  );
  const child = startProcess(process.execPath, [bundle, 'run', '--config', cfg]);
  await sleep(3000); // start-up and the first windows are not steady state
  const cpu0 = cpuMs(child.pid);
  const t0 = performance.now();
  let peak = 0;
  while (performance.now() - t0 < seconds * 1000) {
    await sleep(1000);
    peak = Math.max(peak, rssKiB(child.pid).peak);
  }
  const cpu1 = cpuMs(child.pid);
  const elapsed = (performance.now() - t0) / 1000;
  const rss = rssKiB(child.pid);
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  console.log('');
  console.log(
    table(
      ['sonde run, 1 s interval (cpu, memory, loadavg + self-metrics)', 'value'],
      [
        ['measured over (s)', elapsed.toFixed(1)],
        ['CPU ms per cycle', ((cpu1 - cpu0) / elapsed).toFixed(2)],
        ['CPU % of one core', ((cpu1 - cpu0) / (elapsed * 10)).toFixed(2)],
        ['RSS at end (MB)', (rss.now / 1024).toFixed(1)],
        ['peak RSS (MB)', (Math.max(peak, rss.peak) / 1024).toFixed(1)],
      ],
    ),
  );
  const once = starts[2];
  console.log(`\ntargets: sonde once < 120 ms wall: ${once.wall < 120 ? 'met' : 'NOT met'} (${once.wall.toFixed(0)} ms; node -e 0 ${base.toFixed(0)} ms here)`);
  console.log(`         sonde run RSS < 60 MB: ${Math.max(peak, rss.peak) / 1024 < 60 ? 'met' : 'NOT met'}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
