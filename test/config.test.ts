import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/read-files.js';
import { loadConfig } from '../src/config/load-config.js';
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
    expect(lines).toEqual([`${paths['sonde.yaml']}:2: collectors.cpuu: no collector named "cpuu"; did you mean "cpu"? (available: cpu, memory, loadavg, diskspace, iostat, vmstat, network, sockets, logs; run "sonde list")`]);
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
    const failures = loaded.registry.failures.map((f) => `${path.basename(f.file)}: ${f.reason.split(':')[0]}`);
    expect(failures).toEqual(['broken.mjs: failed to load', 'nameless.mjs: name must be lower case letters, digits and _ (got undefined)']);
    expect(loaded.config.warnings).toHaveLength(1);
    expect(loaded.config.warnings[0]).toContain('collector "broken" is configured but its plugin');
  });
});
