// `npm start` from a checkout: its state stays in the checkout, and on a terminal sonde says where
// things are, when the first samples are due and how to stop it.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE } from './helpers/sonde.js';
import { onTerminal } from './helpers/terminal.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';

const REPO = path.resolve(import.meta.dirname, '..');
const FIX = path.join(import.meta.dirname, 'fixtures');

/** What a path looks like now (absent, or its times and entries), to prove it was not touched. */
function look(p: string): string {
  if (!existsSync(p)) return 'absent';
  const st = statSync(p);
  const entries = st.isDirectory() ? readdirSync(p, { recursive: true, encoding: 'utf8' }).sort().map((f) => `${f}:${statSync(path.join(p, f)).mtimeMs}`) : [];
  return JSON.stringify({ mtime: st.mtimeMs, ctime: st.ctimeMs, entries });
}

function until(what: string, check: () => boolean, seen: () => string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (check()) return resolve();
      if (Date.now() > end) return reject(new Error(`timed out waiting for ${what}\n${seen().slice(-3000)}`));
      setTimeout(poll, 50);
    };
    poll();
  });
}

describe('npm start', () => {
  it('runs the shipped checkout config with its state in the checkout: /var/lib/sonde and the home directory are not touched, even as root', async () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const words = pkg.scripts.start!.split(/\s+/);
    expect(words[0]).toBe('node');
    // A copy of the checkout's built entry and config, run the way the start script runs them.
    const checkout = tmpdir();
    cpSync(path.join(REPO, 'dist'), path.join(checkout, 'dist'), { recursive: true });
    cpSync(path.join(REPO, 'config'), path.join(checkout, 'config'), { recursive: true });
    const home = tmpdir();
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
    delete env.XDG_STATE_HOME;
    const varLib = look('/var/lib/sonde');
    const child = spawn(process.execPath, words.slice(1), { cwd: checkout, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    try {
      // The shipped collectors' first window, then their samples on stdout (the stdout handler).
      await until('the first samples', () => /^servers\.\S+\.memory\.MemTotal \d+ \d+$/m.test(out), () => `${out}\n${err}`);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    expect(existsSync(path.join(checkout, '.state'))).toBe(true);
    expect(statSync(path.join(checkout, '.state')).isDirectory()).toBe(true);
    expect(look('/var/lib/sonde')).toBe(varLib);
    expect(readdirSync(home)).toEqual([]);
    // Not a terminal: no banner, only the log.
    expect(err).not.toContain('sonde is running in the foreground');
    // And the checkout's .state is not committed.
    expect(readFileSync(path.join(REPO, '.gitignore'), 'utf8').split('\n')).toContain('/.state/');
  }, 60_000);
});

describe('sonde run on a terminal', () => {
  it('says where the config and state are, when the first samples are due (and they come then), and stops on Ctrl-C', async () => {
    const dir = tmpdir();
    const cfg = writeFiles(dir, {
      'sonde.yaml': `hostname: web01\nproc_root: ${path.join(FIX, 'proc', 'e2e-0')}\nstate_dir: ${dir}/state\nplugin_paths: []\ninterval: 2s\ncollectors:\n  memory: {}\n  loadavg: { interval: 4s }\n  cpu: { enabled: false }\nhandlers:\n  stdout: {}\n`,
    })['sonde.yaml']!;
    // script(1) gives sonde a terminal for stdin, stdout and stderr; Ctrl-C is typed into it.
    const child = onTerminal([process.execPath, BUNDLE, 'run', '--config', cfg]);
    let out = '';
    let firstSampleAt: number | undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (firstSampleAt === undefined && out.includes('servers.web01.memory.MemTotal')) firstSampleAt = Date.now();
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    try {
      await until('the banner', () => out.includes('Press Ctrl-C'), () => out);
      const text = out.replaceAll('\r\n', '\n');
      const m = /^sonde is running in the foreground with (.*)\n {2}state \(counters, log offsets, spools\): (.*)\n {2}first samples due at (\d\d):(\d\d):(\d\d) \(in about (\d+) s\): memory every 2 s; loadavg every 4 s\n {2}figures that are rates \(cpu, iostat, network, \.\.\.\) need two runs: they come one interval later\n {2}sonde's own figures \(<prefix>\.<host>\.sonde\.\*\) every 1 min\n {2}samples go to: stdout\nPress Ctrl-C to stop \(it flushes what is queued first; a second Ctrl-C exits at once\)\.$/m.exec(text);
      expect(m, text).not.toBeNull();
      expect(m![1]).toBe(cfg);
      expect(m![2]).toBe(`${dir}/state`);
      expect(Number(m![6])).toBeGreaterThanOrEqual(1);
      expect(Number(m![6])).toBeLessThanOrEqual(2);
      // The due time (to the second, local time), against when the first sample came.
      const due = new Date();
      due.setHours(Number(m![3]), Number(m![4]), Number(m![5]), 0);
      await until('the first sample', () => firstSampleAt !== undefined, () => out);
      expect(firstSampleAt!).toBeGreaterThanOrEqual(due.getTime() - 100);
      expect(firstSampleAt!).toBeLessThan(due.getTime() + 2000);
      child.stdin.write('\x03');
      expect(await exited).toBe(0);
      expect(out).toContain('SIGINT received');
      expect(out).toContain('stopped');
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});
