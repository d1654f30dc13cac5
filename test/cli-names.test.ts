// Names looked up on the command line: "did you mean", `sonde list NAME` and `--json`, the
// command list of bare `sonde`, and `sonde completion` loaded into a real bash (and zsh -n).
import { spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE, sonde } from './helpers/sonde.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';

const NO_CONFIG = ['--config', '/nonexistent/sonde.yaml'];
const COLLECTORS = 'cpu, memory, loadavg, diskspace, iostat, vmstat, network, sockets, logs, mysql';

describe('did you mean', () => {
  it('sonde collect: a misspelt collector, exit 64', () => {
    const r = sonde(['collect', 'memroy']);
    expect(r.status).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`sonde collect: no collector named "memroy"; did you mean "memory"? (available: ${COLLECTORS}; a plugin file is named by its path, e.g. ./my-collector.mjs)\n`);
  });

  it("sonde collect: Diamond's class name", () => {
    const r = sonde(['collect', 'DiskUsageCollector']);
    expect(r.status).toBe(64);
    expect(r.stderr).toBe(`sonde collect: no collector named "DiskUsageCollector"; Diamond's DiskUsageCollector is sonde's "iostat" (available: ${COLLECTORS}; a plugin file is named by its path, e.g. ./my-collector.mjs)\n`);
  });

  it('sonde list NAME: a misspelt plugin, exit 64', () => {
    const r = sonde(['list', 'grahpite', ...NO_CONFIG]);
    expect(r.status).toBe(64);
    expect(r.stderr).toBe('sonde list: no collector, handler or parser named "grahpite" (did you mean "graphite"?); "sonde list" shows them all\n');
    const far = sonde(['list', 'zzzzzz', ...NO_CONFIG]);
    expect(far.stderr).toBe('sonde list: no collector, handler or parser named "zzzzzz"; "sonde list" shows them all\n');
  });

  it("sonde logster: a misspelt parser, Logster's usage error (exit 2)", () => {
    const dir = tmpdir();
    const log = writeFiles(dir, { 'mail.log': '' })['mail.log']!;
    const r = sonde(['logster', '-o', 'stdout', '-s', dir, 'PostfixLoster', log]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      'sonde logster: error: unknown parser PostfixLoster (did you mean "PostfixLogster"?); built-in parsers: postfix/PostfixLogster, apache/SampleLogster, squid/SquidLogster, log4j/Log4jLogster, errorlog/ErrorLogLogster, metric/MetricLogster, json/JsonLogster, regex. For a parser plugin, give its file (./PostfixLoster.mjs), or --config FILE to find it in that config\'s plugin_paths\n',
    );
  });
});

