// The built bundle, run as an operator would run it.
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { BUNDLE, sonde } from './helpers/sonde.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';

const FIX = path.join(import.meta.dirname, 'fixtures');
const pkg = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string };

/** The hand-computed golden lines of a case, without comments. */
function golden(rel: string): string[] {
  return readFileSync(path.join(FIX, 'collectors', rel), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'));
}

function config(dir: string, procRoot: string, extra = ''): string {
  return writeFiles(dir, {
    'sonde.yaml': `hostname: web01\nproc_root: ${procRoot}\nstate_dir: ${dir}/state\nplugin_paths: []\n${extra}collectors:\n  cpu: {}\n  memory: {}\n  loadavg: {}\nhandlers:\n  stdout: {}\n`,
  })['sonde.yaml']!;
}

describe('sonde once', () => {
  it('prints the expected Graphite lines for a recorded /proc, all with one timestamp', () => {
    const dir = tmpdir();
    const cfg = config(dir, path.join(FIX, 'proc', 'e2e-0'));
    const before = Math.floor(Date.now() / 1000);
    const r = sonde(['once', '--config', cfg]);
    const after = Math.floor(Date.now() / 1000);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const stamps = new Set(lines.map((l) => l.split(' ')[2]));
    expect(stamps.size).toBe(1);
    const ts = Number([...stamps][0]);
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(after);
    const expected = [
      ...golden('cpu/normal-host/sample0.expected'),
      ...golden('memory/normal-host/sample0.expected'),
      ...golden('loadavg/normal-host/sample0.expected'),
    ].map((l) => `servers.web01.${l} ${ts}`);
    expect(lines.sort()).toEqual(expected.sort());
  });

  it('keeps counter baselines in the state directory, so a second run gives rates over the measured time', () => {
    const dir = tmpdir();
    const t0 = performance.now();
    const r1 = sonde(['once', '--config', config(dir, path.join(FIX, 'proc', 'e2e-0'))]);
    const t1 = performance.now();
    expect(r1.status).toBe(0);
    expect(r1.stdout).not.toContain('cpu.total.user');
    const t2 = performance.now();
    const r2 = sonde(['once', '--config', config(dir, path.join(FIX, 'proc', 'e2e-1'))]);
    const t3 = performance.now();
    expect(r2.status).toBe(0);
    const value = (name: string) => Number(r2.stdout.split('\n').find((l) => l.startsWith(`servers.web01.cpu.${name} `))?.split(' ')[1]);
    // user went up 400 jiffies in total between the two recordings: 400 / elapsed seconds.
    // The elapsed time between the two collections lies between (t2 - t1) and (t3 - t0).
    const lo = 400 / ((t3 - t0) / 1000) - 0.005;
    const hi = 400 / ((t2 - t1) / 1000) + 0.005;
    expect(value('total.user')).toBeGreaterThanOrEqual(lo);
    expect(value('total.user')).toBeLessThanOrEqual(hi);
    // and the ratio between fields is the ratio of the deltas (300 : 100 for cpu0 user : system)
    expect(value('cpu0.user') / value('cpu0.system')).toBeCloseTo(3, 1);
  });

  it('gives iostat figures from cron too: its baselines are kept between runs', () => {
    const dir = tmpdir();
    const conf = (sample: string) =>
      writeFiles(dir, {
        'sonde.yaml': `hostname: web01\nproc_root: ${FIX}/collectors/iostat/busy-idle-gone/${sample}/proc\nstate_dir: ${dir}/state\nplugin_paths: []\ncollectors:\n  iostat: {}\nhandlers:\n  stdout: {}\n`,
      })['sonde.yaml']!;
    const first = sonde(['once', '--config', conf('sample0')]);
    expect(first.status).toBe(0);
    expect(first.stdout).toBe('');
    const second = sonde(['once', '--config', conf('sample1')]);
    expect(second.status).toBe(0);
    const value = (name: string) => second.stdout.split('\n').find((l) => l.startsWith(`servers.web01.iostat.${name} `))?.split(' ')[1];
    // Per-interval counts do not depend on how long cron waited (see the golden case's sample1).
    expect(value('sda.reads')).toBe('100');
    expect(value('sda.writes_milliseconds')).toBe('900');
    expect(value('sda.average_request_size_byte')).toBe('40960.00');
    expect(value('sda1.io')).toBe('0');
  });

  it('reuses the FQDN an earlier run resolved for 10 minutes, on the same boot and kernel host name', () => {
    const dir = tmpdir();
    const cfg = writeFiles(dir, { 'sonde.yaml': `hostname_method: fqdn\nproc_root: ${FIX}/proc/e2e-0\nstate_dir: ${dir}/state\nplugin_paths: []\ncollectors:\n  loadavg: {}\nhandlers:\n  stdout: {}\n` })['sonde.yaml']!;
    const state = `${dir}/state/counters.json`;
    const hosts = (out: string) => [...new Set(out.trim().split('\n').map((l) => l.split('.')[1]))];
    const before = Date.now();
    const first = sonde(['once', '--config', cfg]);
    expect(first.status).toBe(0);
    const saved = JSON.parse(readFileSync(state, 'utf8')) as { boot: string; fqdn: { kernel: string; fqdn: string; at: number } };
    expect(saved.fqdn.kernel).toBe(os.hostname());
    expect(saved.fqdn.at).toBeGreaterThanOrEqual(before);
    expect(saved.fqdn.at).toBeLessThanOrEqual(Date.now());
    const resolved = hosts(first.stdout);
    expect(resolved).toEqual([saved.fqdn.fqdn.replaceAll('.', '_')]);

    const rerun = (fqdn: object, boot = saved.boot) => {
      writeFileSync(state, JSON.stringify({ ...saved, boot, fqdn: { ...saved.fqdn, ...fqdn } }));
      const r = sonde(['once', '--config', cfg]);
      expect(r.status).toBe(0);
      return { hosts: hosts(r.stdout), kept: (JSON.parse(readFileSync(state, 'utf8')) as typeof saved).fqdn };
    };
    const minuteAgo = Date.now() - 60_000;
    // Recent: used as it is, and kept with its own time, so that it is resolved again 10 minutes after it was.
    expect(rerun({ fqdn: 'cached.example.test', at: minuteAgo })).toEqual({ hosts: ['cached_example_test'], kept: { kernel: os.hostname(), fqdn: 'cached.example.test', at: minuteAgo } });
    // Too old, from another kernel host name, from the future or from another boot: resolved again.
    expect(rerun({ fqdn: 'cached.example.test', at: Date.now() - 11 * 60_000 }).hosts).toEqual(resolved);
    expect(rerun({ fqdn: 'cached.example.test', at: minuteAgo, kernel: 'another-host' }).hosts).toEqual(resolved);
    expect(rerun({ fqdn: 'cached.example.test', at: Date.now() + 3_600_000 }).hosts).toEqual(resolved);
    expect(rerun({ fqdn: 'cached.example.test', at: minuteAgo }, 'another-boot').hosts).toEqual(resolved);
  });

  it('falls back to a per-user state directory, with a notice, when state_dir is not writable', () => {
    const dir = tmpdir();
    const cfg = writeFiles(dir, { 'sonde.yaml': `hostname: h\nproc_root: ${FIX}/proc/e2e-0\nstate_dir: /dev/null/sonde\nplugin_paths: []\ncollectors:\n  cpu: {}\nhandlers:\n  stdout: {}\n` })['sonde.yaml']!;
    const r = sonde(['once', '--config', cfg], { XDG_STATE_HOME: `${dir}/xdg` });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`state_dir /dev/null/sonde is not writable`);
    expect(r.stderr).toContain(`${dir}/xdg/sonde`);
    expect(readFileSync(`${dir}/xdg/sonde/counters.json`, 'utf8')).toContain('"version":1');
  });

  it('reports, and does not crash, when the reader of its output has gone away (sonde once | true)', () => {
    const dir = tmpdir();
    const cfg = config(dir, path.join(FIX, 'proc', 'e2e-0'), 'shutdown_timeout: 1s\n');
    // `true` exits without reading, so every write of sonde's gets EPIPE.
    spawnSync('/bin/sh', ['-c', `("${process.execPath}" "${BUNDLE}" once --config "${cfg}" 2>"${dir}/err"; echo $? >"${dir}/status") | true`]);
    const err = readFileSync(`${dir}/err`, 'utf8');
    expect(err).not.toContain('Unhandled');
    expect(err).toMatch(/handler stdout: \d+ samples could not be sent within shutdown_timeout/);
    expect(readFileSync(`${dir}/status`, 'utf8').trim()).toBe('1');
  });

  it('exits 1 and says which collector failed when its /proc file is missing', () => {
    const dir = tmpdir();
    const cfg = config(dir, path.join(dir, 'empty-proc'));
    const r = sonde(['once', '--config', cfg]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/collector cpu: ENOENT/);
    expect(r.stderr).toMatch(/collector memory: ENOENT/);
  });
});

