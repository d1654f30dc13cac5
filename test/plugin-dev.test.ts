// Running a plugin while writing it: `sonde collect ./plugin.mjs --config cfg` with the plugin's
// section and `--set key=value`, `--parser-options` typed by the parser's schema, and
// `sonde logster --config cfg NAME` finding a parser plugin of plugin_paths by name.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sonde } from './helpers/sonde.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';

// A collector that prints its options as figures: what it was given shows on stdout.
const ECHO = `export default (api) =>
  api.defineCollector({
    name: 'echo',
    description: 'Emits its own options.',
    schema: api.z.object({
      count: api.z.number().int().min(1).default(1),
      loud: api.z.boolean().default(false),
      names: api.z.array(api.z.string()).default(['a']),
      wait: api.duration().prefault('1s'),
      label: api.z.string().default('none'),
    }),
    collect(ctx) {
      for (const n of ctx.config.names) ctx.emit(n, ctx.config.count);
      ctx.emit('loud', ctx.config.loud ? 1 : 0);
      ctx.emit('wait_ms', ctx.config.wait);
      ctx.emit(['label', ctx.config.label], 1);
    },
  });
`;

function setup(section = '') {
  const dir = tmpdir();
  const p = writeFiles(dir, {
    'dev/echo.mjs': ECHO,
    'sonde.yaml': `hostname: h\nstate_dir: ${dir}/state\nplugin_paths: []\ncollectors:\n${section}`,
  });
  return { dir, plugin: p['dev/echo.mjs']!, config: p['sonde.yaml']! };
}

/** The figures of one run, without timestamps. */
function figures(stdout: string): string[] {
  return stdout
    .trim()
    .split('\n')
    .map((l) => l.split(' ').slice(0, 2).join(' '));
}

