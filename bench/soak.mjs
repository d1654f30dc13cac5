// npm run soak [-- --minutes 10]: the agent under faults, and an exact account of every sample.
//
// sonde run with a busy plugin (a fixed set of names every second), the logs collector on a log
// that is written and rotated, self-metrics, and two handlers: stdout and graphite, the latter
// sending to a sink process on loopback that writes every byte it receives to a file per
// connection. While it runs, faults come on a schedule: the sink killed and started again, the
// sink frozen with SIGSTOP (a hung server), the spool's tmpfs filled and freed, spool files
// removed, SIGHUP every few seconds (every other one changes the graphite section, so the handler
// is replaced and must carry its queue), the log rotated. At the end the sink stays up until the
// spool is empty, then SIGTERM.
//
// The account, per handler: produced (for graphite: every (path, timestamp) pair printed on
// stdout, which never drops; for stdout: every pair the busy plugin recorded emitting), delivered
// (unique pairs seen; repeats from the resend window are counted apart), dropped (the handler's
// `dropped` self-metric, summed across the restarts of its outbox), the copies the resend window
// queued again (`resent`), and the difference produced - delivered - dropped. Target: 0 for stdout;
// for graphite, never above 0 (a sample lost without a count), and below 0 by no more than the
// resent copies: carbon acknowledges nothing, so after a broken connection sonde cannot know
// whether a copy it later drops had arrived the first time. RSS flat after the first minute.
//
// The spool's tmpfs needs root (mount); without it those faults are left out and the table says so.
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { numberArg, rssKiB, sleep, table } from './lib.mjs';

const root = path.resolve(import.meta.dirname, '..');
const bundle = path.join(root, 'dist', 'sonde.cjs');
const minutes = numberArg('minutes', 10);
const names = numberArg('names', 200);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'sonde-soak-'));
const state = path.join(tmp, 'state');
const spoolDir = path.join(state, 'spool');
const sinkDir = path.join(tmp, 'sink');
const produced = path.join(tmp, 'produced.txt');
const appLog = path.join(tmp, 'app.log');
const started = Date.now();
const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}`);

mkdirSync(spoolDir, { recursive: true });
mkdirSync(sinkDir);
mkdirSync(path.join(tmp, 'plugins'));
const isRoot = process.getuid?.() === 0;
let tmpfs = false;
if (isRoot) {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', spoolDir]);
    tmpfs = true;
  } catch (err) {
    log(`cannot mount a tmpfs for the spool (${err.message.split('\n')[0]}); the disk-full faults are left out`);
  }
}

// Whatever happens, no process and no mount is left behind.
let agentPid;
let sink;
process.on('exit', () => {
  for (const pid of [agentPid, sink?.pid]) {
    try {
      if (pid) process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  if (tmpfs) {
    try {
      execFileSync('umount', ['-l', spoolDir]);
    } catch {
      console.error(`could not unmount ${spoolDir}`);
    }
  }
});

// A signal ends the soak through 'exit', so the cleanup above runs.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

// The busy plugin: `names` gauges a run, each run's count appended to produced.txt.
writeFileSync(
  path.join(tmp, 'plugins', 'busy.mjs'),
  `import { appendFileSync } from 'node:fs';
export default (api) => api.defineCollector({
  name: 'busy',
  description: 'Soak load: a fixed set of gauges every run.',
  schema: api.z.object({ names: api.z.number().default(${names}), variant: api.z.number().default(0) }),
  collect(ctx) {
    for (let i = 0; i < ctx.config.names; i++) ctx.emit(['m' + i], i + ctx.now / 1e6);
    appendFileSync(${JSON.stringify(produced)}, ctx.config.names + '\\n');
  },
});
`,
);

let port = 0;
const config = (variant) => `
interval: 1s
hostname: soak
state_dir: ${state}
plugin_paths: [${path.join(tmp, 'plugins')}]
shutdown_timeout: 20s
collectors:
  busy: { variant: ${variant % 2} }
  logs:
    files:
      - { path: ${appLog}, parser: postfix, name: mail }
handlers:
  stdout: { queue_size: 1000000 }
  graphite:
    destinations: [127.0.0.1:${port}]
    queue_size: 1000
    spool_max_bytes: 4MiB
    send_timeout: ${Math.floor(variant / 2) % 2 ? '4s' : '5s'}
    resend_window: 10s
