// `sonde once --only` and `sonde once --print` (and `run --only`), run from the built bundle.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunningSonde, sonde } from './helpers/sonde.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';

const FIX = path.join(import.meta.dirname, 'fixtures');

/** The hand-computed golden lines of a collector case, without comments. */
function golden(rel: string): string[] {
  return readFileSync(path.join(FIX, 'collectors', rel), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'));
}

function config(dir: string, sample: string, handlers = '  stdout: {}\n', extra = ''): string {
  return writeFiles(dir, {
    'sonde.yaml': `hostname: web01\nproc_root: ${path.join(FIX, 'proc', sample)}\nstate_dir: ${dir}/state\nplugin_paths: []\n${extra}collectors:\n  cpu: {}\n  memory: {}\n  loadavg: {}\n  vmstat: { enabled: false }\nhandlers:\n${handlers}`,
  })['sonde.yaml']!;
}

/** Every file under dir, relative, with its size and mtime: to prove nothing was written. */
function snapshot(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((f) => {
      const st = statSync(path.join(dir, f));
      return `${f} ${st.isDirectory() ? 'dir' : st.size} ${st.mtimeMs}`;
    });
}

describe('sonde once --only', () => {
  it('runs only the named collectors, comma-separated or repeated', () => {
    const dir = tmpdir();
    const r = sonde(['once', '--config', config(dir, 'e2e-0'), '--only', 'memory', '--only', 'loadavg']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const ts = r.stdout.split('\n')[0]!.split(' ')[2];
    const expected = [...golden('memory/normal-host/sample0.expected'), ...golden('loadavg/normal-host/sample0.expected')].map((l) => `servers.web01.${l} ${ts}`);
    expect(r.stdout.trim().split('\n').sort()).toEqual(expected.sort());
    const again = sonde(['once', '--config', config(dir, 'e2e-0'), '--only', 'memory,loadavg']);
    expect(again.stdout.trim().split('\n').length).toBe(expected.length);
  });

  it('refuses names the config has no section for, naming them and what is configured (exit 64)', () => {
    const dir = tmpdir();
    const cfg = config(dir, 'e2e-0');
    const r = sonde(['once', '--config', cfg, '--only', 'memroy,cpu,CPUCollector']);
    expect(r.status).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`sonde once: --only names collectors the config has no section for: memroy, CPUCollector. Configured in ${cfg}: cpu, memory, loadavg (enabled); vmstat (disabled)\n`);
    expect(existsSync(path.join(dir, 'state'))).toBe(false);
  });

  it('refuses a disabled section, saying how to run it anyway (exit 64)', () => {
    const dir = tmpdir();
    const cfg = config(dir, 'e2e-0');
    const r = sonde(['once', '--config', cfg, '--only', 'vmstat']);
    expect([r.status, r.stderr]).toEqual([64, `sonde once: --only names vmstat, disabled in ${cfg} (enabled: false). Enable it there, or try one with "sonde collect vmstat"\n`]);
  });

  it('refuses an empty list (exit 64)', () => {
    const dir = tmpdir();
    const r = sonde(['once', '--config', config(dir, 'e2e-0'), '--only', ',']);
    expect([r.status, r.stderr]).toEqual([64, 'sonde once: --only names no collector: give one or more section names, separated by commas (--only cpu,memory)\n']);
  });

  it('sonde run --only collects only those, and a SIGHUP to a config without them is refused, the agent going on', async () => {
    const dir = tmpdir();
    const cfg = config(dir, 'e2e-0', '  stdout: {}\n', 'interval: 1s\nself_metrics: { enabled: false }\n');
    const s = new RunningSonde(['run', '--config', cfg, '--only', 'loadavg']);
    try {
      await s.until('loadavg samples', () => s.stdout.includes('servers.web01.loadavg.01 1.50'));
      expect(s.stdout).not.toContain('.memory.');
      expect(s.stdout).not.toContain('.cpu.');
      writeFiles(dir, { 'sonde.yaml': readFileSync(cfg, 'utf8').replace('  loadavg: {}\n', '') });
      s.kill('SIGHUP');
      // Samples go to stdout, so the log is on stderr.
      await s.until('the reload refused', () => s.stderr.includes('config reload rejected'));
      expect(s.stderr).toContain(`config reload rejected: --only names a collector the config has no section for: loadavg. Configured in ${cfg}: cpu, memory (enabled); vmstat (disabled); still running the previous config`);
      const seen = s.stdout.length;
      await s.until('loadavg still collected', () => s.stdout.slice(seen).includes('servers.web01.loadavg.01 1.50'));
      s.kill('SIGTERM');
      expect(await s.exited).toBe(0);
    } finally {
      s.kill('SIGKILL');
    }
  });

  it('sonde run --only with an unknown name exits 64 before starting', () => {
    const dir = tmpdir();
    const cfg = config(dir, 'e2e-0');
    const r = sonde(['run', '--config', cfg, '--only', 'nope']);
    expect([r.status, r.stderr]).toEqual([64, `sonde run: --only names a collector the config has no section for: nope. Configured in ${cfg}: cpu, memory, loadavg (enabled); vmstat (disabled)\n`]);
  });
});

describe('sonde once --print', () => {
  it('prints Graphite lines and sends nothing: no connection to the configured carbon, no outbox, no spool, no state written', () => {
    const dir = tmpdir();
    // A carbon that refuses: a send would fail (exit 1) and spool.
    const cfg = config(dir, 'e2e-0', '  graphite: { destinations: ["127.0.0.1:1"], retry_min: 100ms }\n');
    const before = snapshot(path.join(dir, 'state'));
    const r = sonde(['once', '--config', cfg, '--print', '--only', 'memory']);
    expect(r.status).toBe(0);
    const said = r.stderr.trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(said).toEqual([`no counter state saved by sonde once in ${dir}/state: rates (cpu, iostat, network, ...) are left out of what is printed; they appear after one sonde once without --print`]);
    const ts = r.stdout.split('\n')[0]!.split(' ')[2];
    expect(r.stdout.trim().split('\n').sort()).toEqual(golden('memory/normal-host/sample0.expected').map((l) => `servers.web01.${l} ${ts}`).sort());
    expect(snapshot(path.join(dir, 'state'))).toEqual(before);
    expect(existsSync(path.join(dir, 'state'))).toBe(false);
  });

  it('--format json prints one object per sample, the same figures as the Graphite lines', () => {
    const dir = tmpdir();
    const r = sonde(['once', '--config', config(dir, 'e2e-0'), '--print', '--format', 'json', '--only', 'loadavg']);
    expect(r.status).toBe(0);
    const objs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; value: number; timestamp: number; kind: string });
    const ts = objs[0]!.timestamp;
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(60);
    const expected = golden('loadavg/normal-host/sample0.expected').map((l) => {
      const [name, value] = l.split(' ');
      return { path: `servers.web01.${name}`, value: Number(value), timestamp: ts, kind: 'gauge' };
    });
    expect(objs).toEqual(expected);
  });

  it('gives rates from the counters the last sonde once saved, and leaves them as they are', () => {
    const dir = tmpdir();
    const t0 = performance.now();
    expect(sonde(['once', '--config', config(dir, 'e2e-0'), '--only', 'cpu']).status).toBe(0);
    const t1 = performance.now();
    const state = path.join(dir, 'state', 'counters.json');
    const saved = readFileSync(state, 'utf8');
    const stateBefore = snapshot(path.join(dir, 'state'));
    const value = (out: string, name: string) => Number(out.split('\n').find((l) => l.startsWith(`servers.web01.cpu.${name} `))?.split(' ')[1]);
    const runs: { out: string; t2: number; t3: number }[] = [];
    for (let i = 0; i < 2; i++) {
      const t2 = performance.now();
      const r = sonde(['once', '--config', config(dir, 'e2e-1'), '--only', 'cpu', '--print']);
      const t3 = performance.now();
      expect(r.status).toBe(0);
      expect(r.stderr).toBe('');
      runs.push({ out: r.stdout, t2, t3 });
    }
    for (const { out, t2, t3 } of runs) {
      // user went up 400 jiffies in total between the two recordings (see cli.e2e), over the time since the saved run.
      expect(value(out, 'total.user')).toBeGreaterThanOrEqual(400 / ((t3 - t0) / 1000) - 0.005);
      expect(value(out, 'total.user')).toBeLessThanOrEqual(400 / ((t2 - t1) / 1000) + 0.005);
      expect(value(out, 'cpu0.user') / value(out, 'cpu0.system')).toBeCloseTo(3, 1);
    }
    // The second print measured from the same saved baseline, not from the first print.
    expect(readFileSync(state, 'utf8')).toBe(saved);
    expect(snapshot(path.join(dir, 'state'))).toEqual(stateBefore);
  });

  it('--format without --print is a usage error (exit 64)', () => {
    const dir = tmpdir();
    const r = sonde(['once', '--config', config(dir, 'e2e-0'), '--format', 'json']);
    expect(r.status).toBe(64);
    expect(r.stderr).toBe('sonde once: --format applies to --print (what is printed); without --print the samples go to the handlers in their own formats\nRun "sonde --help" for the commands and options.\n');
  });

  it('--format with an unknown value is refused by the command line (exit 64)', () => {
    const dir = tmpdir();
    const r = sonde(['once', '--config', config(dir, 'e2e-0'), '--print', '--format', 'xml']);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('Invalid values:\n  Argument: format, Given: "xml", Choices: "graphite", "json"');
  });
});
