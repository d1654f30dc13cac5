import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/read-files.js';
import { loadConfig } from '../src/config/load-config.js';
import { markdownReference } from '../src/config/plugin-docs.js';
import { buildRegistry } from '../src/plugins/builtin.js';
import { YamlSyntaxError } from '../src/config/yaml-source.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';

const PLUGINS = path.join(import.meta.dirname, 'fixtures', 'plugins');

/** Loads a config made of `files` (the first is the main file) and returns its error lines. */
async function problems(files: Record<string, string>, env: NodeJS.ProcessEnv = {}): Promise<{ lines: string[]; paths: Record<string, string> }> {
  const dir = tmpdir();
  const paths = writeFiles(dir, files);
  const main = paths[Object.keys(files)[0]!]!;
  try {
    await loadConfig(main, env);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof YamlSyntaxError) return { lines: err.message.split('\n'), paths };
    throw err;
  }
  return { lines: [], paths };
}

const plugins = `plugin_paths: [${PLUGINS}]\n`;

describe('config errors name the file, the line and the key', () => {
  it('a value of the wrong type', async () => {
    const { lines, paths } = await problems({ 'sonde.yaml': 'interval: 10s\ncollectors:\n  cpu:\n    percore: "yes"\n' });
    expect(lines).toEqual([`${paths['sonde.yaml']}:4: collectors.cpu.percore: expected true or false, got "yes"`]);
  });

  it('the port that is not a number, in a drop-in, inside a plugin\'s nested options', async () => {
    const { lines, paths } = await problems({
      'sonde.yaml': plugins,
      'conf.d/mysql.yaml': '# instances\ncollectors:\n  fakedb:\n    instances:\n      m1:\n        port: "33o6"\n',
    });
    expect(lines).toEqual([`${paths['conf.d/mysql.yaml']}:6: collectors.fakedb.instances.m1.port: expected a number, got "33o6"`]);
  });

  it('a misspelt key, with the likely meant one', async () => {
    const { lines, paths } = await problems({ 'sonde.yaml': 'path_prefix: servers\nintervall: 10s\n' });
    expect(lines).toEqual([`${paths['sonde.yaml']}:2: intervall: unknown key; did you mean "interval"?`]);
  });

  it('a value outside a fixed set', async () => {
    const { lines, paths } = await problems({ 'sonde.yaml': 'hostname_method: dns\n' });
    expect(lines).toEqual([
      `${paths['sonde.yaml']}:1: hostname_method: expected one of "smart", "fqdn_short", "fqdn", "hostname", "hostname_short", "uname_short", "shell", "none", got "dns"`,
    ]);
  });

  it('a duration that is not one', async () => {
    const { lines, paths } = await problems({ 'sonde.yaml': 'collectors:\n  loadavg:\n    interval: 10x\n' });
    expect(lines).toEqual([`${paths['sonde.yaml']}:3: collectors.loadavg.interval: expected a duration such as 500ms, 10s, 5m or 1h, got "10x"`]);
  });

  it('a collector that does not exist', async () => {
    const { lines, paths } = await problems({ 'sonde.yaml': 'collectors:\n  cpuu: {}\n' });
    expect(lines).toEqual([`${paths['sonde.yaml']}:2: collectors.cpuu: no collector named "cpuu"; did you mean "cpu"? (available: cpu, memory, loadavg, diskspace, iostat, vmstat, network, sockets, logs, mysql; run "sonde list")`]);
  });

  it('logs: an unknown parser, a parser option of the wrong type, a relative path and two entries with one name', async () => {
    const yaml = [
      'collectors:', //                                   1
      '  logs:', //                                       2
      '    files:', //                                    3
      '      - path: /var/log/mail.log', //               4
      '        parser: PostfxLogster', //                 5
      '      - path: /var/log/app.log', //                6
      '        parser: regex', //                         7
      '        patterns:', //                             8
      "          - match: 'x=(?<x>\\d+)'", //           9
      '            timer: { name: t, value: x, percentiles: [50, 200] }', // 10
      '      - path: var/log/other.log', //               11
      '        parser: metric', //                        12
      '        percentiles: fast', //                     13
      '      - path: /var/log/b.log', //                  14
      '        parser: regex', //                         15
      '        patterns: [{ match: "y", counter: y }]', // 16
    ].join('\n');
    const { lines, paths } = await problems({ 'sonde.yaml': yaml });
    const f = paths['sonde.yaml'];
    expect(lines).toEqual([
      `${f}:5: collectors.logs.files[0].parser: no parser named "PostfxLogster"; did you mean "PostfixLogster"? (available: postfix, PostfixLogster, apache, SampleLogster, squid, SquidLogster, log4j, Log4jLogster, errorlog, ErrorLogLogster, metric, MetricLogster, json, JsonLogster, regex; parser plugins from plugin_paths count too)`,
      `${f}:10: collectors.logs.files[1].patterns[0].timer.percentiles[1]: must be at most 100, got 200`,
      `${f}:11: collectors.logs.files[2].path: must be an absolute path (sonde runs from / under systemd), got "var/log/other.log"`,
      `${f}:13: collectors.logs.files[2].percentiles: expected comma-separated whole numbers such as 90 or 50,90,99`,
      `${f}:15: collectors.logs.files[3].parser: files 1 and 3 would both write regex.*; give one of them a different name: (one entry may name a glob to sum several files)`,
    ]);
  });

  it('a carbon listener listed twice among a sharded handler\'s destinations', async () => {
    const { lines, paths } = await problems({
      'sonde.yaml': 'handlers:\n  carbon:\n    type: graphite\n    mode: shard\n    destinations:\n      - 127.0.0.1:2003\n      - 127.0.0.1:2103\n      - 127.0.0.1:2003\n',
    });
    expect(lines).toEqual([`${paths['sonde.yaml']}:8: handlers.carbon.destinations[2]: 127.0.0.1:2003 is listed twice; list each carbon listener once`]);
  });

  it('a timeout longer than the interval', async () => {
    const { lines, paths } = await problems({ 'sonde.yaml': 'collectors:\n  cpu:\n    interval: 5s\n    timeout: 10s\n' });
    expect(lines).toEqual([`${paths['sonde.yaml']}:4: collectors.cpu.timeout: must not be longer than the interval (5000 ms): runs of one collector never overlap`]);
  });

  it('an environment variable that is not set', async () => {
    const { lines, paths } = await problems({ 'sonde.yaml': 'path_prefix: servers\nhostname: ${SONDE_TEST_UNSET}\n' });
    expect(lines).toEqual([
      `${paths['sonde.yaml']}:2: hostname: environment variable SONDE_TEST_UNSET is not set; set it in the service's environment or write \${SONDE_TEST_UNSET:-default}`,
    ]);
  });

  it('broken YAML', async () => {
    const { lines, paths } = await problems({ 'sonde.yaml': 'interval: 10s\ncollectors:\n  cpu: { enabled: true\n  memory: {}\n' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^${paths['sonde.yaml']!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: invalid YAML: `));
  });

  it('a file that is not a mapping', async () => {
    const { lines, paths } = await problems({ 'sonde.yaml': '- cpu\n- memory\n' });
    expect(lines).toEqual([`${paths['sonde.yaml']}:1: expected a mapping of keys (such as "interval: 10s") at the top level`]);
  });

  it('a config file that does not exist', async () => {
    const dir = tmpdir();
    await expect(loadConfig(path.join(dir, 'nope.yaml'), {})).rejects.toThrow(`${path.join(dir, 'nope.yaml')}: cannot read the config: no such file; pass --config with the path of your sonde.yaml`);
  });

  it('every problem at once, not only the first', async () => {
    const { lines } = await problems({ 'sonde.yaml': 'intervall: 10s\ncollectors:\n  cpu:\n    percore: 1\n  memory:\n    detailed: 2\n' });
    expect(lines).toHaveLength(3);
  });
});

describe('values that parse but are no sensible setting are refused at their own key', () => {
  it('a global interval of 0 is reported at its own line, not at the collector that inherits it', async () => {
    const { lines, paths } = await problems({ 'sonde.yaml': 'interval: 0\ncollectors:\n  cpu: {}\n' });
    expect(lines).toEqual([`${paths['sonde.yaml']}:1: interval: must be at least 100ms, got 0ms`]);
  });

  it('collector intervals and timeouts: zero, negative, ten years', async () => {
    const yaml = [
      'collectors:', //             1
      '  cpu:', //                  2
      '    percore: true', //       3
      '    interval: 0', //         4
      '  memory:', //               5
      '    interval: 3650d', //     6
      '  loadavg:', //              7
      '    interval: -5', //        8
      '  vmstat:', //               9
      '    timeout: 0', //          10
      'self_metrics:', //           11
      '  interval: 50ms', //        12
    ].join('\n');
    const { lines, paths } = await problems({ 'sonde.yaml': yaml });
    const f = paths['sonde.yaml'];
    expect(lines).toEqual([
      `${f}:12: self_metrics.interval: must be at least 100ms, got 50ms`,
      `${f}:4: collectors.cpu.interval: must be at least 100ms, got 0ms`,
      `${f}:6: collectors.memory.interval: must be at most 1d, got 3650d`,
      `${f}:8: collectors.loadavg.interval: must be at least 100ms, got -5s`,
      `${f}:10: collectors.vmstat.timeout: must be at least 10ms, got 0ms`,
    ]);
  });

  it('handler outbox settings: zero delays, empty queues, a 2^53-byte spool, a 2-hour flush', async () => {
    const yaml = [
      'shutdown_timeout: 2d', //                  1
      'handlers:', //                             2
      '  stdout:', //                             3
      '    batch_size: 0', //                     4
      '    flush_interval: 2h', //                5
      '    queue_size: 0', //                     6
      '    send_timeout: 0', //                   7
      '    retry_min: 0', //                      8
      '    retry_max: 400d', //                   9
      '    spool_max_bytes: 9007199254740992', // 10
      '    spool_max_age: 0', //                  11
    ].join('\n');
    const { lines, paths } = await problems({ 'sonde.yaml': yaml });
    const f = paths['sonde.yaml'];
    expect(lines).toEqual([
      `${f}:1: shutdown_timeout: must be at most 1h, got 2d`,
      `${f}:4: handlers.stdout.batch_size: must be at least 1, got 0`,
      `${f}:5: handlers.stdout.flush_interval: must be at most 1h, got 2h`,
      `${f}:6: handlers.stdout.queue_size: must be at least 1, got 0`,
      `${f}:7: handlers.stdout.send_timeout: must be at least 100ms, got 0ms`,
      `${f}:8: handlers.stdout.retry_min: must be at least 10ms, got 0ms`,
      `${f}:9: handlers.stdout.retry_max: must be at most 1d, got 400d`,
      `${f}:10: handlers.stdout.spool_max_bytes: must be at most 1TiB, got 8192TiB`,
      `${f}:11: handlers.stdout.spool_max_age: must be at least 1m, got 0ms`,
    ]);
  });

  it('plugin options: a graphite connect_timeout of 0, a logs max_line_bytes of 0, a statfs_timeout of a day', async () => {
    const yaml = [
      'collectors:', //                           1
      '  logs:', //                               2
      '    max_line_bytes: 0', //                 3
      '    rotate_wait: 30d', //                  4
      '  diskspace:', //                          5
      '    statfs_timeout: 86400', //             6
      'handlers:', //                             7
      '  graphite:', //                           8
      '    connect_timeout: 0', //                9
      '    resend_window: 2h', //                 10
    ].join('\n');
    const { lines, paths } = await problems({ 'sonde.yaml': yaml });
    const f = paths['sonde.yaml'];
    expect(lines).toEqual([
      `${f}:3: collectors.logs.max_line_bytes: must be at least 64B, got 0B`,
      `${f}:4: collectors.logs.rotate_wait: must be at most 1d, got 30d`,
      `${f}:6: collectors.diskspace.statfs_timeout: must be at most 60, got 86400`,
      `${f}:9: handlers.graphite.connect_timeout: must be at least 100ms, got 0ms`,
      `${f}:10: handlers.graphite.resend_window: must be at most 1h, got 2h`,
    ]);
  });

  it('numbers YAML reads but no setting can use: .nan, .inf, a whole number past 2^53, a fraction of a sample', async () => {
    const yaml = [
      'interval: .nan', //                        1
      'handlers:', //                             2
      '  stdout:', //                             3
      '    batch_size: 9007199254740993', //      4
      '    queue_size: .inf', //                  5
      '    spool_max_bytes: -1', //               6
      '  graphite:', //                           7
      '    queue_size: 2.5', //                   8
    ].join('\n');
    const { lines, paths } = await problems({ 'sonde.yaml': yaml });
    const f = paths['sonde.yaml'];
    expect(lines).toEqual([
      `${f}:1: interval: expected a duration such as 500ms, 10s, 5m or 1h, got NaN (not a number)`,
      `${f}:4: handlers.stdout.batch_size: must be at most 1000000, got 9007199254740992`,
      `${f}:5: handlers.stdout.queue_size: expected a number, got Infinity (a number too large to use)`,
      `${f}:6: handlers.stdout.spool_max_bytes: must be at least 16KiB, got -1B`,
      `${f}:8: handlers.graphite.queue_size: expected a whole number, got 2.5`,
    ]);
  });

  it('0 where it means off is accepted: resend_window, shutdown_timeout, rotate_wait, flush_interval', async () => {
    const dir = tmpdir();
    const p = writeFiles(dir, { 'sonde.yaml': 'shutdown_timeout: 0\ncollectors:\n  logs: { rotate_wait: 0 }\nhandlers:\n  graphite: { resend_window: 0, flush_interval: 0 }\n' });
    const { config } = await loadConfig(p['sonde.yaml']!, {});
    expect(config.shutdown_timeout).toBe(0);
    expect(config.collectors[0]!.config.rotate_wait).toBe(0);
    expect(config.handlers[0]!.outbox.resendWindow).toBe(0);
    expect(config.handlers[0]!.outbox.flushInterval).toBe(0);
  });

  it('the range a key accepts is in its help text (the README reference and sonde list)', async () => {
    const doc = markdownReference((await buildRegistry([])).registry);
    expect(doc).toContain('| `interval` | duration | `10s` | Default collection interval for every collector. Range: 100ms to 1d. |');
    expect(doc).toContain('| `retry_min` | duration | `500ms` | First retry delay after a failed send. Range: 10ms to 1h. |');
    expect(doc).toContain('| `queue_size` | number | `100000` | Samples held in memory for this handler before the oldest are dropped (counted and logged). Range: 1 to 10000000. |');
    expect(doc).toMatch(/\| `resend_window` \| duration \| `10s` \| .* 0 turns it off\. Range: at most 1h\. \|/);
  });
});

describe('config files that cannot be used', () => {
  it('a conf.d that is not a directory is an error naming it, not a silent skip', async () => {
    const { lines, paths } = await problems({ 'sonde.yaml': 'interval: 10s\n', 'conf.d': 'collectors: {cpu: {}}\n' });
    expect(lines).toEqual([
      `${paths['conf.d']}: cannot read the drop-in directory: it is not a directory; its drop-ins would be left out. Make it a directory sonde can read, or remove it`,
    ]);
  });

  it('a drop-in that is a directory is refused by name', async () => {
    const dir = tmpdir();
    const p = writeFiles(dir, { 'sonde.yaml': 'interval: 10s\n', 'conf.d/10-cpu.yaml/README': 'a directory named like a drop-in\n' });
    await expect(loadConfig(p['sonde.yaml']!, {})).rejects.toThrow(
      `${dir}/conf.d/10-cpu.yaml: cannot read the drop-in: it is a directory, not a regular file; move it out of conf.d, or make it a YAML file sonde can read`,
    );
  });

  it('a config past 256 KiB is refused unread', async () => {
    const { lines, paths } = await problems({ 'sonde.yaml': `# ${'x'.repeat(300 * 1024)}\ninterval: 10s\n` });
    expect(lines).toEqual([`${paths['sonde.yaml']}: cannot read the config: it is larger than 256 KiB, far more than a config holds (is it the file you meant?); pass --config with the path of your sonde.yaml`]);
  });

  it('an alias inside the value it names, and nesting 40 levels deep, are refused with their line', async () => {
    const a = await problems({ 'sonde.yaml': 'interval: 10s\nloop: &a\n  again: *a\n' });
    expect(a.lines).toEqual([`${a.paths['sonde.yaml']}:3: alias *a is inside the value it names (&a), which would make it endless; write the value out`]);
    const b = await problems({ 'sonde.yaml': `interval: 10s\ndeep: ${'['.repeat(40)}1${']'.repeat(40)}\n` });
    expect(b.lines).toEqual([
      `${b.paths['sonde.yaml']}:2: nested more than 32 levels deep (aliases expanded); a sonde config needs fewer than 10, so the file is refused. Check that it is the file you meant`,
    ]);
  });

  it('aliases count as what they repeat: a small file that expands past 20000 values is refused', async () => {
    // 30 aliases of a 1000-item list: 31 lines, 30031 values once expanded.
    const yaml = `items: &i [${Array.from({ length: 1000 }, () => '1').join(', ')}]\n${Array.from({ length: 30 }, (_, k) => `copy${k}: *i`).join('\n')}\n`;
    const { lines, paths } = await problems({ 'sonde.yaml': yaml });
    expect(lines).toEqual([
      `${paths['sonde.yaml']}:20: more than 20000 keys and values (an alias counts as all it repeats); a sonde config holds a few hundred, so the file is refused. Check that it is the file you meant`,
    ]);
  });

  it('shows the first 100 problems and counts the rest', async () => {
    const yaml = Array.from({ length: 150 }, (_, k) => `unknown_${k}: 1`).join('\n');
    const { lines, paths } = await problems({ 'sonde.yaml': yaml });
    expect(lines).toHaveLength(101);
    expect(lines[0]!.startsWith(`${paths['sonde.yaml']}:1: unknown_0: unknown key; known keys here: path_prefix, path_suffix,`)).toBe(true);
    expect(lines[100]).toBe('... and 50 more problems, not shown; fix the ones above first');
  });
});

describe('config files and values', () => {
  it('merges conf.d drop-ins in name order over the main file', async () => {
    const dir = tmpdir();
    const p = writeFiles(dir, {
      'sonde.yaml': 'interval: 10s\npath_prefix: servers\ncollectors:\n  cpu: { percore: true }\n  memory: {}\n',
      'conf.d/20-late.yaml': 'interval: 30s\n',
      'conf.d/10-early.yaml': 'interval: 20s\ncollectors:\n  cpu: { percore: false }\n',
      'conf.d/README.txt': 'not yaml: [',
      'conf.d/.hidden.yaml': 'interval: 99s\n',
      'conf.d/05-empty.yml': '# nothing here yet\n',
    });
    const { config } = await loadConfig(p['sonde.yaml']!, {});
    expect(config.interval).toBe(30_000);
    expect(config.path_prefix).toBe('servers');
    const cpu = config.collectors.find((c) => c.key === 'cpu')!;
    expect(cpu.config.percore).toBe(false);
    expect(cpu.interval).toBe(30_000);
    expect(config.collectors.map((c) => c.key)).toEqual(['cpu', 'memory']);
    expect(config.files).toEqual([p['sonde.yaml'], p['conf.d/05-empty.yml'], p['conf.d/10-early.yaml'], p['conf.d/20-late.yaml']]);
  });

  it('warns, naming file and line, when queue_size is smaller than one batch', async () => {
    const dir = tmpdir();
    const p = writeFiles(dir, { 'sonde.yaml': 'handlers:\n  stdout:\n    queue_size: 10\n' });
    const { config } = await loadConfig(p['sonde.yaml']!, {});
    expect(config.warnings).toEqual([
      `${p['sonde.yaml']}:3: handlers.stdout.queue_size (10) is smaller than batch_size (1000); using 1000. Lower batch_size too if you meant a small queue`,
    ]);
    expect(config.handlers[0]!.outbox.queueSize).toBe(1000);
  });

  it('reads empty collectors: and handlers: sections as none', async () => {
    const dir = tmpdir();
    const p = writeFiles(dir, { 'sonde.yaml': 'collectors:\nhandlers:\n' });
    const { config } = await loadConfig(p['sonde.yaml']!, {});
    expect(config.collectors).toEqual([]);
    expect(config.handlers).toEqual([]);
  });

  it('substitutes environment variables, with defaults and $${ for a literal', async () => {
    const dir = tmpdir();
    const p = writeFiles(dir, { 'sonde.yaml': 'path_prefix: ${PFX}\npath_suffix: ${SUFFIX:-prod}\nhostname: a$${b}\n' });
    const { config } = await loadConfig(p['sonde.yaml']!, { PFX: 'metrics.dc1' });
    expect(config.path_prefix).toBe('metrics.dc1');
    expect(config.path_suffix).toBe('prod');
    expect(config.hostname).toBe('a${b}');
  });

  it('reads <key>_file secrets, trimming the final newline', async () => {
    const dir = tmpdir();
    const p = writeFiles(dir, {
      'sonde.yaml': `${plugins}collectors:\n  fakedb:\n    instances:\n      m1: { port: 3306, password_file: ${dir}/secret }\n`,
      secret: 's3cr3t pass\n',
    });
    const { config } = await loadConfig(p['sonde.yaml']!, {});
    const inst = (config.collectors[0]!.config.instances as Record<string, { password?: string }>).m1!;
    expect(inst.password).toBe('s3cr3t pass');
  });

  it('refuses a secret given both inline and as a file, and a secret file that is missing', async () => {
    const dir = tmpdir();
    const { lines, paths } = await problems({
      'sonde.yaml': `${plugins}collectors:\n  fakedb:\n    instances:\n      m1: { port: 1, password: x, password_file: /etc/hostname }\n      m2:\n        port: 2\n        password_file: ${dir}/missing\n`,
    });
    const f = paths['sonde.yaml'];
    expect(lines).toEqual([
      `${f}:5: collectors.fakedb.instances.m1.password_file: set either password or password_file, not both`,
      `${f}:8: collectors.fakedb.instances.m2.password_file: cannot read ${dir}/missing: no such file`,
    ]);
  });

  it('reports a plugin that fails to load with its file and reason, and loads the rest', async () => {
    const dir = tmpdir();
    const p = writeFiles(dir, {
      'plugins/broken.mjs': 'export default (api) => api.defineCollector({ name: "broken", description: "x", schema: api.z.object({}), collect() {} ',
      'plugins/nameless.mjs': 'export default { kind: "collector", description: "x" };',
      'plugins/good.mjs': `export default (api) => api.defineCollector({ name: 'good', description: 'A good one.', schema: api.z.object({}), collect(ctx) { ctx.emit('x', 1); } });`,
      'sonde.yaml': `plugin_paths: [${dir}/plugins]\ncollectors:\n  good: {}\n  broken: {}\n  cpu: {}\n`,
    });
    const loaded = await loadConfig(p['sonde.yaml']!, {});
    expect(loaded.config.collectors.map((c) => c.key)).toEqual(['good', 'cpu']);
    const failures = loaded.registry.failures.map((f) => [path.basename(f.file), f.line, f.reason]);
    expect(failures).toEqual([
      ['broken.mjs', 1, 'failed to load: syntax error: Unexpected end of input'],
      ['nameless.mjs', undefined, "collector without a name: add name: 'my_app' (lower case letters, digits and _), the name of its config section"],
    ]);
    expect(loaded.config.warnings).toEqual([
      `${p['sonde.yaml']}:4: collectors.broken: the collector plugin at ${dir}/plugins/broken.mjs:1 failed to load: syntax error: Unexpected end of input. This collector does not run (the rest of the agent does); fix that file, or remove this section`,
    ]);
    expect(loaded.config.unloaded).toEqual(loaded.config.warnings);
  });
});
