// npm run bench:core: what the agent costs to start and to run.
//   - wall time and peak RSS of `sonde --version`, `sonde check-config` and `sonde once` (shipped
//     config), each run in turn with `node -e 0`: the ratio is taken pair by pair (so that the
//     machine's drift during the bench hits both alike) and its median printed;
//   - the same commands' instructions, counted by valgrind's callgrind when it is installed (Debian
//     package valgrind): unlike wall time, the count does not move with the machine's load;
//   - `sonde run` with the shipped collectors at a 1 s interval: CPU ms per collection cycle
//     (from /proc/<pid>/stat) and peak RSS, over --seconds (default 60).
// Targets: `sonde once`, `--version` and `check-config` within 2 times `node -e 0` (issue 18);
// `sonde run` RSS under 60 MB (issue 2).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuMs, median, numberArg, rssKiB, sleep, startProcess, table, timeOnce } from './lib.mjs';

const root = path.resolve(import.meta.dirname, '..');
const bundle = path.join(root, 'dist', 'sonde.cjs');
const shipped = path.join(root, 'config', 'sonde.yaml');
const seconds = numberArg('seconds', 60);
const runs = numberArg('runs', 15);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'sonde-bench-'));
// NODE_EXTRA_CA_CERTS makes every node process read and parse a certificate file as it starts
// (about 130 ms with Debian's bundle), the baseline's too, which hides the ratios: unset here.
const extraCerts = process.env.NODE_EXTRA_CA_CERTS;
delete process.env.NODE_EXTRA_CA_CERTS;

try {
  console.log(`node ${process.version}, ${os.cpus().length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ${runs} runs of each, in turn with node -e 0${extraCerts ? ` (NODE_EXTRA_CA_CERTS=${extraCerts} unset for all of them)` : ''}\n`);
  // The shipped config's state_dir is /var/lib/sonde: the bench keeps its state in tmp (--state-dir).
  const env = { XDG_STATE_HOME: path.join(tmp, 'state') };
  const base = { cmd: process.execPath, args: ['-e', '0'] };
  const commands = [
    { name: 'sonde --version', cmd: process.execPath, args: [bundle, '--version'] },
    { name: 'sonde check-config (shipped config)', cmd: process.execPath, args: [bundle, 'check-config', '--config', shipped], env },
    { name: 'sonde once (shipped config)', cmd: process.execPath, args: [bundle, 'once', '--config', shipped, '--state-dir', path.join(tmp, 'state')], env },
  ];
  const res = commands.map(() => ({ wall: [], rss: [], ratio: [] }));
  const baseWall = [];
  for (let i = 0; i < runs; i++) {
    commands.forEach((c, j) => {
      const b = timeOnce(base.cmd, base.args);
      const r = timeOnce(c.cmd, c.args, c.env);
      baseWall.push(b.wall);
      res[j].wall.push(r.wall);
      res[j].rss.push(r.rss);
      res[j].ratio.push(r.wall / b.wall);
    });
  }
  const starts = commands.map((c, j) => ({ name: c.name, wall: median(res[j].wall), rss: median(res[j].rss), ratio: median(res[j].ratio) }));
  const baseMs = median(baseWall);
  console.log(
    table(
      ['command', 'wall ms (median)', 'x node -e 0 (median of pairs)', 'peak RSS MB'],
      [['node -e 0 (baseline)', baseMs.toFixed(1), '1.00', ''], ...starts.map((s) => [s.name, s.wall.toFixed(1), s.ratio.toFixed(2), (s.rss / 1024).toFixed(1)])],
    ),
  );

  // Instructions: deterministic, so one run each is enough.
  if (existsSync('/usr/bin/valgrind')) {
    const count = (c) => {
      const r = spawnSync('/usr/bin/valgrind', ['--tool=callgrind', `--callgrind-out-file=${path.join(tmp, 'callgrind.out')}`, c.cmd, ...c.args], { encoding: 'utf8', env: { ...process.env, ...(c.env ?? {}) } });
      const n = /Collected : (\d+)/.exec(r.stderr)?.[1];
      if (r.status !== 0 || n === undefined) throw new Error(`callgrind of ${c.name} failed (${r.status}): ${r.stderr.slice(-500)}`);
      return Number(n);
    };
    const b = count({ name: 'node -e 0', ...base });
    console.log('');
    console.log(
      table(
        ['command (callgrind)', 'instructions (M)', 'x node -e 0'],
        [['node -e 0 (baseline)', (b / 1e6).toFixed(0), '1.00'], ...commands.map((c) => { const n = count(c); return [c.name, (n / 1e6).toFixed(0), (n / b).toFixed(2)]; })],
      ),
    );
  } else {
    console.log('\n(valgrind is not installed: no instruction counts; apt-get install valgrind)');
  }

  // sonde run: the shipped collectors every second, samples to /dev/null through the stdout handler.
  const cfg = path.join(tmp, 'sonde.yaml');
  writeFileSync(
    cfg,
    `interval: 1s\nstate_dir: ${tmp}/state\nplugin_paths: []\nself_metrics: { interval: 1s }\ncollectors:\n  cpu: {}\n  memory: {}\n  loadavg: {}\nhandlers:\n  stdout: {}\n`,
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
  console.log('');
  for (const st of starts) console.log(`target: ${st.name} within 2 x node -e 0: ${st.ratio <= 2 ? 'met' : 'NOT met'} (${st.ratio.toFixed(2)} x; ${st.wall.toFixed(0)} ms against ${baseMs.toFixed(0)} ms)`);
  console.log(`target: sonde run RSS < 60 MB: ${Math.max(peak, rss.peak) / 1024 < 60 ? 'met' : 'NOT met'}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