describe('sonde collect ./plugin.mjs', () => {
  it('uses the plugin\'s section of --config, though plugin_paths does not have the file', () => {
    const t = setup('  echo: { count: 7, names: [x, y], label: cfg }\n');
    const r = sonde(['collect', t.plugin, '-n', '1', '--config', t.config]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(figures(r.stdout)).toEqual(['servers.h.echo.x 7', 'servers.h.echo.y 7', 'servers.h.echo.loud 0', 'servers.h.echo.wait_ms 1000', 'servers.h.echo.label.cfg 1']);
  });

  it('uses a section that names it by type, and its path', () => {
    const t = setup('  mine: { type: echo, path: app.echo, count: 2 }\n');
    const r = sonde(['collect', t.plugin, '-n', '1', '--config', t.config]);
    expect(r.status).toBe(0);
    expect(figures(r.stdout)[0]).toBe('servers.h.app.echo.a 2');
  });

  it('sets options with --set over the section, typed as the schema expects', () => {
    const t = setup('  echo: { count: 7, label: cfg }\n');
    const r = sonde(['collect', t.plugin, '-n', '1', '--config', t.config, '--set', 'count=9', '--set', 'loud=true', '--set', 'names=p,q', '--set', 'wait=250ms']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // label stays as the config has it.
    expect(figures(r.stdout)).toEqual(['servers.h.echo.p 9', 'servers.h.echo.q 9', 'servers.h.echo.loud 1', 'servers.h.echo.wait_ms 250', 'servers.h.echo.label.cfg 1']);
  });

  it('takes --set without a config, a list as JSON, and the last of a repeated key', () => {
    const t = setup();
    const r = sonde(['collect', t.plugin, '-n', '1', '--set', 'names=["one two","x"]', '--set', 'count=2', '--set', 'count=3', '--set', 'label=a=b']);
    expect(r.stderr).toBe('');
    expect(figures(r.stdout)).toEqual(['servers.' + figures(r.stdout)[0]!.split('.')[1] + '.echo.one_two 3', expect.stringMatching(/\.echo\.x 3$/), expect.stringMatching(/\.echo\.loud 0$/), expect.stringMatching(/\.echo\.wait_ms 1000$/), expect.stringMatching(/\.echo\.label\.a=b 1$/)]);
  });

  it('refuses an unknown key or a value the schema refuses as a usage error (64) naming the key', () => {
    const t = setup('  echo: {}\n');
    const cases: [string[], string][] = [
      [['--set', 'cuont=3'], 'sonde collect: --set cuont=...: collector echo has no option "cuont"; did you mean "count"? (its options: count, loud, names, wait, label; and every collector\'s interval, timeout, path, max_names)\n'],
      [['--set', 'count=many'], 'sonde collect: --set count=many: Invalid input: expected number, received string\n'],
      [['--set', 'count=0'], 'sonde collect: --set count=0: Too small: expected number to be >=1\n'],
      [['--set', 'loud=maybe'], 'sonde collect: --set loud=maybe: Invalid input: expected boolean, received string\n'],
      [['--set', 'wait=forever'], 'sonde collect: --set wait=forever: expected a duration such as 500ms, 10s, 5m or 1h, got "forever"\n'],
      [['--set', 'count'], 'sonde collect: --set "count" is not key=value (e.g. --set count=3)\n'],
      [['--set', '__proto__=1'], 'sonde collect: --set __proto__=...: collector echo has no option "__proto__" (its options: count, loud, names, wait, label; and every collector\'s interval, timeout, path, max_names)\n'],
      [['--set', 'toString=x'], 'sonde collect: --set toString=...: collector echo has no option "toString" (its options: count, loud, names, wait, label; and every collector\'s interval, timeout, path, max_names)\n'],
      [['--set', 'type=cpu'], 'sonde collect: --set type=...: collector echo has no option "type" (its options: count, loud, names, wait, label; and every collector\'s interval, timeout, path, max_names)\n'],
    ];
    // Each case with the config's section; the first two without a config too.
    for (const [i, [args, said]] of cases.entries()) {
      for (const withConfig of i < 2 ? [true, false] : [true]) {
        const r = sonde(['collect', t.plugin, '-n', '1', ...(withConfig ? ['--config', t.config] : []), ...args]);
        expect({ args, withConfig, stderr: r.stderr, status: r.status }).toEqual({ args, withConfig, stderr: said, status: 64 });
        expect(r.stdout).toBe('');
      }
    }
  }, 60_000);

  it('sets a core key of the section (path) with --set too', () => {
    const t = setup();
    const r = sonde(['collect', t.plugin, '-n', '1', '--set', 'path=x.y']);
    expect(r.status).toBe(0);
    expect(figures(r.stdout)[0]).toMatch(/^servers\.[^.]+\.x\.y\.a 1$/);
  });

  it('says so when the config\'s section for the plugin is invalid (78, with the line)', () => {
    const t = setup('  echo:\n    count: lots\n');
    const r = sonde(['collect', t.plugin, '-n', '1', '--config', t.config]);
    expect(r.status).toBe(78);
    expect(r.stderr.split('\n')[0]).toBe(`${t.config}:6: collectors.echo.count: expected a number, got "lots"`);
  });
});

// A parser plugin: counts lines containing a word, times a scale; its flags have a number, a
// boolean and a list of numbers.
const APPLOG = `export default (api) =>
  api.defineParser({
    name: 'applog',
    description: 'Counts lines with a word.',
    schema: api.z.object({
      word: api.z.string().default('ERROR'),
      scale: api.z.number().default(1),
      upper: api.z.boolean().default(false),
      weights: api.z.array(api.z.number()).default([]),
    }),
    flags: [
      { long: '--word', short: '-w', key: 'word' },
      { long: '--scale', short: '-s', key: 'scale' },
      { long: '--upper', short: '-u', key: 'upper' },
      { long: '--weights', key: 'weights' },
    ],
    create(o) {
      let n = 0;
      const word = o.upper ? o.word.toUpperCase() : o.word;
      return {
        parseLine(line) { if (line.includes(word)) n++; },
        report() {
          const r = [{ name: 'count', value: n * o.scale }, { name: 'weights', value: o.weights.reduce((a, b) => a + b, 0) }];
          n = 0;
          return r;
        },
      };
    },
  });
`;

function logsterSetup() {
  const dir = tmpdir();
  const p = writeFiles(dir, {
    'plugins/applog.mjs': APPLOG,
    'app.log': 'ERROR a\nok\nwarn b\nERROR c\n',
    'sonde.yaml': `plugin_paths: [${dir}/plugins]\nstate_dir: ${dir}/state\n`,
  });
  const run = (args: string[]) => sonde(['logster', '-s', path.join(dir, 'st'), '-l', path.join(dir, 'lg'), '--from-start', '--dry-run', '-o', 'stdout', ...args]);
  return { dir, p, run };
}

describe('sonde logster with a parser plugin', () => {
  it('finds it by name through the plugin_paths of --config', () => {
    const t = logsterSetup();
    const r = t.run(['--config', t.p['sonde.yaml']!, 'applog', t.p['app.log']!]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').map((l) => l.split(' ').slice(1).join(' '))).toEqual(['count 2', 'weights 0', '']);
  });

  it('types --parser-options by the schema: numbers, booleans, lists', () => {
    const t = logsterSetup();
    const r = t.run(['--config', t.p['sonde.yaml']!, '--parser-options', '-s 100 -w error -u true --weights 1,2,3.5', 'applog', t.p['app.log']!]);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').map((l) => l.split(' ').slice(1).join(' '))).toEqual(['count 200', 'weights 6.5', '']);
  });

  it('refuses an option value the schema refuses, naming the flag (exit 2)', () => {
    const t = logsterSetup();
    const r = t.run(['--parser-options', '-s lots', t.p['plugins/applog.mjs']!, t.p['app.log']!]);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n').at(-2)).toBe('sonde logster: error: parser applog: -s/--scale (scale): Invalid input: expected number, received string; check --parser-options');
  });

  it('says where to look for an unknown name, with and without --config', () => {
    const t = logsterSetup();
    const without = t.run(['applog', t.p['app.log']!]);
    expect(without.status).toBe(2);
    expect(without.stderr.split('\n').at(-2)).toBe(
      'sonde logster: error: unknown parser applog; built-in parsers: postfix/PostfixLogster, apache/SampleLogster, squid/SquidLogster, log4j/Log4jLogster, errorlog/ErrorLogLogster, metric/MetricLogster, json/JsonLogster, regex. For a parser plugin, give its file (./applog.mjs), or --config FILE to find it in that config\'s plugin_paths',
    );
    const withConfig = t.run(['--config', t.p['sonde.yaml']!, 'apploog', t.p['app.log']!]);
    expect(withConfig.status).toBe(2);
    expect(withConfig.stderr.split('\n').at(-2)).toBe(
      'sonde logster: error: unknown parser apploog (did you mean "applog"?); built-in parsers: postfix/PostfixLogster, apache/SampleLogster, squid/SquidLogster, log4j/Log4jLogster, errorlog/ErrorLogLogster, metric/MetricLogster, json/JsonLogster, regex; parser plugins in the plugin_paths of the --config file: applog',
    );
  });

  it('says which file failed when the named parser plugin did not load', () => {
    const t = logsterSetup();
    writeFiles(t.dir, { 'plugins/applog.mjs': APPLOG.replace("name: 'applog',", "name: 'applog'") });
    const r = t.run(['--config', t.p['sonde.yaml']!, 'applog', t.p['app.log']!]);
    expect(r.status).toBe(2);
    // Line 4 of APPLOG (`description:`, indented by 4) follows the name without its comma.
    expect(r.stderr.split('\n').at(-2)).toBe(
      `sonde logster: error: parser applog: the parser plugin at ${t.dir}/plugins/applog.mjs:4:5 failed to load: syntax error: Unexpected identifier 'description'. Fix that file (or name another parser)`,
    );
  });
});
