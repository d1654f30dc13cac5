// `sonde run` as a process: signals, reloads and shutdown.
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunningSonde } from './helpers/sonde.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';

const PLUGINS = path.join(import.meta.dirname, 'fixtures', 'plugins-e2e');
/** Plugins with bugs: a stray timer and rejection, new names every run, a busy loop, a collect that never returns. */
const MISBEHAVING = path.join(import.meta.dirname, 'fixtures', 'plugins-misbehaving');

/** A config of test plugins printing to stdout, with self-metrics every 500 ms. */
function misbehavingConfig(dir: string, collectors: string, extra = ''): string {
  return `hostname: h\nstate_dir: ${dir}/state\nplugin_paths: [${MISBEHAVING}, ${PLUGINS}]\nshutdown_timeout: 2s\nself_metrics: { interval: 500ms }\n${extra}collectors:\n${collectors}handlers:\n  stdout: {}\n`;
}

/** The last value of a Graphite line's path on stdout. */
function last(text: string, metric: string): number | undefined {
  const v = text
    .split('\n')
    .filter((l) => l.startsWith(`${metric} `))
    .at(-1)
    ?.split(' ')[1];
  return v === undefined ? undefined : Number(v);
}

function tickerConfig(dir: string, opts: { prefix?: string; handler: string }): string {
  return `path_prefix: ${opts.prefix ?? 'servers'}\nhostname: h\nstate_dir: ${dir}/state\nplugin_paths: [${PLUGINS}]\nshutdown_timeout: 5s\nself_metrics: { enabled: false }\ncollectors:\n  ticker: { interval: 200ms }\nhandlers:\n${opts.handler}`;
}

