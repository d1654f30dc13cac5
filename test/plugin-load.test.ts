// What sonde says about a plugin file it cannot use: refused at load with the file, the key and the
// fix; a syntax error with its line and column; a section naming such a plugin says which file
// failed and why, and check-config refuses it (78).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { collectorCommonShape, handlerCommonShape } from '../src/config/global-schema.js';
import { buildRegistry, builtinRegistry } from '../src/plugins/builtin.js';
import { failureText, pluginShapeProblem } from '../src/plugins/registry.js';
import { RESERVED_KEYS } from '../src/plugins/reserved-keys.js';
import { z } from 'zod';
import { pluginApi } from '../src/plugins/loader.js';
import { sonde } from './helpers/sonde.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';

/** The failures of loading `files` (name -> source) from one plugin directory, as printed. */
async function failures(files: Record<string, string>): Promise<{ lines: string[]; dir: string }> {
  const dir = tmpdir();
  writeFiles(dir, files);
  const { registry } = await buildRegistry([dir]);
  return { lines: registry.failures.map(failureText), dir };
}

const collector = (schema: string, extra = '') =>
  `export default (api) => api.defineCollector({ name: 'app', description: 'An app.', schema: api.z.object({ ${schema} }), collect() {} ${extra}});\n`;

describe('reserved section keys', () => {
  it('are the keys the core really takes out of each kind of section', () => {
    expect([...RESERVED_KEYS.collector].sort()).toEqual(Object.keys(collectorCommonShape).sort());
    expect([...RESERVED_KEYS.handler].sort()).toEqual(Object.keys(handlerCommonShape).sort());
    // The logs collector's file entry: its own keys; every other key goes to the entry's parser.
    const logs = builtinRegistry().collectors.get('logs')!;
    const files = (logs.schema.shape as Record<string, z.ZodType>).files!;
    const entry = (files as unknown as { unwrap(): { element: { shape: Record<string, unknown> } } }).unwrap().element;
    expect([...RESERVED_KEYS.parser].sort()).toEqual(Object.keys(entry.shape).sort());
  });

  it('refuse a collector whose schema declares one, naming the file, the key and a new name', async () => {
    const { lines, dir } = await failures({ 'app.mjs': collector("path: api.z.string().default('/var/run/app.sock')") });
    expect(lines).toEqual([
      `${dir}/app.mjs: collector app: its schema declares the option "path", a key every collector section has for sonde itself (enabled, type, interval, timeout, path, max_names), so the plugin would never see its value; rename the option, e.g. "app_path"`,
    ]);
  });

  it('refuse a handler with an outbox key and a parser with a key of the logs file entry', async () => {
    const { lines, dir } = await failures({
      'h.mjs': "export default (api) => api.defineHandler({ name: 'sink', description: 'A sink.', schema: api.z.object({ batch_size: api.z.number().default(5) }), async send() {} });",
      'p.mjs': "export default (api) => api.defineParser({ name: 'words', description: 'Words.', schema: api.z.object({ name: api.z.string().default('x') }), create: () => ({ parseLine() {}, report: () => [] }) });",
    });
    expect(lines).toEqual([
      `${dir}/h.mjs: handler sink: its schema declares the option "batch_size", a key every handler section has for sonde itself (enabled, type, batch_size, flush_interval, queue_size, send_timeout, retry_min, retry_max, spool, spool_max_bytes, spool_max_age), so the plugin would never see its value; rename the option, e.g. "sink_batch_size"`,
      `${dir}/p.mjs: parser words: its schema declares the option "name", a key every entry of the logs collector's files has for sonde itself (path, parser, name, from_start), so the plugin would never see its value; rename the option, e.g. "words_name"`,
    ]);
  });

  it('leave the built-in plugins alone (none uses one, and each has the shape of a plugin)', () => {
    // The registry does not check the built-ins (that would build every schema): this test does.
    const registry = builtinRegistry();
    const all = [...registry.collectors.values(), ...registry.handlers.values(), ...registry.parserList()];
    expect(all.length).toBeGreaterThan(20);
    for (const def of all) expect({ name: def.name, problem: pluginShapeProblem(def, true) }).toEqual({ name: def.name, problem: undefined });
  });
});

