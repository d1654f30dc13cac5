// `sonde check-config` as an operator runs it (the built bundle): what it refuses with file:line,
// what it only warns about (and refuses with --strict), Diamond's names, and --json.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sonde } from './helpers/sonde.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';

function config(yaml: string): string {
  return writeFiles(tmpdir(), { 'sonde.yaml': yaml })['sonde.yaml']!;
}

const STDOUT = 'handlers:\n  stdout: {}\n';
const INVALID = 'sonde: the config is invalid; nothing was started.';

describe('check-config: a regex pattern naming a capture it does not have', () => {
  const yaml = [
    'plugin_paths: []', //                                              1
    'collectors:', //                                                   2
    '  logs:', //                                                       3
    '    files:', //                                                    4
    '      - path: /var/log/app.log', //                                5
    '        parser: regex', //                                         6
    '        name: app', //                                             7
    '        patterns:', //                                             8
    "          - match: 'status=(?<status>\\d{3}) time=(?<ms>\\d+)'", // 9
    "            counter: 'http_{stauts}'", //                          10
    '            timer:', //                                            11
    '              name: latency_{status}', //                          12
    '              value: mss', //                                      13
    "          - match: 'GET (?<path>\\S+)'", //                       14
    "            gauge: { name: 'size_{path}_{bytes}', value: bytes }", // 15
    "          - match: 'no captures'", //                              16
    '            counter: hits_{kind}', //                              17
    STDOUT,
  ].join('\n');

  it('exits 78 with file:line, the key, the captures it has and what would be sent', () => {
    const f = config(yaml);
    const r = sonde(['check-config', '--config', f]);
    expect(r.status).toBe(78);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      `${f}:10: collectors.logs.files[0].patterns[0].counter: "http_{stauts}" names the capture "stauts", which match does not have; did you mean "status"? (its captures: status, ms). At run time it would be sent as "http_unknown"`,
      `${f}:13: collectors.logs.files[0].patterns[0].timer.value: names the capture "mss", which match does not have; did you mean "ms"? (its captures: status, ms). The timer would never get a figure`,
      `${f}:15: collectors.logs.files[0].patterns[1].gauge.name: "size_{path}_{bytes}" names the capture "bytes", which match does not have (its captures: path). At run time it would be sent as "size_{path}_unknown"`,
      `${f}:15: collectors.logs.files[0].patterns[1].gauge.value: names the capture "bytes", which match does not have (its captures: path). The gauge would never get a figure`,
      `${f}:17: collectors.logs.files[0].patterns[2].counter: "hits_{kind}" names the capture "kind", which match does not have (it has no named captures such as (?<status>\\d+)). At run time it would be sent as "hits_unknown"`,
      `${INVALID} Fix the lines above, then run "sonde check-config --config ${f}".`,
    ]);
  });

  it('accepts templates and values that name the pattern\'s captures, a lookbehind being no capture', () => {
    const f = config(
      [
        'plugin_paths: []',
        'collectors:',
        '  logs:',
        '    files:',
        '      - path: /var/log/app.log',
        '        parser: regex',
        '        patterns:',
        "          - match: '(?<=GET )(?<path>\\S+) (?<status>\\d+) (?<ms>\\d+)'",
        "            counter: 'http_{status}'",
        "            sum: { name: 'ms_{path}', value: ms }",
        STDOUT,
      ].join('\n'),
    );
    const r = sonde(['check-config', '--config', f, '--strict']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${f}: OK\n  collectors: logs\n  handlers: stdout\n`);
  });
});

describe('check-config: warnings, and --strict', () => {
  const hint = (f: string) =>
    `warning: no handler is enabled in ${f}: samples are collected and thrown away. Enable one under handlers: (graphite sends to carbon), check the file with "sonde check-config", then apply it with "systemctl reload sonde" (or SIGHUP)\n`;

  it('no handler enabled: a warning and exit 0; with --strict, exit 78', () => {
    const f = config('plugin_paths: []\ncollectors:\n  cpu: {}\nhandlers:\n  stdout: { enabled: false }\n');
    const r = sonde(['check-config', '--config', f]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(hint(f));
    expect(r.stdout).toBe(`${f}: OK\n  collectors: cpu\n  handlers: none\n`);
    const strict = sonde(['check-config', '--config', f, '--strict']);
    expect(strict.status).toBe(78);
    expect(strict.stderr).toBe(`${hint(f)}sonde check-config: --strict: the warning above counts as errors; fix them (or run without --strict to accept them)\n`);
    expect(strict.stdout).toBe('');
  });

  it('a plugin_paths directory that does not exist: a warning at its line', () => {
    const dir = tmpdir();
    const missing = path.join(dir, 'no-such-plugins');
    const file = path.join(dir, 'a-file');
    const f = writeFiles(dir, { 'sonde.yaml': `plugin_paths:\n  - ${missing}\n  - ${file}\n${STDOUT}`, 'a-file': 'x' })['sonde.yaml']!;
    const r = sonde(['check-config', '--config', f]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(
      `warning: ${f}:2: plugin_paths: the plugin directory ${missing} does not exist: no plugins are loaded from it. Create it, or take it out of plugin_paths\n` +
        `warning: ${f}:3: plugin_paths: the plugin directory ${file} is not a directory: no plugins are loaded from it. Create it, or take it out of plugin_paths\n`,
    );
    const strict = sonde(['check-config', '--config', f, '--strict']);
    expect(strict.status).toBe(78);
    expect(strict.stderr).toContain('--strict: the 2 warnings above count as errors');
    // Once it exists, the warning goes.
    mkdirSync(missing);
    writeFiles(dir, { 'sonde.yaml': `plugin_paths:\n  - ${missing}\n${STDOUT}` });
    expect(sonde(['check-config', '--config', f, '--strict'])).toMatchObject({ status: 0, stderr: '' });
  });

  it('the default /etc/sonde/plugins, written or left out, is no warning when it does not exist (it is absent outside the package)', () => {
    for (const yaml of [STDOUT, `plugin_paths: [/etc/sonde/plugins]\n${STDOUT}`]) {
      const r = sonde(['check-config', '--config', config(yaml), '--strict']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });
});

describe("check-config: Diamond's names", () => {
  it('maps Diamond collector and handler classes and GraphiteHandler options to sonde\'s', () => {
    const f = config(
      [
        'plugin_paths: []', //                                  1
        'collectors:', //                                       2
        '  CPUCollector: {}', //                                3
        '  LoadAverageCollector: {}', //                        4
        'handlers:', //                                         5
        '  diamond.handler.graphite.GraphiteHandler: {}', //    6
        '  GraphitePickleHandler: {}', //                       7
        '  MemoryCollector: {}', //                             8
        '  graphite:', //                                       9
        '    host: carbon.example.net', //                      10
        '    port: 2003', //                                    11
        '    proto: tcp', //                                    12
        '    batch: 256', //                                    13
        '    timeout: 15', //                                   14
        '    max_backlog_multiplier: 5', //                     15
        '  statsd:', //                                         16
        '    host: statsd.example.net', //                      17
      ].join('\n'),
    );
    const r = sonde(['check-config', '--config', f]);
    expect(r.status).toBe(78);
    const C = 'available: cpu, memory, loadavg, diskspace, iostat, vmstat, network, sockets, logs, mysql; run "sonde list"';
    const H = 'available: stdout, graphite, statsd, http, memcached_queue; run "sonde list"';
    expect(r.stderr.trim().split('\n')).toEqual([
      `${f}:3: collectors.CPUCollector: no collector named "CPUCollector"; Diamond's CPUCollector is sonde's "cpu": rename the section cpu: or write type: cpu (${C})`,
      `${f}:4: collectors.LoadAverageCollector: no collector named "LoadAverageCollector"; Diamond's LoadAverageCollector is sonde's "loadavg": rename the section loadavg: or write type: loadavg (${C})`,
      `${f}:6: handlers.diamond.handler.graphite.GraphiteHandler: no handler named "diamond.handler.graphite.GraphiteHandler"; Diamond's diamond.handler.graphite.GraphiteHandler is sonde's "graphite": rename the section graphite: or write type: graphite (${H})`,
      `${f}:7: handlers.GraphitePickleHandler: no handler named "GraphitePickleHandler"; Diamond's GraphitePickleHandler is sonde's "graphite" with protocol: pickle: rename the section graphite: or write type: graphite (${H})`,
      `${f}:8: handlers.MemoryCollector: no handler named "MemoryCollector"; Diamond's MemoryCollector is sonde's collector "memory"; put it under collectors: (${H})`,
      `${f}:10: handlers.graphite.host: unknown key; Diamond's "host" is "destinations" here: destinations: ["<host>:2003"] (host and port together)`,
      `${f}:11: handlers.graphite.port: unknown key; Diamond's "port" is "destinations" here: destinations: ["<host>:<port>"] (host and port together)`,
      `${f}:12: handlers.graphite.proto: unknown key; Diamond's "proto" is "transport" here: transport: tcp or udp`,
      `${f}:13: handlers.graphite.batch: unknown key; Diamond's "batch" is "batch_size" here: batch_size: samples per send`,
      `${f}:14: handlers.graphite.timeout: unknown key; Diamond's "timeout" is "connect_timeout" here: connect_timeout (and send_timeout for a write), a duration such as 15s`,
      `${f}:15: handlers.graphite.max_backlog_multiplier: unknown key; Diamond's "max_backlog_multiplier" is "queue_size" here: queue_size: samples held, not batches`,
      `${f}:17: handlers.statsd.host: unknown key; Diamond's "host" is "destination" here: destination: "<host>:8125" (host and port together)`,
      `${INVALID} Fix the lines above, then run "sonde check-config --config ${f}".`,
    ]);
  });
});