describe('sonde logster -o', () => {
  it("a misspelt output, with or without a --config whose handlers count as outputs", () => {
    const dir = tmpdir();
    const files = writeFiles(dir, { 'mail.log': '', 'sonde.yaml': 'plugin_paths: []\nhandlers:\n  carbon_dr:\n    type: graphite\n' });
    const r = sonde(['logster', '-o', 'graphit', '-s', dir, '-l', dir, 'PostfixLogster', files['mail.log']!]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('sonde logster: error: unknown output graphit (did you mean "graphite"?): use stdout, graphite, statsd, ganglia or nsca, or name a handler of a sonde config with --config FILE\n');
    const c = sonde(['logster', '--config', files['sonde.yaml']!, '-o', 'carbon_d', '-s', dir, '-l', dir, 'PostfixLogster', files['mail.log']!]);
    expect(c.status).toBe(2);
    expect(c.stderr).toContain(`unknown output carbon_d (did you mean "carbon_dr"?): it is not one of Logster's (stdout, graphite, statsd, ganglia, nsca) and ${files['sonde.yaml']} has no handler section named carbon_d (it has: carbon_dr)`);
  });
});

describe('sonde list', () => {
  it('NAME: one plugin, its kind, description, options and the keys its section shares', () => {
    const r = sonde(['list', 'cpu', ...NO_CONFIG]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      [
        'collector cpu',
        '  CPU time per state (user, system, iowait, ...) from /proc/stat, in percent of one CPU, total and per core.',
        '',
        'options:',
        '  percore (boolean, default true): Also publish cpu<N>.<state> for every core.',
        '  source (one of auto | proc | systeminformation, default auto): auto: /proc where it exists, systeminformation elsewhere (macOS); or force one.',
        '  normalize (boolean, default false): Divide the totals by the number of CPUs, so total.idle tops out at 100 instead of 100 x CPUs.',
        '',
        'keys every collector section accepts:',
        '  enabled (boolean, default true): Run this collector.',
        '  type (string): The collector plugin, when the section name is not its name.',
        '  interval (duration): Defaults to the global interval. Range: 100ms to 1d.',
        '  timeout (duration): A run that takes longer is abandoned; defaults to the interval, and may not be longer. Range: 10ms to 1d.',
        "  path (string): Metric path below the host; defaults to the collector's own.",
        '  max_names (number): Overrides max_names_per_collector for this collector. Range: 1 to 1000000.',
        '',
      ].join('\n'),
    );
  });

  it("NAME: a handler's shared keys show its own outbox defaults; a parser by its Logster name", () => {
    const stdout = sonde(['list', 'stdout', ...NO_CONFIG]);
    expect(stdout.stdout).toContain('  flush_interval (duration, default 200ms): ');
    expect(stdout.stdout).toContain('  spool (boolean, default false): ');
    const graphite = sonde(['list', 'graphite', ...NO_CONFIG]);
    expect(graphite.stdout).toContain('  flush_interval (duration, default 1s): ');
    expect(graphite.stdout).toContain('  spool (boolean, default true): ');
    const parser = sonde(['list', 'SampleLogster', ...NO_CONFIG]);
    expect(parser.status).toBe(0);
    expect(parser.stdout.split('\n')[0]).toBe('parser apache (Logster: SampleLogster)');
  });

  it('--options: the keys every collector and handler section shares are listed too', () => {
    const r = sonde(['list', '--options', ...NO_CONFIG]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('keys every collector section accepts:\n    enabled (boolean, default true): Run this collector.\n');
    for (const k of ['batch_size (number)', 'flush_interval (duration)', 'queue_size (number, default 100000)', 'spool_max_bytes (size, default 1GiB)']) expect(r.stdout).toContain(`\n    ${k}`);
  });

  it('--json: every plugin with its options, and the global keys', () => {
    const r = sonde(['list', '--json', ...NO_CONFIG]);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as {
      global_options: { key: string }[];
      collectors: { kind: string; name: string; options: { key: string; default: string }[]; shared_options: { key: string }[] }[];
      handlers: { name: string }[];
      parsers: { name: string; aliases: string[] }[];
      not_loaded: unknown[];
    };
    expect(j.global_options.map((o) => o.key)).toContain('max_names_per_collector');
    expect(j.collectors.map((c) => c.name)).toEqual(COLLECTORS.split(', '));
    expect(j.handlers.map((h) => h.name)).toEqual(['stdout', 'graphite', 'statsd', 'http', 'memcached_queue']);
    expect(j.parsers.find((p) => p.name === 'postfix')?.aliases).toEqual(['PostfixLogster']);
    const cpu = j.collectors[0]!;
    expect(cpu.kind).toBe('collector');
    expect(cpu.options).toContainEqual({ key: 'percore', type: 'boolean', default: 'true', help: 'Also publish cpu<N>.<state> for every core.' });
    expect(cpu.shared_options.map((o) => o.key)).toEqual(['enabled', 'type', 'interval', 'timeout', 'path', 'max_names']);
    expect(j.not_loaded).toEqual([]);
    const one = JSON.parse(sonde(['list', 'mysql', '--json', ...NO_CONFIG]).stdout) as { name: string; options: { key: string }[] };
    expect(one.name).toBe('mysql');
    // The keys of each entry of a mapping of named entries.
    expect(one.options.map((o) => o.key)).toContain('instances.<name>.socket');
  });
});

describe('bare sonde', () => {
  it('lists every command, logster and completion included, and exits 64', () => {
    const r = sonde([]);
    expect(r.status).toBe(64);
    for (const cmd of ['run', 'once', 'collect <collector>', 'logster', 'info', 'check-config', 'config [sections..]', 'list [name]', 'completion']) {
      expect(r.stderr).toMatch(new RegExp(`\\n  sonde ${cmd.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `));
    }
    expect(r.stderr).toContain('sonde: name a command (listed above); "sonde COMMAND --help" tells more about one.\n');
  });
});

describe('sonde completion', () => {
  /** A `sonde` on PATH, as the package installs it. */
  function onPath(): string {
    const bin = path.join(tmpdir(), 'bin');
    const f = writeFiles(bin, { sonde: `#!/bin/sh\nexec "${process.execPath}" "${BUNDLE}" "$@"\n` }).sonde!;
    chmodSync(f, 0o755);
    return bin;
  }

  /** What bash offers after `words` with the script loaded (the last word is the one being completed). */
  function bashCompletes(script: string, words: string[]): string[] {
    const quoted = words.map((w) => `'${w}'`).join(' ');
    const r = spawnSync('bash', ['-c', `source "$1"; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _sonde_yargs_completions; printf '%s\\n' "\${COMPREPLY[@]}"`, 'bash', script], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${onPath()}:${process.env.PATH}` },
    });
    expect(r.stderr).toBe('');
    return r.stdout.split('\n').filter(Boolean);
  }

  it('prints a bash script that bash -n accepts and that completes commands, options and plugin names', () => {
    const r = sonde(['completion'], { SHELL: '/bin/bash' });
    expect(r.status).toBe(0);
    const script = writeFiles(tmpdir(), { 'sonde.bash': r.stdout })['sonde.bash']!;
    const syntax = spawnSync('bash', ['-n', script], { encoding: 'utf8' });
    expect(syntax.stderr).toBe('');
    expect(syntax.status).toBe(0);
    expect(bashCompletes(script, ['sonde', 'ch'])).toEqual(['check-config']);
    expect(bashCompletes(script, ['sonde', 'co']).sort()).toEqual(['collect', 'completion', 'config']);
    expect(bashCompletes(script, ['sonde', 'lo'])).toEqual(['logster']);
    expect(bashCompletes(script, ['sonde', 'collect', 'm']).sort()).toEqual(['memory', 'mysql']);
    expect(bashCompletes(script, ['sonde', 'list', 'Postfix'])).toEqual(['PostfixLogster']);
    expect(bashCompletes(script, ['sonde', 'config', 'cpu', 'gr'])).toEqual(['graphite']);
    expect(bashCompletes(script, ['sonde', 'check-config', '--st'])).toEqual(['--strict']);
  });

  it('--help describes the command rather than printing the script', () => {
    const r = sonde(['completion', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^sonde completion\n\nPrint a bash or zsh completion script/);
    expect(r.stdout).not.toContain('_sonde_yargs_completions');
  });

  it('prints a zsh script for a zsh user that zsh -n accepts', () => {
    const r = sonde(['completion'], { SHELL: '/usr/bin/zsh' });
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('#compdef sonde');
    const script = writeFiles(tmpdir(), { '_sonde': r.stdout })._sonde!;
    const syntax = spawnSync('zsh', ['-n', script], { encoding: 'utf8' });
    expect(syntax.error).toBeUndefined();
    expect(syntax.stderr).toBe('');
    expect(syntax.status).toBe(0);
  });
});