describe('malformed definitions', () => {
  it('are refused with what is missing and how to write it', async () => {
    const { lines, dir } = await failures({
      'a-noname.mjs': "export default (api) => api.defineCollector({ description: 'x', schema: api.z.object({}), collect() {} });",
      'b-nokind.mjs': "export default { name: 'raw', description: 'x', schema: null };",
      'c-badname.mjs': "export default (api) => api.defineCollector({ name: 'My-App', description: 'x', schema: api.z.object({}), collect() {} });",
      'd-noreport.mjs': "export default (api) => api.defineParser({ name: 'noreport', description: 'x', schema: api.z.object({}), create: () => ({ parseLine() {} }) });",
      'e-create.mjs': "export default (api) => api.defineParser({ name: 'nocreate', description: 'x', schema: api.z.object({}), create: { parseLine() {} } });",
      'f-aliases.mjs': "export default (api) => ({ kind: 'parser', name: 'noaliases', description: 'x', schema: api.z.object({}), create: () => ({ parseLine() {}, report: () => [] }) });",
      'g-schema.mjs': "export default (api) => api.defineCollector({ name: 'noschema', description: 'x', schema: { count: 1 }, collect() {} });",
      'h-flag.mjs': "export default (api) => api.defineParser({ name: 'badflag', description: 'x', schema: api.z.object({ level: api.z.string().default('x') }), flags: [{ long: '--levels', short: '-l', key: 'levels' }], create: () => ({ parseLine() {}, report: () => [] }) });",
      'i-collect.mjs': "export default (api) => api.defineCollector({ name: 'nocollect', description: 'x', schema: api.z.object({}) });",
      'j-async.mjs': "export default (api) => api.defineParser({ name: 'later', description: 'x', schema: api.z.object({}), create: async () => ({ parseLine() {}, report: () => [] }) });",
    });
    expect(lines).toEqual([
      `${dir}/a-noname.mjs: collector without a name: add name: 'my_app' (lower case letters, digits and _), the name of its config section`,
      `${dir}/b-nokind.mjs: the definition has no kind: wrap it in api.defineCollector({...}), api.defineHandler({...}) or api.defineParser({...})`,
      `${dir}/c-badname.mjs: name must be lower case letters, digits and _, starting with a letter (got "My-App"); it is the name of its config section, e.g. name: 'my_app'`,
      `${dir}/d-noreport.mjs: parser noreport: the object create(options) returns has no report(durationSeconds); add it (report returns the figures, e.g. [{ name: 'lines', value: n }])`,
      `${dir}/e-create.mjs: parser nocreate: create(options) is not a function (got object); see defineParser in the plugin docs`,
      `${dir}/f-aliases.mjs: parser noaliases: aliases must be a list of names (it may be empty: aliases: []); api.defineParser fills in [] when it is left out`,
      `${dir}/g-schema.mjs: collector noschema: schema must be a zod object, e.g. schema: api.z.object({}) for no options`,
      `${dir}/h-flag.mjs: parser badflag: flag --levels sets "levels", which its schema does not declare; set key to one of: level`,
      `${dir}/i-collect.mjs: collector nocollect: collect(ctx) is missing; see defineCollector in the plugin docs`,
      `${dir}/j-async.mjs: parser later: create(options) returned a promise; it must return the parser ({ parseLine(line), report(seconds) }) at once`,
    ]);
  });

  it('take a schema as a function, built once when it is first read, and checked at load', async () => {
    let builds = 0;
    const def = pluginApi.defineCollector({ name: 'lazy', description: 'Lazy.', schema: () => (builds++, z.object({ n: z.number().default(1) })), collect() {} });
    expect(builds).toBe(0);
    expect(def.kind).toBe('collector');
    expect(def.schema.parse({})).toEqual({ n: 1 });
    expect(def.schema).toBe(def.schema);
    expect(builds).toBe(1);

    const { lines, dir } = await failures({
      'a-ok.mjs': "export default (api) => api.defineHandler({ name: 'fine', description: 'Fine.', schema: () => api.z.object({ to: api.z.string().default('x') }), async send() {} });",
      'b-throws.mjs': "export default (api) => api.defineCollector({ name: 'broken', description: 'x', schema: () => { throw new Error('no zod here'); }, collect() {} });",
      'c-notzod.mjs': "export default (api) => api.defineCollector({ name: 'notzod', description: 'x', schema: () => ({ count: 1 }), collect() {} });",
      'd-reserved.mjs': "export default (api) => api.defineCollector({ name: 'app', description: 'x', schema: () => api.z.object({ interval: api.z.number().default(1) }), collect() {} });",
    });
    expect(lines).toEqual([
      `${dir}/b-throws.mjs: collector broken: building its schema failed: no zod here`,
      `${dir}/c-notzod.mjs: collector notzod: schema must be a zod object, e.g. schema: api.z.object({}) for no options`,
      `${dir}/d-reserved.mjs: collector app: its schema declares the option "interval", a key every collector section has for sonde itself (enabled, type, interval, timeout, path, max_names), so the plugin would never see its value; rename the option, e.g. "app_interval"`,
    ]);
  });

  it('lets defineParser leave out aliases', async () => {
    const dir = tmpdir();
    writeFiles(dir, { 'p.mjs': "export default (api) => api.defineParser({ name: 'plain', description: 'Plain.', schema: api.z.object({}), create: () => ({ parseLine() {}, report: () => [] }) });" });
    const { registry } = await buildRegistry([dir]);
    expect(registry.failures).toEqual([]);
    expect(registry.parsers.get('plain')!.aliases).toEqual([]);
  });
});

