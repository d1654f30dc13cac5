// Files that are not what sonde expects (a FIFO, /dev/zero, a directory, an unreadable file, a
// YAML file made to exhaust a parser) get a sentence naming them and the right exit status, never
// a hang, a spin or a stack trace. The built bundle runs as a process, killed after a deadline so
// that a hang fails the test instead of stalling it.
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE, RunningSonde } from './helpers/sonde.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';

const PLUGINS = path.join(import.meta.dirname, 'fixtures', 'plugins');
const DEADLINE_MS = 10_000;

interface Run {
  status: number | null;
  /** stdout and stderr together: sonde run logs to one or the other. */
  output: string;
  stderr: string;
}

/**
 * Runs the bundle, killed after DEADLINE_MS. The heap is capped at 128 MiB: bounded memory is part
 * of what is tested, and a run that would take gigabytes fails fast instead of swapping.
 */
function run(args: string[], opts: { env?: NodeJS.ProcessEnv; asNobody?: boolean } = {}): Run {
  const node = [process.execPath, BUNDLE, ...args];
  const [cmd, ...argv] = opts.asNobody ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', ...node] : node;
  const r = spawnSync(cmd!, argv, {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=128', ...opts.env },
    timeout: DEADLINE_MS,
    killSignal: 'SIGKILL',
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}`, stderr: r.stderr };
}

const mkfifo = (file: string) => {
  const r = spawnSync('mkfifo', [file]);
  if (r.status !== 0) throw new Error(`mkfifo ${file} failed: ${r.stderr}`);
};

/** A directory `nobody` can enter (tmpdir makes them 0700). */
function sharedDir(): string {
  const dir = tmpdir();
  chmodSync(dir, 0o755);
  return dir;
}

/** Sums every value printed for a metric path. */
const total = (out: string, metric: string) => [...out.matchAll(new RegExp(`^servers\\.h\\.${metric.replaceAll('.', '\\.')} (\\S+) \\d+$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);

const noStack = (s: string) => expect(s).not.toMatch(/^\s+at /m);

describe('pathological YAML', () => {
  it('an alias bomb (a billion laughs) ends in exit 78 naming the file', () => {
    const dir = tmpdir();
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (const [prev, cur] of [...'abcdefgh'].map((c, i) => [c, 'bcdefghi'[i]!])) levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
    const f = writeFiles(dir, { 'sonde.yaml': `${levels.join('\n')}\n` })['sonde.yaml']!;
    const r = run(['check-config', '--config', f]);
    expect(r.status).toBe(78);
    // a to d hold 10, 91, 820 and 7381 values with their list: line 5's second copy of d passes 20000.
    expect(r.stderr).toContain(`${f}:5: more than 20000 keys and values (an alias counts as all it repeats); a sonde config holds a few hundred, so the file is refused. Check that it is the file you meant`);
  });

  it('the same bomb in a drop-in names the drop-in', () => {
    const dir = tmpdir();
    const bomb = `a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`;
    const p = writeFiles(dir, { 'sonde.yaml': 'interval: 10s\n', 'conf.d/50-bomb.yaml': bomb });
    const r = run(['check-config', '--config', p['sonde.yaml']!]);
    expect(r.status).toBe(78);
    // a to d hold 11, 111, 1111 and 11111 values: 12349 by the end of line 4, line 5's first *d passes 20000.
    expect(r.stderr).toContain(`${p['conf.d/50-bomb.yaml']}:5: more than 20000 keys and values`);
  });

  it('25 000 keys in a file under the size limit: refused at the line where the count passes 20 000', () => {
    const dir = tmpdir();
    const text = Array.from({ length: 25_000 }, (_, k) => `k${k}: 1`).join('\n');
    const f = writeFiles(dir, { 'sonde.yaml': `${text}\n` })['sonde.yaml']!;
    const r = run(['check-config', '--config', f]);
    expect(r.status).toBe(78);
    // The top mapping is 1 value and every line adds 2 (key and value): 1 + 2 * 10000 > 20000.
    expect(r.stderr).toContain(`${f}:10000: more than 20000 keys and values`);
  });

  it('500 000 keys (7 MB): refused unread, for its size', () => {
    const dir = tmpdir();
    const text = Array.from({ length: 500_000 }, (_, k) => `  k${k}: {}`).join('\n');
    const f = writeFiles(dir, { 'sonde.yaml': `collectors:\n${text}\n` })['sonde.yaml']!;
    const r = run(['check-config', '--config', f]);
    expect(r.status).toBe(78);
    expect(r.stderr).toContain(`${f}: cannot read the config: it is larger than 256 KiB, far more than a config holds (is it the file you meant?)`);
  });
});

describe('a FIFO or a device where sonde expects a regular file', () => {
  const secretConfig = (dir: string, secret: string) =>
    writeFiles(dir, {
      'sonde.yaml': `hostname: h\nstate_dir: ${dir}/state\nplugin_paths: [${PLUGINS}]\nself_metrics: { enabled: false }\ncollectors:\n  fakedb:\n    interval: 1s\n    instances:\n      m1:\n        port: 1\n        password_file: ${secret}\nhandlers:\n  stdout: {}\n`,
    })['sonde.yaml']!;

  it('a password_file that is a FIFO or /dev/zero: exit 78 naming the key and the file', () => {
    const dir = tmpdir();
    const fifo = path.join(dir, 'secret.fifo');
    mkfifo(fifo);
    for (const [secret, kind] of [
      [fifo, 'a FIFO (named pipe)'],
      ['/dev/zero', 'a character device'],
    ] as const) {
      const cfg = secretConfig(dir, secret);
      const r = run(['check-config', '--config', cfg]);
      expect(r.status).toBe(78);
      expect(r.stderr).toContain(`${cfg}:11: collectors.fakedb.instances.m1.password_file: cannot read ${secret}: it is ${kind}, not a regular file; write password into a plain file and name that one`);
    }
  });

  it('sonde run: a FIFO secret stops the start with exit 78, and on SIGHUP is refused while SIGTERM still stops the agent', async () => {
    const dir = tmpdir();
    const secret = path.join(dir, 'secret');
    const fifo = path.join(dir, 'secret.fifo');
    mkfifo(fifo);
    const refused = run(['run', '--config', secretConfig(dir, fifo)]);
    expect(refused.status).toBe(78);
    expect(refused.stderr).toContain(`cannot read ${fifo}: it is a FIFO (named pipe), not a regular file`);

    writeFileSync(secret, 'pw\n');
    const cfg = secretConfig(dir, secret);
    const s = new RunningSonde(['run', '--config', cfg]);
    try {
      await s.until('the first sample', () => /^servers\.h\.fakedb\.m1\.port 1 /m.test(s.stdout));
      unlinkSync(secret);
      mkfifo(secret); // the same path, now a FIFO nobody writes to
      s.kill('SIGHUP');
      await s.until('the reload refused', () => s.stderr.includes('config reload rejected'));
      expect(s.stderr).toContain(`cannot read ${secret}: it is a FIFO (named pipe), not a regular file`);
      s.kill('SIGTERM');
      expect(await s.exited).toBe(0);
    } finally {
      s.kill('SIGKILL');
    }
  });

  it('a drop-in that is a FIFO, or a link to /dev/zero: exit 78 naming it', () => {
    const a = tmpdir();
    const pa = writeFiles(a, { 'sonde.yaml': 'interval: 10s\n' });
    mkdirSync(path.join(a, 'conf.d'));
    mkfifo(path.join(a, 'conf.d', '10-pipe.yaml'));
    const ra = run(['check-config', '--config', pa['sonde.yaml']!]);
    expect(ra.status).toBe(78);
    expect(ra.stderr).toContain(`${a}/conf.d/10-pipe.yaml: cannot read the drop-in: it is a FIFO (named pipe), not a regular file; move it out of conf.d, or make it a YAML file sonde can read`);

    const b = tmpdir();
    const pb = writeFiles(b, { 'sonde.yaml': 'interval: 10s\n' });
    mkdirSync(path.join(b, 'conf.d'));
    symlinkSync('/dev/zero', path.join(b, 'conf.d', '20-zero.yaml'));
    const rb = run(['check-config', '--config', pb['sonde.yaml']!]);
    expect(rb.status).toBe(78);
    expect(rb.stderr).toContain(`${b}/conf.d/20-zero.yaml: cannot read the drop-in: it is a character device, not a regular file`);
  });

  it('sonde logster on a FIFO, /dev/zero or a directory: a sentence and exit 1, twice in a row', () => {
    const dir = tmpdir();
    const fifo = path.join(dir, 'mail.fifo');
    mkfifo(fifo);
    const logDir = path.join(dir, 'logs');
    mkdirSync(logDir);
    for (const [log, kind] of [
      [fifo, 'a FIFO (named pipe)'],
      ['/dev/zero', 'a character device'],
      [logDir, 'a directory'],
    ] as const) {
      // The second run has the state a first run would have left: it must not read for ever either.
      for (let i = 0; i < 2; i++) {
        const r = run(['logster', '-s', path.join(dir, 'state'), '-l', dir, '-o', 'stdout', 'PostfixLogster', log]);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(`sonde logster: ${log} is ${kind}, not a log file: only regular files are read. The saved position is kept; check the log path in the crontab line.`);
        noStack(r.stderr);
      }
    }
  });

  it('sonde logster with a FIFO as its state file or its lock file: a warning or a refusal, not a hang', () => {
    const dir = tmpdir();
    const log = writeFiles(dir, { 'mail.log': 'x\n' })['mail.log']!;
    const state = path.join(dir, 'state');
    mkdirSync(state);
    // Logster's name: <state dir>/logtail-<parser class><log path, / as ->.state (and .lock).
    const base = path.join(state, `logtail-logster.parsers.PostfixLogster.PostfixLogster${log.replaceAll('/', '-')}`);
    const args = ['logster', '-s', state, '-l', dir, '-o', 'stdout', 'PostfixLogster', log];
    mkfifo(`${base}.state`);
    const r = run(args);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`state file ${base}.state is damaged (it is a FIFO (named pipe), not a regular file); treating this as a first run`);
    mkfifo(`${base}.lock`);
    const l = run(args);
    expect(l.status).toBe(1);
    expect(l.stderr).toContain(`could not take the lock ${base}.lock`);
  });

  it('the logs collector skips a FIFO, /dev/zero and a glob match linked to /dev/zero, warning once each, and still reads the real log and stops on SIGTERM', async () => {
    const dir = tmpdir();
    const logs = path.join(dir, 'logs');
    mkdirSync(logs);
    const fifo = path.join(dir, 'app.fifo');
    mkfifo(fifo);
    const real = path.join(logs, 'real.log');
    writeFileSync(real, '');
    symlinkSync('/dev/zero', path.join(logs, 'zero.log'));
    const entry = (p: string, name: string) => `      - { path: '${p}', parser: regex, name: ${name}, patterns: [{ match: 'status=200', counter: ok }] }\n`;
    const cfg = writeFiles(dir, {
      'sonde.yaml': `hostname: h\nstate_dir: ${dir}/state\ninterval: 1s\nself_metrics: { enabled: false }\ncollectors:\n  logs:\n    files:\n${entry(fifo, 'pipe')}${entry('/dev/zero', 'zero')}${entry(`${logs}/*.log`, 'app')}handlers:\n  stdout: { flush_interval: 100ms }\n`,
    })['sonde.yaml']!;
    const s = new RunningSonde(['run', '--config', cfg]);
    try {
      await s.until('the first report', () => /^servers\.h\.sonde\.collector\.logs\.app_files 2 /m.test(s.stdout));
      appendFileSync(real, 'request status=200\nrequest status=200\n');
      await s.until('2 lines of the real log', () => total(s.stdout, 'app.ok') === 2);
      await new Promise((r) => setTimeout(r, 1500)); // more intervals: the warnings are not repeated
      s.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      const warned = (file: string, kind: string) => s.stderr.split(`${file} is ${kind}, not a log file: only regular files are read; skipped, the other files are still read`).length - 1;
      expect(warned(fifo, 'a FIFO (named pipe)')).toBe(1);
      expect(warned('/dev/zero', 'a character device')).toBe(1);
      expect(warned(`${logs}/zero.log`, 'a character device')).toBe(1);
    } finally {
      s.kill('SIGKILL');
    }
  }, 60_000);
});

describe('files and directories sonde may not read or write', () => {
  it('a conf.d that cannot be listed (chmod 000, run as nobody): exit 78, not "OK"', () => {
    const dir = sharedDir();
    const p = writeFiles(dir, { 'sonde.yaml': 'interval: 10s\n', 'conf.d/10-cpu.yaml': 'collectors: { cpu: {} }\n' });
    chmodSync(p['sonde.yaml']!, 0o644);
    chmodSync(path.join(dir, 'conf.d'), 0o000);
    const r = run(['check-config', '--config', p['sonde.yaml']!], { asNobody: true });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain(`${dir}/conf.d: cannot read the drop-in directory: permission denied (is it readable by user nobody?); its drop-ins would be left out. Make it a directory sonde can read, or remove it`);
  });

  it('sonde logster on a log it may not read (run as nobody): a sentence and exit 1', () => {
    const dir = sharedDir();
    const log = writeFiles(dir, { 'mail.log': 'x\n' })['mail.log']!;
    chmodSync(log, 0o600);
    const state = path.join(dir, 'state');
    mkdirSync(state, { mode: 0o777 });
    chmodSync(state, 0o777);
    const r = run(['logster', '-s', state, '-l', state, '-o', 'stdout', 'PostfixLogster', log], { asNobody: true });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `sonde logster: cannot read ${log}: permission denied for user nobody. Give that user read access to it (for most logs in /var/log, membership of group adm). The saved position is kept; check the log path in the crontab line.`,
    );
    noStack(r.stderr);
  });

  it('--pidfile in a directory that does not exist, or naming a FIFO: a sentence and exit 1', () => {
    const dir = tmpdir();
    const cfg = writeFiles(dir, { 'sonde.yaml': `state_dir: ${dir}/state\ncollectors:\n  loadavg: {}\nhandlers:\n  stdout: {}\n` })['sonde.yaml']!;
    const missing = path.join(dir, 'run', 'sonde.pid');
    const r = run(['run', '--config', cfg, '--pidfile', missing]);
    expect(r.status).toBe(1);
    expect(r.output).toContain(`cannot write the pidfile ${missing}: the directory ${dir}/run does not exist; nothing was started. Create it, or pass --pidfile with a path in an existing directory`);
    const fifo = path.join(dir, 'sonde.pid');
    mkfifo(fifo);
    const f = run(['run', '--config', cfg, '--pidfile', fifo]);
    expect(f.status).toBe(1);
    expect(f.output).toContain(`--pidfile ${fifo} is a FIFO (named pipe), not a pid file; nothing was started. Pass --pidfile with the path of a file (such as /run/sonde.pid)`);
  });

  it('sonde once with a state_dir it cannot use and no usable fallback: a sentence and exit 78', () => {
    const dir = tmpdir();
    const blocker = writeFiles(dir, { file: 'a file where a directory should be\n' }).file!;
    const cfg = writeFiles(dir, { 'sonde.yaml': `state_dir: ${blocker}/state\ncollectors:\n  loadavg: {}\nhandlers:\n  stdout: {}\n` })['sonde.yaml']!;
    const r = run(['once', '--config', cfg], { env: { XDG_STATE_HOME: blocker } });
    expect(r.status).toBe(78);
    const user = os.userInfo().username;
    expect(r.stderr).toContain(
      `state_dir ${blocker}/state cannot be used by user ${user} (a part of the path is a file, not a directory), nor can the per-user ${blocker}/sonde (a part of the path is a file, not a directory): counter state, log offsets and the spool have nowhere to go. Make ${blocker}/state a directory ${user} can write, or set state_dir to one`,
    );
    noStack(r.stderr);
  });
});