describe('sonde check-config', () => {
  it('exits 0 and lists what would run for a valid config', () => {
    const r = sonde(['check-config', '--config', path.join(import.meta.dirname, '..', 'config', 'sonde.yaml')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('collectors: cpu, memory, loadavg');
  });

  it('exits 78 with file:line: key messages for an invalid one', () => {
    const dir = tmpdir();
    const cfg = writeFiles(dir, { 'sonde.yaml': 'collectors:\n  cpu:\n    percore: maybe\n' })['sonde.yaml']!;
    const r = sonde(['check-config', '--config', cfg]);
    expect(r.status).toBe(78);
    expect(r.stderr).toContain(`${cfg}:3: collectors.cpu.percore: expected true or false, got "maybe"`);
    expect(r.stdout).toBe('');
  });

  it('exits 78 when the config file does not exist', () => {
    const r = sonde(['check-config', '--config', '/nonexistent/sonde.yaml']);
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('/nonexistent/sonde.yaml: cannot read the config: no such file');
  });
});

describe('the command line', () => {
  it('prints the package version', () => {
    const r = sonde(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('exits 64 with a pointer to --help for an unknown command or option', () => {
    const r = sonde(['frobnicate']);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('sonde --help');
    expect(sonde(['once', '--bogus']).status).toBe(64);
  });

  it('prints help for the agent and for each command, exit 0', () => {
    const top = sonde(['--help']);
    expect(top.status).toBe(0);
    for (const cmd of ['sonde run', 'sonde once', 'sonde collect <collector>', 'sonde check-config', 'sonde list']) expect(top.stdout).toContain(cmd);
    const once = sonde(['once', '--help']);
    expect(once.status).toBe(0);
    expect(once.stdout).toContain('Run every enabled collector once');
    expect(once.stdout).toContain('--config');
  });

  it('lists the built-in plugins with their descriptions', () => {
    const r = sonde(['list', '--config', '/nonexistent.yaml']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/collectors:\n\s+cpu\s+CPU time per state/);
    expect(r.stdout).toMatch(/handlers:\n\s+stdout\s+Prints samples/);
  });
});

describe('sonde collect', () => {
  it('runs a built-in collector several times; rates appear from the second run', () => {
    const dir = tmpdir();
    const cfg = config(dir, path.join(FIX, 'proc', 'e2e-0'));
    const r = sonde(['collect', 'cpu', '--config', cfg, '--count', '2', '--interval', '100ms']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    // run 1: cpu_count; run 2: cpu_count + 10 states x (2 cores + total), all 0.00 (the file did not change)
    expect(lines).toHaveLength(1 + 1 + 30);
    expect(lines.filter((l) => l.startsWith('servers.web01.cpu.total.user 0.00 '))).toHaveLength(1);
  });

  it('runs a plugin file without any config, for plugin authors', () => {
    const r = sonde(['collect', path.join(FIX, 'plugins-e2e', 'ticker.mjs'), '--count', '3', '--interval', '100ms']);
    expect(r.status).toBe(0);
    const seq = r.stdout.trim().split('\n').map((l) => l.split(' ').slice(0, 2));
    expect(seq.map((s) => s[1])).toEqual(['1', '2', '3']);
    expect(seq[0]![0]).toMatch(/^servers\.[^.]+\.ticker\.seq$/);
  });

  it('says which collectors exist when the name is wrong (a bad command line: 64)', () => {
    const r = sonde(['collect', 'cpux']);
    expect(r.status).toBe(64);
    expect(r.stderr).toBe('sonde collect: no collector named "cpux"; did you mean "cpu"? (available: cpu, memory, loadavg, diskspace, iostat, vmstat, network, sockets, logs, mysql; a plugin file is named by its path, e.g. ./my-collector.mjs)\n');
  });
});