describe('a file that does not load', () => {
  it('says the line and column of a syntax error', async () => {
    const { lines, dir } = await failures({
      'broken.mjs': "export default (api) =>\n  api.defineCollector({\n    name: 'broken',\n    description: 'x'\n    schema: api.z.object({}),\n  });\n",
    });
    // Line 5, column 5: `schema` after a missing comma, as `node --check` shows it.
    expect(lines).toEqual([`${dir}/broken.mjs:5:5: failed to load: syntax error: Unexpected identifier 'schema'`]);
  });

  it('says the line of an exception thrown by the file, and of one thrown by its default export', () => {
    // Through the bundle: node's own loader, whose stack frames name the file (vitest's do not).
    const dir = tmpdir();
    const p = writeFiles(dir, {
      'a.mjs': "const x = 1;\nthrow new Error('no config for a');\nexport default x;\n",
      'b.mjs': "export default (api) => {\n  const v = api.version;\n  throw new Error(`b needs sonde 9, this is ${v}`);\n};\n",
    });
    const a = sonde(['collect', p['a.mjs']!]);
    expect(a.status).toBe(1);
    expect(a.stderr).toBe(`sonde collect: cannot load ${dir}/a.mjs:2:7: no config for a\n`);
    const b = sonde(['collect', p['b.mjs']!]);
    expect(b.stderr).toMatch(new RegExp(`^sonde collect: cannot load ${dir}/b\\.mjs:3:9: its default export threw: b needs sonde 9, this is \\d+\\.\\d+\\.\\d+\n$`));
  });

  it('names the file when a section uses it, and check-config exits 78 with the line of the section', () => {
    const dir = tmpdir();
    const p = writeFiles(dir, {
      // The file name is not the plugin's: the section is matched by the name written in the file.
      'plugins/app-metrics.mjs': "export default (api) => api.defineCollector({\n  name: 'appmetrics',\n  description: 'x',\n  schema: api.z.object({}),\n  collect() {\n}\n",
      'plugins/unused.mjs': 'export default 5;\n',
      'sonde.yaml': `plugin_paths: [${dir}/plugins]\nstate_dir: ${dir}/state\ncollectors:\n  cpu: {}\n  appmetrics: {}\nhandlers:\n  stdout: {}\n`,
    });
    const r = sonde(['check-config', '--config', p['sonde.yaml']!]);
    expect(r.status).toBe(78);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      [
        `warning: plugin not loaded: ${dir}/plugins/unused.mjs: the default export is number, not a plugin: write export default (api) => api.defineCollector({...}) (or defineHandler, defineParser)`,
        `${p['sonde.yaml']}:5: collectors.appmetrics: the collector plugin at ${dir}/plugins/app-metrics.mjs:7 failed to load: syntax error: Unexpected end of input. This collector does not run (the rest of the agent does); fix that file, or remove this section`,
        `sonde: the config names a plugin that failed to load. Fix the plugin file named above (or remove the section), then run "sonde check-config --config ${p['sonde.yaml']}" again.`,
        '',
      ].join('\n'),
    );
  });

  it('lets the agent run the rest, saying why the section does not run', async () => {
    const dir = tmpdir();
    const p = writeFiles(dir, {
      'plugins/app.mjs': collector("path: api.z.string().default('/x')"),
      'sonde.yaml': `plugin_paths: [${dir}/plugins]\ncollectors:\n  cpu: {}\n  metrics:\n    type: app\n`,
    });
    const loaded = await loadConfig(p['sonde.yaml']!, {});
    expect(loaded.config.collectors.map((c) => c.key)).toEqual(['cpu']);
    expect(loaded.config.warnings).toEqual([
      `${p['sonde.yaml']}:5: collectors.metrics.type: the collector plugin at ${dir}/plugins/app.mjs failed to load: collector app: its schema declares the option "path", a key every collector section has for sonde itself (enabled, type, interval, timeout, path, max_names), so the plugin would never see its value; rename the option, e.g. "app_path". This collector does not run (the rest of the agent does); fix that file, or remove this section`,
    ]);
  });

  it('a logs entry whose parser plugin failed to load names that file, not "no parser named"', async () => {
    const dir = tmpdir();
    const p = writeFiles(dir, {
      'plugins/myapp.mjs': "export default (api) => api.defineParser({ name: 'myapp', description: 'x', schema: api.z.object({ name: api.z.string().default('') }), create: () => ({ parseLine() {}, report: () => [] }) });\n",
      'sonde.yaml': `plugin_paths: [${dir}/plugins]\ncollectors:\n  logs:\n    files:\n      - { path: /var/log/myapp.log, parser: myapp }\n`,
    });
    await expect(loadConfig(p['sonde.yaml']!, {})).rejects.toThrow(
      `${p['sonde.yaml']}:5: collectors.logs.files[0].parser: the parser plugin at ${dir}/plugins/myapp.mjs failed to load: parser myapp: its schema declares the option "name", a key every entry of the logs collector's files has for sonde itself (path, parser, name, from_start), so the plugin would never see its value; rename the option, e.g. "myapp_name"; fix that file, or name another parser`,
    );
  });

  it('sonde collect <name> with a config points at the file that failed, not at "no collector named"', () => {
    const dir = tmpdir();
    const src = "export default (api) => api.defineCollector({ name: 'app', description: 'x', schema: api.z.object({}), collect() {} }) oops;\n";
    const column = src.indexOf('oops') + 1;
    const p = writeFiles(dir, { 'plugins/app.mjs': src, 'sonde.yaml': `plugin_paths: [${dir}/plugins]\nstate_dir: ${dir}/state\ncollectors: {}\n` });
    const byName = sonde(['collect', 'app', '--config', p['sonde.yaml']!]);
    expect(byName.status).toBe(1);
    expect(byName.stderr).toBe(`sonde collect: the collector plugin at ${dir}/plugins/app.mjs:1:${column} failed to load: syntax error: Unexpected identifier 'oops'\n`);
    const byFile = sonde(['collect', p['plugins/app.mjs']!]);
    expect(byFile.status).toBe(1);
    expect(byFile.stderr).toBe(`sonde collect: cannot load ${dir}/plugins/app.mjs:1:${column}: syntax error: Unexpected identifier 'oops'\n`);
  });

  it('sonde logster --parser-help on a parser file without aliases works; one without report is refused (exit 2)', () => {
    const dir = tmpdir();
    const p = writeFiles(dir, {
      'plain.mjs': "export default (api) => api.defineParser({ name: 'plain', description: 'Counts lines.', schema: api.z.object({}), create: () => ({ parseLine() {}, report: () => [] }) });",
      'raw.mjs': "export default { kind: 'parser', name: 'raw', description: 'Counts lines.', schema: { shape: {}, safeParse: () => ({ success: true, data: {} }) }, create: () => ({ parseLine() {}, report: () => [] }) };",
      'noreport.mjs': "export default (api) => api.defineParser({ name: 'noreport', description: 'x', schema: api.z.object({}), create: () => ({ parseLine() {} }) });",
    });
    const plain = sonde(['logster', '--parser-help', p['plain.mjs']!]);
    expect(plain.stderr).toBe('');
    expect(plain.stdout).toBe('plain (no Logster name): Counts lines.\nIt takes no --parser-options.\n');
    expect(plain.status).toBe(0);
    const raw = sonde(['logster', '--parser-help', p['raw.mjs']!]);
    expect(raw.status).toBe(2);
    expect(raw.stderr.split('\n').at(-2)).toBe(
      `sonde logster: error: cannot use the parser plugin ${p['raw.mjs']}: parser raw: aliases must be a list of names (it may be empty: aliases: []); api.defineParser fills in [] when it is left out`,
    );
    const noreport = sonde(['logster', '--parser-help', p['noreport.mjs']!]);
    expect(noreport.status).toBe(2);
    expect(noreport.stderr.split('\n').at(-2)).toBe(
      `sonde logster: error: cannot use the parser plugin ${p['noreport.mjs']}: parser noreport: the object create(options) returns has no report(durationSeconds); add it (report returns the figures, e.g. [{ name: 'lines', value: n }])`,
    );
  });
});

