// `sonde config [SECTION...]`: the complete commented config, checked the way an operator would
// use it: written to a file and handed to check-config and once, unchanged.
import path from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { sonde } from './helpers/sonde.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';

const FIX = path.join(import.meta.dirname, 'fixtures');

/** `sonde config ARGS` written to a file (no --config: the config in force plays no part). */
function printed(args: string[]): { file: string; text: string } {
  const r = sonde(['config', ...args]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return { file: writeFiles(tmpdir(), { 'sonde.yaml': r.stdout })['sonde.yaml']!, text: r.stdout };
}

/** The keys a block of YAML sets or shows commented (`# key:`), in order. */
function keysShown(text: string, indent: string): string[] {
  const re = new RegExp(`^${indent}(?:# )?([a-z_]+):`, 'gm');
  return [...text.matchAll(re)].map((m) => m[1]!);
}

// Written out from the README's reference tables (the keys sonde documents), not from the schemas.
const GLOBAL_KEYS = ['path_prefix', 'path_suffix', 'hostname', 'hostname_method', 'interval', 'state_dir', 'plugin_paths', 'proc_root', 'sys_root', 'log_level', 'max_names_per_collector', 'shutdown_timeout', 'self_metrics'];
const COLLECTOR_KEYS = ['interval', 'timeout', 'path', 'max_names'];
const HANDLER_KEYS = ['batch_size', 'flush_interval', 'queue_size', 'send_timeout', 'retry_min', 'retry_max', 'spool', 'spool_max_bytes', 'spool_max_age'];

describe('sonde config', () => {
  it('prints every global key, every plugin section and the keys each section shares; check-config accepts it as it is', () => {
    const { file, text } = printed([]);
    expect(keysShown(text, '')).toEqual([...GLOBAL_KEYS, 'collectors', 'handlers']);
    const doc = load(text) as Record<string, Record<string, Record<string, unknown>>>;
    expect(Object.keys(doc.collectors!)).toEqual(['cpu', 'memory', 'loadavg', 'diskspace', 'iostat', 'vmstat', 'network', 'sockets', 'logs', 'mysql']);
    // http needs a url only the operator knows: its section is there, commented.
    expect(Object.keys(doc.handlers!)).toEqual(['stdout', 'graphite', 'statsd', 'memcached_queue']);
    expect(text).toContain('\n  # http:\n');
    expect(text).toContain('  ## Set url and remove the "# " before the keys below to use it.\n');
    // The cpu section: its options with their defaults and help, then the shared keys.
    const cpu = text.slice(text.indexOf('\n  cpu:\n'), text.indexOf('\n  memory:\n'));
    expect(cpu).toContain('    ## Also publish cpu<N>.<state> for every core. (boolean)\n    percore: true\n');
    expect(keysShown(cpu, '    ')).toEqual(['enabled', 'percore', 'source', 'normalize', ...COLLECTOR_KEYS]);
    for (const name of ['stdout', 'graphite', 'statsd', 'memcached_queue']) {
      const at = text.indexOf(`\n  ${name}:\n`);
      const block = text.slice(at, text.indexOf('\n\n', at + 1));
      expect(keysShown(block, '    ').slice(-HANDLER_KEYS.length)).toEqual(HANDLER_KEYS);
    }
    // A handler's own outbox defaults: stdout flushes every 200ms and keeps no spool.
    expect(text).toContain('    # flush_interval: 200ms\n');
    expect(text).toContain('    # spool: false\n');
    // Values as an operator would write them, with Diamond's defaults.
    expect(doc.interval).toBe('10s');
    expect(doc.collectors!.diskspace!.exclude_filters).toEqual(['^/export/home']);
    expect(doc.handlers!.graphite!.destinations).toEqual(['127.0.0.1:2003']);
    // mysql's instances are shown as a commented example of one entry.
    expect(text).toContain('      # NAME:\n');
    expect(text).toMatch(/\n {8}# socket:\n/);

    const check = sonde(['check-config', '--config', file, '--strict']);
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    // Sections that need entries or a destination are written disabled; stdout works with no server.
    expect(check.stdout).toBe(`${file}: OK\n  collectors: cpu, memory, loadavg, diskspace, iostat, vmstat, network, sockets\n  handlers: stdout\n`);
  });

  it('runs: sonde once with it (a recorded /proc, memory and stdout left enabled) prints the samples', () => {
    const { text } = printed([]);
    const dir = tmpdir();
    const edited = text
      .replace('\nstate_dir: /var/lib/sonde\n', `\nstate_dir: ${dir}/state\n`)
      .replace('\nproc_root: /proc\n', `\nproc_root: ${path.join(FIX, 'proc', 'e2e-0')}\n`)
      .replace('\n# hostname:\n', '\nhostname: web01\n')
      .replace(/(\n {2}(?!memory:|stdout:)[a-z]+:\n {4}## [^\n]*\n {4}enabled:) true/g, '$1 false');
    const r = sonde(['once', '--config', writeFiles(dir, { 'sonde.yaml': edited })['sonde.yaml']!]);
    expect(r.status).toBe(0);
    // 16000000 kB in the recorded meminfo, in bytes (the golden case says so too).
    expect(r.stdout).toMatch(/^servers\.web01\.memory\.MemTotal 16384000000 \d+$/m);
    expect(r.stdout).not.toMatch(/\.cpu\./);
  });

  it('SECTIONs: only those sections, enabled, as a drop-in check-config accepts alone', () => {
    const { file, text } = printed(['cpu', 'graphite', 'logs']);
    expect(keysShown(text, '')).toEqual(['collectors', 'handlers']);
    const doc = load(text) as Record<string, Record<string, Record<string, unknown>>>;
    expect(Object.keys(doc.collectors!)).toEqual(['cpu', 'logs']);
    expect(doc.collectors!.logs!.enabled).toBe(true);
    expect(Object.keys(doc.handlers!)).toEqual(['graphite']);
    const check = sonde(['check-config', '--config', file]);
    expect(check.status).toBe(0);
    expect(check.stdout).toBe(`${file}: OK\n  collectors: cpu, logs\n  handlers: graphite\n`);

    const global = printed(['global']);
    expect(keysShown(global.text, '')).toEqual(GLOBAL_KEYS);
    expect(sonde(['check-config', '--config', global.file]).status).toBe(0);
  });

  it('every section named at once is a valid config too', () => {
    const names = ['global', 'cpu', 'memory', 'loadavg', 'diskspace', 'iostat', 'vmstat', 'network', 'sockets', 'logs', 'mysql', 'stdout', 'graphite', 'statsd', 'http', 'memcached_queue'];
    const { file } = printed(names);
    const check = sonde(['check-config', '--config', file, '--strict']);
    expect(check.stderr).toBe('');
    expect(check.stdout).toBe(`${file}: OK\n  collectors: cpu, memory, loadavg, diskspace, iostat, vmstat, network, sockets, logs, mysql\n  handlers: stdout, graphite, statsd, memcached_queue\n`);
  });

  it('writes plugin_paths of the --config it read, and the plugins found there', () => {
    const dir = tmpdir();
    const plugins = path.join(FIX, 'plugins-e2e');
    const f = writeFiles(dir, { 'sonde.yaml': `plugin_paths: [${plugins}]\nhandlers:\n  stdout: {}\n` })['sonde.yaml']!;
    const r = sonde(['config', '--config', f]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`\nplugin_paths: [${plugins}]\n`);
    expect(r.stdout).toMatch(/\n {2}## collector ticker \(.*ticker\.mjs\): /);
    const out = writeFiles(dir, { 'generated.yaml': r.stdout })['generated.yaml']!;
    expect(sonde(['check-config', '--config', out]).status).toBe(0);
  });

  it("a plugin's section that its own schema refuses as written is printed commented, with the reason", () => {
    const dir = tmpdir();
    writeFiles(dir, {
      'plugins/needy.mjs': [
        'export default (api) => api.defineCollector({',
        "  name: 'needy',",
        "  description: 'Pings a target it must be told',",
        "  schema: api.z.object({ target: api.z.object({ host: api.z.string().describe('Where to ping') }).prefault({}).describe('The target') }),",
        '  collect() {},',
        '});',
      ].join('\n'),
    });
    const f = writeFiles(dir, { 'sonde.yaml': `plugin_paths: [${dir}/plugins]\n` })['sonde.yaml']!;
    const r = sonde(['config', '--config', f]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('  ## As written, check-config would refuse it (target.host: ');
    expect(r.stdout).toContain('\n  # needy:\n');
    expect(r.stdout).toContain('\n    # target: {}\n      ## Where to ping (string, required)\n      # host:\n');
    const out = writeFiles(dir, { 'generated.yaml': r.stdout })['generated.yaml']!;
    const check = sonde(['check-config', '--config', out]);
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('a --config it is told to read must be valid (exit 78, its problems at their lines)', () => {
    const f = writeFiles(tmpdir(), { 'sonde.yaml': 'plugin_paths: /not/a/list\n' })['sonde.yaml']!;
    const r = sonde(['config', '--config', f]);
    expect(r.status).toBe(78);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${f}:1: plugin_paths: expected a list, got "/not/a/list"`);
  });

  it('an unknown SECTION: exit 64, the closest name, and what SECTION may be', () => {
    const r = sonde(['config', 'cpuu']);
    expect(r.status).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'sonde config: no collector or handler named "cpuu" (did you mean "cpu"?); SECTION is one of: global, cpu, memory, loadavg, diskspace, iostat, vmstat, network, sockets, logs, mysql, stdout, graphite, statsd, http, memcached_queue\n',
    );
    const diamond = sonde(['config', 'GraphiteHandler']);
    expect(diamond.status).toBe(64);
    expect(diamond.stderr).toContain('no collector or handler named "GraphiteHandler" (Diamond\'s GraphiteHandler is sonde\'s "graphite")');
    const parser = sonde(['config', 'postfix']);
    expect(parser.status).toBe(64);
    expect(parser.stderr).toContain('postfix is a parser: its options go in a logs collector entry (sonde config logs, sonde list postfix)');
  });
});