`;

// The sink: a process of its own (so it can be killed and frozen), one file per connection.
const sinkCode = `
const net = require('node:net'); const fs = require('node:fs'); const path = require('node:path');
// node -e puts the arguments from argv[1] on.
const [, dir, first, port] = process.argv; let n = Number(first);
const server = net.createServer((sock) => { const fd = fs.openSync(path.join(dir, 'conn-' + (n++) + '-' + process.pid + '.txt'), 'a'); sock.on('data', (d) => fs.writeSync(fd, d)); sock.on('close', () => fs.closeSync(fd)); sock.on('error', () => undefined); });
server.listen(Number(port), '127.0.0.1', () => process.send?.('up'));
`;
let sinkGeneration = 0;
function startSink() {
  return new Promise((resolve, reject) => {
    sink = spawn(process.execPath, ['-e', sinkCode, sinkDir, String(sinkGeneration++ * 100000), String(port)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    sink.once('message', () => resolve());
    sink.once('error', reject);
    sink.once('exit', (code) => reject(new Error(`the sink exited (${code}) before listening`)));
  });
}
function stopSink() {
  sink?.kill('SIGKILL');
}

// A free port for the sink.
port = await new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});

const configFile = path.join(tmp, 'sonde.yaml');
writeFileSync(configFile, config(0));
writeFileSync(appLog, '');
await startSink();
const stdoutFile = path.join(tmp, 'stdout.txt');
const stderrFile = path.join(tmp, 'stderr.txt');
const agent = spawn(process.execPath, [bundle, 'run', '--config', configFile], { stdio: ['ignore', openSync(stdoutFile, 'w'), openSync(stderrFile, 'w')] });
agentPid = agent.pid;
const agentExit = new Promise((resolve) => agent.on('exit', (code, signal) => resolve(code ?? signal)));
log(`sonde run (pid ${agent.pid}) for ${minutes} min; files in ${tmp}`);

let mailSeq = 0;
const writeMail = () => {
  let s = '';
  for (let i = 0; i < 20; i++) s += `Dec  1 10:00:00 mx postfix/smtp[1]: Q${mailSeq++}: to=<u@x.org>, relay=x[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)\n`;
  appendFileSync(appLog, s);
};

// Faults on a schedule of 60 s cycles.
const faults = { sinkKilled: 0, sinkFrozen: 0, spoolFilled: 0, spoolFilesRemoved: 0, reloads: 0, rotations: 0 };
const filler = path.join(spoolDir, 'filler');
const end = started + minutes * 60_000;
let rssAtMinute;
let t = 0;
while (Date.now() < end) {
  await sleep(1000);
  t++;
  writeMail();
  if (t === 60) rssAtMinute = rssKiB(agent.pid).now;
  if (t % 5 === 0) {
    faults.reloads++;
    writeFileSync(configFile, config(faults.reloads));
    agent.kill('SIGHUP');
  }
  if (t % 30 === 0) {
    renameSync(appLog, `${appLog}.1`);
    writeFileSync(appLog, '');
    faults.rotations++;
  }
  const c = t % 60;
  if (c === 5) {
    stopSink();
    faults.sinkKilled++;
    log('sink killed');
  } else if (c === 15) {
    // The outbox has overflowed into the spool by now: take its files away under the agent.
    const dir = path.join(spoolDir, 'graphite');
    const segs = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.spool')) : [];
    for (const f of segs) rmSync(path.join(dir, f), { force: true });
    faults.spoolFilesRemoved += segs.length;
    log(`removed ${segs.length} spool file(s)`);
  } else if (c === 20) {
    await startSink();
    log('sink started');
  } else if (c === 25) {
    sink.kill('SIGSTOP');
    faults.sinkFrozen++;
    log('sink frozen (SIGSTOP)');
  } else if (c === 40) {
    sink.kill('SIGCONT');
    log('sink thawed');
  } else if (c === 42) {
    stopSink();
    faults.sinkKilled++;
    log('sink killed');
  } else if (c === 46 && tmpfs) {
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k', 'count=1024'], { stdio: 'ignore' });
    } catch {
      // dd stops at ENOSPC: the tmpfs is full, which is the point.
    }
    faults.spoolFilled++;
    log('spool tmpfs filled');
  } else if (c === 53) {
    if (tmpfs) rmSync(filler, { force: true });
    log('spool tmpfs freed');
  } else if (c === 55) {
    await startSink();
    log('sink started');
  }
}

// The end: sink up, let the spool and queues empty, then stop.
if (sink.exitCode !== null || sink.signalCode !== null) await startSink();
sink.kill('SIGCONT');
rmSync(filler, { force: true });
const selfMetric = (name) => {
  const lines = readFileSync(stdoutFile, 'utf8').split('\n').filter((l) => l.startsWith(`servers.soak.sonde.handler.graphite.${name} `));
  return Number(lines.at(-1)?.split(' ')[1] ?? NaN);
};
const drainUntil = Date.now() + 120_000;
while (Date.now() < drainUntil && !(selfMetric('spooled') === 0 && selfMetric('queue_depth') === 0)) await sleep(1000);
await sleep(3000);
const rssAtEnd = rssKiB(agent.pid).now;
agent.kill('SIGTERM');
const exit = await agentExit;
stopSink();
await sleep(200);

// The account.
const pairs = (text, keep) => {
  const seen = new Map();
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length !== 3 || !keep(f[0])) continue;
    const k = `${f[0]} ${f[2]}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  return seen;
};
const wholeLines = (text) => (text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1));
const stdoutText = readFileSync(stdoutFile, 'utf8');
const onStdout = pairs(stdoutText, () => true);
let sinkText = '';
for (const f of readdirSync(sinkDir)) sinkText += wholeLines(readFileSync(path.join(sinkDir, f), 'utf8'));
const atSink = pairs(sinkText, () => true);
/** A counter summed across restarts of the outbox that keeps it (a reload starts it at 0 again). */
const counterTotal = (handler, name) => {
  let total = 0;
  let last = 0;
  for (const line of stdoutText.split('\n')) {
    if (!line.startsWith(`servers.soak.sonde.handler.${handler}.${name} `)) continue;
    const v = Number(line.split(' ')[1]);
    total += v >= last ? v - last : v;
    last = v;
  }
  return total;
};