/** The `seq` values in Graphite lines, in the order they arrived. */
function seqs(text: string, prefix = 'servers'): number[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${prefix}.h.ticker.seq `))
    .map((l) => Number(l.split(' ')[1]));
}

describe('sonde run', () => {
  it('keeps running the old config when SIGHUP brings a broken one, and applies a valid one', async () => {
    const dir = tmpdir();
    const cfg = writeFiles(dir, { 'sonde.yaml': tickerConfig(dir, { handler: '  stdout: {}\n' }) })['sonde.yaml']!;
    const s = new RunningSonde(['run', '--config', cfg]);
    try {
      await s.until('first samples', () => seqs(s.stdout).length >= 2);

      writeFileSync(cfg, 'collectors:\n  ticker: { interval: 200ms\n'); // broken YAML
      s.kill('SIGHUP');
      await s.until('the rejection', () => s.stderr.includes('config reload rejected'));
      expect(s.stderr).toMatch(new RegExp(`${cfg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: invalid YAML`));
      const seen = seqs(s.stdout).length;
      await s.until('samples after the rejected reload', () => seqs(s.stdout).length >= seen + 2);

      writeFileSync(cfg, tickerConfig(dir, { prefix: 'metrics', handler: '  stdout: {}\n' }));
      s.kill('SIGHUP');
      await s.until('samples under the new prefix', () => seqs(s.stdout, 'metrics').length >= 1);
      // The collector was unchanged, so it kept its state: the count goes on, not from 1.
      expect(seqs(s.stdout, 'metrics')[0]).toBeGreaterThan(seqs(s.stdout).at(-1)!);

      s.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      expect(s.stderr).toContain('SIGTERM received');
    } finally {
      s.kill('SIGKILL');
    }
  });

  it('swaps a changed handler on SIGHUP without losing the samples it had queued', async () => {
    const dir = tmpdir();
    const sink = path.join(dir, 'sink.txt');
    const failing = `  filesink: { file: ${sink}, fail: true, retry_min: 50ms, retry_max: 100ms }\n`;
    const working = `  filesink: { file: ${sink}, fail: false, retry_min: 50ms, retry_max: 100ms }\n`;
    const cfg = writeFiles(dir, { 'sonde.yaml': tickerConfig(dir, { handler: failing }) })['sonde.yaml']!;
    const s = new RunningSonde(['run', '--config', cfg]);
    try {
      await s.until('failed sends', () => s.stdout.includes('filesink told to fail') || s.stderr.includes('filesink told to fail'));
      await new Promise((r) => setTimeout(r, 1000)); // let a backlog of ~5 samples build up
      expect(existsSync(sink)).toBe(false);

      writeFileSync(cfg, tickerConfig(dir, { handler: working }));
      s.kill('SIGHUP');
      await s.until('the backlog and new samples in the sink', () => existsSync(sink) && seqs(readFileSync(sink, 'utf8')).length >= 8);
      s.kill('SIGTERM');
      expect(await s.exited).toBe(0);

      const got = seqs(readFileSync(sink, 'utf8'));
      // Every run from the first arrived, once, in order.
      expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i + 1));
      expect(s.stdout + s.stderr).toMatch(/handler filesink: config changed; restarted with its \d+ queued samples/);
    } finally {
      s.kill('SIGKILL');
    }
  });

  it('flushes on SIGTERM: samples queued at the signal are sent before exit', async () => {
    const dir = tmpdir();
    const sink = path.join(dir, 'sink.txt');
    // A long flush_interval keeps samples queued until the shutdown flush sends them.
    const cfg = writeFiles(dir, { 'sonde.yaml': tickerConfig(dir, { handler: `  filesink: { file: ${sink}, flush_interval: 1h, batch_size: 100000 }\n` }) })['sonde.yaml']!;
    const s = new RunningSonde(['run', '--config', cfg, '--log-level', 'debug']);
    try {
      await s.until('the agent to start', () => (s.stdout + s.stderr).includes('sonde started'));
      await new Promise((r) => setTimeout(r, 1200));
      expect(existsSync(sink)).toBe(false);
      s.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      const got = seqs(readFileSync(sink, 'utf8'));
      expect(got.length).toBeGreaterThanOrEqual(3);
      expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i + 1));
    } finally {
      s.kill('SIGKILL');
    }
  });

  it('loses nothing across an outage and a restart: the backlog waits in the spool and goes first', async () => {
    const dir = tmpdir();
    const sink = path.join(dir, 'sink.txt');
    const handler = (fail: boolean) => `  filesink: { file: ${sink}, fail: ${fail}, batch_size: 2, queue_size: 3, retry_min: 50ms, retry_max: 100ms }\n`;
    const cfg = writeFiles(dir, { 'sonde.yaml': tickerConfig(dir, { handler: handler(true) }) })['sonde.yaml']!;
    // The upstream is down: the outbox holds 3 samples, the rest spill to disk.
    const a = new RunningSonde(['run', '--config', cfg]);
    try {
      await a.until('samples spilled to the spool', () => (a.stdout + a.stderr).includes('written to the disk spool'));
      await new Promise((r) => setTimeout(r, 800));
      a.kill('SIGTERM');
      expect(await a.exited).toBe(0);
    } finally {
      a.kill('SIGKILL');
    }
    expect(existsSync(sink)).toBe(false);
    expect(readdirSync(path.join(dir, 'state', 'spool', 'filesink')).length).toBeGreaterThan(0);

    // Restarted with the upstream back: the spool goes first, then new samples.
    writeFileSync(cfg, tickerConfig(dir, { handler: handler(false) }));
    const b = new RunningSonde(['run', '--config', cfg]);
    try {
      await b.until('the backlog delivered', () => existsSync(sink) && seqs(readFileSync(sink, 'utf8')).length >= 10);
      b.kill('SIGTERM');
      expect(await b.exited).toBe(0);
    } finally {
      b.kill('SIGKILL');
    }
    const got = seqs(readFileSync(sink, 'utf8'));
    // The first process counted 1..n; the second starts again at 1 (a new collector state).
    const firstRun = got.slice(0, got.indexOf(1, 1) === -1 ? got.length : got.indexOf(1, 1));
    expect(firstRun.length).toBeGreaterThanOrEqual(5);
    expect(firstRun).toEqual(Array.from({ length: firstRun.length }, (_, i) => i + 1));
    const secondRun = got.slice(firstRun.length);
    expect(secondRun).toEqual(Array.from({ length: secondRun.length }, (_, i) => i + 1));
  });

  it('stays up with nothing enabled, says so, and stops on SIGTERM', async () => {
    const dir = tmpdir();
    const cfg = writeFiles(dir, { 'sonde.yaml': `state_dir: ${dir}/state\nplugin_paths: []\nself_metrics: { enabled: false }\ncollectors:\nhandlers:\n` })['sonde.yaml']!;
    const s = new RunningSonde(['run', '--config', cfg]);
    try {
      await s.until('the start line', () => (s.stdout + s.stderr).includes('sonde started'));
      await s.until('the warning that nothing is sent', () => (s.stdout + s.stderr).includes('no handler is enabled'));
      await new Promise((r) => setTimeout(r, 500));
      expect(s.child.exitCode).toBeNull();
      s.kill('SIGTERM');
      expect(await s.exited).toBe(0);
    } finally {
      s.kill('SIGKILL');
    }
  });

  it('refuses to start beside a live sonde named in the pidfile, and removes its own on exit', async () => {
    const dir = tmpdir();
    const pidfile = path.join(dir, 'sonde.pid');
    const cfg = writeFiles(dir, { 'sonde.yaml': tickerConfig(dir, { handler: '  stdout: {}\n' }) })['sonde.yaml']!;
    const a = new RunningSonde(['run', '--config', cfg, '--pidfile', pidfile]);
    try {
      await a.until('the pidfile', () => existsSync(pidfile) && readFileSync(pidfile, 'utf8').trim() === String(a.child.pid));
      const b = new RunningSonde(['run', '--config', cfg, '--pidfile', pidfile]);
      expect(await b.exited).toBe(1);
      expect(b.stdout + b.stderr).toContain(`another sonde is running (pid ${a.child.pid}`);
      a.kill('SIGTERM');
      expect(await a.exited).toBe(0);
      expect(existsSync(pidfile)).toBe(false);
    } finally {
      a.kill('SIGKILL');
    }
  });

  it('keeps collecting when a plugin\'s timer throws and its promise is left rejected: names the plugin, counts both', async () => {
    const dir = tmpdir();
    const cfg = writeFiles(dir, { 'sonde.yaml': misbehavingConfig(dir, '  stray: { interval: 200ms }\n') })['sonde.yaml']!;
    const s = new RunningSonde(['run', '--config', cfg]);
    try {
      await s.until('both stray errors counted', () => last(s.stdout, 'servers.h.sonde.agent.uncaught_errors') === 2);
      const seq = last(s.stdout, 'servers.h.stray.seq')!;
      await s.until('collecting after them', () => last(s.stdout, 'servers.h.stray.seq')! >= seq + 3);
      expect(last(s.stdout, 'servers.h.sonde.collector.stray.uncaught_errors')).toBe(2);
      expect(s.stderr).toContain('plugin stray threw outside its collect(), from a timer, event handler or callback it left running: stray timer went off');
      expect(s.stderr).toContain('plugin stray left a promise rejected with nothing waiting for it: stray promise rejected');
      expect(s.stderr).toContain(`${path.join(MISBEHAVING, 'stray.mjs')}:`);
      s.kill('SIGTERM');
      expect(await s.exited).toBe(0);
    } finally {
      s.kill('SIGKILL');
    }
  });

  it('refuses new names past a collector\'s cap, counts them, names the collector, and keeps its old names', async () => {
    const dir = tmpdir();
    // 21 names in the first run (seq and 20 new), 20 new in each after: past 30 in the second.
    const cfg = writeFiles(dir, { 'sonde.yaml': misbehavingConfig(dir, '  names: { interval: 200ms, max_names: 30 }\n', 'max_names_per_collector: 1000\n') })['sonde.yaml']!;
    const s = new RunningSonde(['run', '--config', cfg]);
    try {
      await s.until('refusals in the self-metrics', () => (last(s.stdout, 'servers.h.sonde.collector.names.names_refused') ?? 0) >= 100);
      const seq = last(s.stdout, 'servers.h.names.seq')!;
      await s.until('seq still sent', () => last(s.stdout, 'servers.h.names.seq')! >= seq + 2);
      // Every name of the second run past the cap, and none of any later run, reached the handler.
      const names = new Set(s.stdout.split('\n').filter((l) => l.startsWith('servers.h.names.')).map((l) => l.split(' ')[0]));
      expect(names.size).toBe(30);
      expect(s.stderr).toContain('collector names: refused 11 new metric name(s) or counter key(s) this run, e.g. \\"request.id_2_9\\": it holds 30, its cap');
      expect(s.stderr.split('\n').filter((l) => l.includes('new metric name(s)'))).toHaveLength(1);
      s.kill('SIGTERM');
      expect(await s.exited).toBe(0);
    } finally {
      s.kill('SIGKILL');
    }
  });

  it('says a busy loop blocked the event loop and names its collector, instead of blaming the clock', async () => {
    const dir = tmpdir();
    const cfg = writeFiles(dir, { 'sonde.yaml': misbehavingConfig(dir, '  hog: { interval: 500ms, busy: 1500ms, after: 2 }\n  ticker: { interval: 200ms }\n') })['sonde.yaml']!;
    const s = new RunningSonde(['run', '--config', cfg]);
    try {
      await s.until('the skipped windows', () => s.stderr.includes('skipped'));
      await s.until('the hog running again', () => last(s.stdout, 'servers.h.hog.runs')! >= 3);
      const said = s.stderr.split('\n').filter((l) => l.includes('skipped'));
      expect(said.length).toBeGreaterThanOrEqual(1);
      for (const l of said) {
        expect(l).toContain("sonde's event loop was blocked and its timers fired");
        expect(l).toContain('Likely cause: collector hog');
        expect(l).not.toContain('clock jumped');
        expect(l).not.toContain('suspended');
      }
      expect(s.stderr).not.toContain('\\u0000');
      s.kill('SIGTERM');
      expect(await s.exited).toBe(0);
    } finally {
      s.kill('SIGKILL');
    }
  });

  it('says a log error that repeats every interval once, not every interval', async () => {
    const dir = tmpdir();
    const log = path.join(dir, 'app.log');
    // The logs collector's state dir is a file: saving its offsets fails on every run.
    const files = writeFiles(dir, {
      'state/collectors/logs': 'not a directory\n',
      'app.log': 'one\n',
      'sonde.yaml': `hostname: h\nstate_dir: ${dir}/state\nplugin_paths: []\nself_metrics: { enabled: false }\ncollectors:\n  logs: { interval: 100ms, files: [{ path: ${log}, parser: errorlog }] }\nhandlers:\n  stdout: {}\n`,
    });
    const s = new RunningSonde(['run', '--config', files['sonde.yaml']!]);
    try {
      await s.until('the first failed save', () => s.stderr.includes('cannot save the offset'));
      // 15 more runs, each failing the same way.
      await new Promise((r) => setTimeout(r, 1500));
      expect(s.stderr.split('\n').filter((l) => l.includes('cannot save the offset'))).toHaveLength(1);
      s.kill('SIGTERM');
      expect(await s.exited).toBe(0);
    } finally {
      s.kill('SIGKILL');
    }
  });
});
