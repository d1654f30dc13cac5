// npm run bench:logs: `sonde logster` against Debian's mtail on the same Postfix mail.log.
// Prints lines per second, CPU seconds and peak RSS for both, and the ratio. `--big` adds the
// 20,000,000-line (about 2.3 GB) peak-RSS check.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureDebs } from '../scripts/debs.mjs';
import { median, table } from './lib.mjs';
import { writeMailLog } from './maillog.mjs';

if (!ensureDebs([{ name: 'mtail', proves: '/usr/bin/mtail' }, { name: 'time', proves: '/usr/bin/time' }], 'bench:logs (sonde beside mtail)')) process.exit(1);
const root = path.resolve(import.meta.dirname, '..');
const sonde = path.join(root, 'bin', 'sonde');
const dir = mkdtempSync(path.join(tmpdir(), 'sonde-bench-logs-'));
const RUNS = Number(process.env.RUNS ?? 5);

/** Runs a command under GNU time; returns wall s, CPU s, peak RSS MB and stdout. */
function measure(cmd, args) {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}: ${r.stderr.slice(-800)}`);
  const [u, s, m] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall, cpu: u + s, rss: m / 1024, out: r.stdout };
}

function sondeRun(log) {
  const st = path.join(dir, 'state');
  rmSync(st, { recursive: true, force: true });
  return measure(sonde, ['logster', '-s', st, '-l', path.join(dir, 'logs'), '--from-start', '-o', 'stdout', 'PostfixLogster', log]);
}

const progs = path.join(dir, 'progs');
mkdirSync(progs);
writeFileSync(
  path.join(progs, 'postfix.mtail'),
  'counter sent\ncounter deferred\ncounter bounced\n/status=sent/ {\n  sent++\n}\n/status=deferred/ {\n  deferred++\n}\n/status=bounced/ {\n  bounced++\n}\n',
);
const mtailRun = (log) => measure('/usr/bin/mtail', ['--one_shot', '--one_shot_format', 'json', '--progs', progs, '--logs', log, '--logtostderr=false']);

function bench(lines) {
  const log = path.join(dir, `mail-${lines}.log`);
  const expected = writeMailLog(log, lines);
  const one = path.join(dir, 'one.log');
  writeFileSync(one, 'Nov 22 00:00:01 mx1 postfix/smtp[1]: A: to=<a@b>, relay=x, delay=1, delays=0/0/0/0, dsn=2.0.0, status=sent (ok)\n');
  const grep = [];
  const s = [];
  const m = [];
  const start = [];
  for (let i = 0; i < RUNS; i++) {
    grep.push(measure('grep', ['-c', '', log]));
    s.push(sondeRun(log));
    start.push(sondeRun(one));
    if (i < Math.min(RUNS, 3)) m.push(mtailRun(log));
  }
  const sent = Number(/ numSent (\d+)/.exec(s[0].out)?.[1]);
  if (sent !== expected.sent) throw new Error(`sonde counted ${sent} sent, the generator wrote ${expected.sent}`);
  const mj = JSON.stringify(JSON.parse(m[0].out));
  if (!mj.includes(`${expected.sent}`)) throw new Error(`mtail's output does not hold ${expected.sent} sent: ${mj.slice(0, 400)}`);
  const med = (xs, k) => median(xs.map((x) => x[k]));
  const startup = med(start, 'wall');
  const rows = [
    ['grep -c (reference)', med(grep, 'wall'), med(grep, 'cpu'), med(grep, 'rss')],
    ['sonde logster PostfixLogster', med(s, 'wall'), med(s, 'cpu'), med(s, 'rss')],
    ['mtail --one_shot', med(m, 'wall'), med(m, 'cpu'), med(m, 'rss')],
  ];
  console.log(`\n${lines.toLocaleString('en')} lines, ${(expected.bytes / 1e6).toFixed(0)} MB (sent ${expected.sent}, deferred ${expected.deferred}, bounced ${expected.bounced}); median of ${RUNS} runs (mtail ${m.length})\n`);
  console.log(
    table(
      ['command', 'wall s', 'lines / s', 'CPU s', 'peak RSS MB'],
      rows.map(([n, w, c, r]) => [n, w.toFixed(3), Math.round(lines / w).toLocaleString('en'), c.toFixed(2), r.toFixed(1)]),
    ),
  );
  const sw = med(s, 'wall');
  const mw = med(m, 'wall');
  console.log(
    `\n${table(
      ['figure', 'value', 'target'],
      [
        ['sonde lines / s (whole command)', Math.round(lines / sw).toLocaleString('en'), '5,000,000'],
        [`sonde lines / s (minus ${(startup * 1000).toFixed(0)} ms start-up on a 1-line log)`, Math.round(lines / (sw - startup)).toLocaleString('en'), ''],
        ['sonde / mtail speed (wall)', (mw / sw).toFixed(1), '>= 10'],
        ['sonde / grep -c speed (wall)', (med(grep, 'wall') / sw).toFixed(2), '~0.25'],
        ['sonde peak RSS MB', med(s, 'rss').toFixed(1), '< 100'],
      ],
    )}`,
  );
  rmSync(log);
}

try {
  bench(2_000_000);
  if (process.argv.includes('--big')) bench(20_000_000);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