const busyProduced = readFileSync(produced, 'utf8').split('\n').filter(Boolean).reduce((n, l) => n + Number(l), 0);
const busyOnStdout = [...onStdout.keys()].filter((k) => k.startsWith('servers.soak.busy.')).length;
const delivered = [...atSink.keys()].filter((k) => onStdout.has(k)).length;
const unknownAtSink = [...atSink.keys()].filter((k) => !onStdout.has(k)).length;
const repeats = [...atSink.values()].reduce((n, c) => n + c - 1, 0);
const rows = [
  ['stdout (busy plugin)', busyProduced, busyOnStdout, 0, counterTotal('stdout', 'dropped'), counterTotal('stdout', 'resent'), busyProduced - busyOnStdout - counterTotal('stdout', 'dropped')],
  ['graphite (all samples)', onStdout.size, delivered, repeats, counterTotal('graphite', 'dropped'), counterTotal('graphite', 'resent'), onStdout.size - delivered - counterTotal('graphite', 'dropped')],
];
// A dropped copy from the resend window may have been delivered already: the difference can then
// go below 0, never by more than the copies queued. Above 0 is a sample lost without a count.
const explained = (r) => r[6] <= 0 && -r[6] <= r[5];
console.log(`\nnode ${process.version}; ${minutes} min; ${names} names a second from the busy plugin; sonde exited ${exit}\n`);
console.log(table(['handler', 'produced', 'delivered', 'repeats', 'dropped (self-metrics)', 'resent copies (self-metrics)', 'difference'], rows));
for (const r of rows) console.log(`${r[0]}: ${r[6] === 0 ? 'exact' : explained(r) ? `${-r[6]} dropped samples had been delivered before (at most the ${r[5]} resent copies)` : 'UNEXPLAINED'}`);
console.log();
console.log(
  table(
    ['fault', 'times'],
    [
      ['sink killed (carbon down)', faults.sinkKilled],
      ['sink frozen with SIGSTOP (carbon hung)', faults.sinkFrozen],
      ['spool tmpfs filled and freed', tmpfs ? faults.spoolFilled : 'not run (needs root)'],
      ['spool files removed', faults.spoolFilesRemoved],
      ['SIGHUP (every other one replaces graphite)', faults.reloads],
      ['log rotated', faults.rotations],
    ],
  ),
);
console.log();
console.log(table(['figure', 'value'], [['pairs at the sink not printed on stdout', unknownAtSink], ['RSS after 1 min (MB)', rssAtMinute ? (rssAtMinute / 1024).toFixed(1) : 'n/a'], ['RSS at the end (MB)', (rssAtEnd / 1024).toFixed(1)]]));
const errors = readFileSync(stderrFile, 'utf8').split('\n').filter((l) => /"level":(50|60)/.test(l)).length;
console.log(`\nsonde logged ${errors} error line(s) (expected: the outages); its log: ${stderrFile}`);
agentPid = undefined;
sink = undefined;
if (tmpfs) {
  execFileSync('umount', [spoolDir]);
  tmpfs = false;
}
if (process.argv.includes('--keep')) log(`kept ${tmp}`);
else rmSync(tmp, { recursive: true, force: true });
process.exit(rows.every(explained) && unknownAtSink === 0 ? 0 : 1);