describe('a file that never finishes loading', () => {
  it('is given up after 10 s with a sentence, and the rest of the config is checked', () => {
    const dir = tmpdir();
    const p = writeFiles(dir, {
      // A top-level await that never settles (a connection made at import, say).
      'plugins/hang.mjs': "await new Promise((resolve) => setTimeout(resolve, 3_600_000));\nexport default (api) => api.defineCollector({ name: 'hang', description: 'x', schema: api.z.object({}), collect() {} });\n",
      'sonde.yaml': `plugin_paths: [${dir}/plugins]\nstate_dir: ${dir}/state\ncollectors:\n  cpu: {}\nhandlers:\n  stdout: {}\n`,
    });
    const r = sonde(['check-config', '--config', p['sonde.yaml']!]);
    expect(r.stderr).toBe(
      `warning: plugin not loaded: ${dir}/plugins/hang.mjs: failed to load: importing it did not finish within 10 s (a top-level await or a promise that never settles); load nothing slow at import, do it in init(ctx)\n`,
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('collectors: cpu');
  }, 60_000);
});

describe('the plugin directory', () => {
  it('still loads the good plugins beside the bad ones', async () => {
    const dir = tmpdir();
    writeFiles(dir, { 'bad.mjs': 'export default {', 'good.mjs': collector("count: api.z.number().default(1)") });
    const { registry } = await buildRegistry([dir]);
    expect(registry.collectors.has('app')).toBe(true);
    expect(registry.failures.map((f) => path.basename(f.file))).toEqual(['bad.mjs']);
  });
});