describe('check-config --json', () => {
  it('a valid config: its sections, intervals and warnings, exit 0 (78 with --strict when warned)', () => {
    const f = config('plugin_paths: []\ninterval: 5s\ncollectors:\n  cpu: {}\n  load:\n    type: loadavg\n    interval: 1m\n    timeout: 10s\n    enabled: false\nhandlers:\n  stdout: { enabled: false }\n');
    const r = sonde(['check-config', '--config', f, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      status: 0,
      valid: true,
      files: [f],
      collectors: [
        { section: 'cpu', plugin: 'cpu', enabled: true, interval_ms: 5000, timeout_ms: 5000, path: 'cpu' },
        { section: 'load', plugin: 'loadavg', enabled: false, interval_ms: 60000, timeout_ms: 10000, path: 'loadavg' },
      ],
      handlers: [{ section: 'stdout', plugin: 'stdout', enabled: false }],
      warnings: [
        `no handler is enabled in ${f}: samples are collected and thrown away. Enable one under handlers: (graphite sends to carbon), check the file with "sonde check-config", then apply it with "systemctl reload sonde" (or SIGHUP)`,
      ],
      problems: [],
    });
    const strict = sonde(['check-config', '--config', f, '--json', '--strict']);
    expect(strict.status).toBe(78);
    expect(JSON.parse(strict.stdout)).toMatchObject({ status: 78, valid: true });
  });

  it('an invalid config: every problem with file, line and key, exit 78, nothing on stderr', () => {
    const f = config('intervall: 10s\ncollectors:\n  cpu:\n    percore: maybe\n');
    const r = sonde(['check-config', '--config', f, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(78);
    expect(JSON.parse(r.stdout)).toEqual({
      status: 78,
      valid: false,
      files: [f],
      collectors: [],
      handlers: [],
      warnings: [],
      problems: [
        { file: f, line: 1, key: 'intervall', message: 'unknown key; did you mean "interval"?' },
        { file: f, line: 4, key: 'collectors.cpu.percore', message: 'expected true or false, got "maybe"' },
      ],
    });
  });

  it('a YAML syntax error and a missing file are problems too', () => {
    const bad = config('collectors:\n  cpu: {\n');
    const r = sonde(['check-config', '--config', bad, '--json']);
    expect(r.status).toBe(78);
    const problems = (JSON.parse(r.stdout) as { problems: { file: string; line: number | null; key: string | null }[] }).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: bad, key: null });
    const gone = sonde(['check-config', '--config', '/nonexistent/sonde.yaml', '--json']);
    expect(gone.status).toBe(78);
    expect(JSON.parse(gone.stdout).problems).toEqual([
      { file: '/nonexistent/sonde.yaml', line: null, key: null, message: 'cannot read the config: no such file; pass --config with the path of your sonde.yaml' },
    ]);
  });
});
