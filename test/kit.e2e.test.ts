// `sonde test` and `sonde new` as a plugin author runs them, from the built bundle and outside this
// repository's test harness: the examples' cases pass, a folder made by `sonde new` passes as it
// is for every kind, a broken expectation fails with a diff (exit 1), a broken case folder is
// named (exit 78), and a bad command line is refused (exit 64).
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sonde } from './helpers/sonde.js';
import { tmpdir } from './helpers/tmp.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const EXAMPLES = path.join(ROOT, 'examples', 'plugins');

describe('sonde test on the examples in examples/plugins/', () => {
  it('has the three examples: a collector, a parser and a handler', () => {
    expect(readdirSync(EXAMPLES).sort()).toEqual(['apptimer', 'dircount', 'jsonlines']);
  });

  for (const name of ['dircount', 'apptimer', 'jsonlines']) {
    it(`${name}: every case passes (exit 0)`, () => {
      const r = sonde(['test', path.join(EXAMPLES, name)]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/sonde test: \d+ case\(s\): \d+ passed, 0 failed, 0 broken\n$/);
      expect(r.stdout).not.toMatch(/passed, .*: 0 passed/);
    });
  }

  it('dircount and jsonlines work in the agent: sonde once through plugin_paths writes the counts as JSON lines', () => {
    const dir = tmpdir();
    mkdirSync(path.join(dir, 'spool'));
    for (const [f, text] of [['m1', 'abc'], ['m2', 'defgh']]) writeFileSync(path.join(dir, 'spool', f!), text!);
    const out = path.join(dir, 'metrics.jsonl');
    const cfg = path.join(dir, 'sonde.yaml');
    writeFileSync(
      cfg,
      `hostname: web01\nstate_dir: ${dir}/state\nplugin_paths: [${EXAMPLES}/dircount, ${EXAMPLES}/jsonlines]\ncollectors:\n  dircount: { dir: ${dir}/spool }\nhandlers:\n  jsonlines: { file: ${out} }\n`,
    );
    const r = sonde(['once', '--config', cfg]);
    expect(r.status, r.stderr).toBe(0);
    const got = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { path: string; value: number; host: string; kind: string });
    const of = (p: string) => got.find((x) => x.path === `servers.web01.dircount.${p}`);
    expect(of('files')).toMatchObject({ value: 2, host: 'web01', kind: 'gauge' });
    expect(of('bytes')?.value).toBe(8);
    expect(of('subdirs')?.value).toBe(0);
  });

  it('a broken expectation in a copy of an example: exit 1, with the diff and what to do', () => {
    const dir = path.join(tmpdir(), 'apptimer');
    cpSync(path.join(EXAMPLES, 'apptimer'), dir, { recursive: true });
    const f = path.join(dir, 'testcases', 'requests', 'expected-60.txt');
    writeFileSync(f, readFileSync(f, 'utf8').replace('latency.median 30.0', 'latency.median 31.0'));
    const r = sonde(['test', dir]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('FAIL     requests');
    expect(r.stdout).toContain('- latency.median 31.0\n');
    expect(r.stdout).toContain('+ latency.median 30.0\n');
    expect(r.stdout).toContain('ok       quiet');
    expect(r.stderr).toContain('--update');
  });
});

describe('sonde new', () => {
  for (const kind of ['collector', 'parser', 'handler']) {
    it(`${kind}: writes a folder whose case passes "sonde test" as it is, and whose case can fail`, () => {
      const cwd = tmpdir();
      const dir = path.join(cwd, `my_${kind}`);
      const made = sonde(['new', kind, `my_${kind}`, '--dir', dir]);
      expect(made.stderr).toBe('');
      expect(made.status).toBe(0);
      expect(readdirSync(dir).sort()).toEqual(['README.md', 'testcases', `my_${kind}.mjs`].sort());
      const plugin = readFileSync(path.join(dir, `my_${kind}.mjs`), 'utf8');
      expect(plugin).toContain("@param {import('sonde/plugin').Api} api");
      const readme = readFileSync(path.join(dir, 'README.md'), 'utf8');
      expect(readme).toMatch(/## Options\n\n\| Option \|/);
      const passed = sonde(['test', dir]);
      expect(passed.status, passed.stdout + passed.stderr).toBe(0);
      expect(passed.stdout).toMatch(/1 case\(s\): 1 passed, 0 failed, 0 broken/);
      // The scaffold's expectation is checked, not just present: break it and the case fails.
      const [caseDir] = readdirSync(path.join(dir, 'testcases')).map((c) => path.join(dir, 'testcases', c));
      const expectation = readdirSync(caseDir!).find((f) => /^(sample1\.expected|expected-60\.txt|expected\.file)$/.test(f))!;
      const file = path.join(caseDir!, expectation);
      writeFileSync(file, readFileSync(file, 'utf8').replace(/\d(\D*)$/, (d, rest: string) => `${(Number(d[0]) + 1) % 10}${rest}`));
      const failed = sonde(['test', path.join(dir, `my_${kind}.mjs`)]);
      expect(failed.status).toBe(1);
      expect(failed.stdout).toMatch(/\n +- .*\n +\+ /);
    });
  }

  it('parser: its -l flag is one sonde logster takes, and sets the levels counted', () => {
    const cwd = tmpdir();
    const dir = path.join(cwd, 'lv');
    expect(sonde(['new', 'parser', 'lv', '--dir', dir]).status).toBe(0);
    const log = path.join(cwd, 'app.log');
    const lines = readFileSync(path.join(dir, 'testcases', 'levels', 'input.log'));
    writeFileSync(log, lines);
    const run = () => sonde(['logster', '-o', 'stdout', '-s', path.join(cwd, 'state'), '-l', path.join(cwd, 'logs'), '--parser-options', '-l ERROR,INFO', path.join(dir, 'lv.mjs'), log]);
    expect(run().status).toBe(0); // the first run only records where the log ends, as Logster's
    writeFileSync(log, lines, { flag: 'a' });
    const r = run();
    expect(r.status, r.stderr).toBe(0);
    const names = r.stdout.trim().split('\n').map((l) => l.split(' ')[1]);
    expect(names).toEqual(['ERROR', 'INFO']);
  });

  it('fills an empty folder that exists, keeping the folder itself (it may be the shell\'s working directory)', () => {
    const dir = path.join(tmpdir(), 'empty');
    mkdirSync(dir);
    const inode = statSync(dir).ino;
    const r = sonde(['new', 'handler', 'here', '--dir', dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(statSync(dir).ino).toBe(inode);
    expect(readdirSync(dir).sort()).toEqual(['README.md', 'here.mjs', 'testcases']);
    expect(sonde(['test', dir]).status).toBe(0);
  });

  it('refuses a folder that exists (writing nothing), a name sonde would refuse, and a built-in\'s name', () => {
    const cwd = tmpdir();
    const dir = path.join(cwd, 'taken');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'mine.txt'), 'keep me');
    const r = sonde(['new', 'collector', 'taken', '--dir', dir]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${dir} exists already; nothing was written`);
    expect(readdirSync(dir)).toEqual(['mine.txt']);
    for (const bad of ['Caps', '9lives', 'has-dash', 'dot.ted', '../escape', 'a'.repeat(65)]) {
      const b = sonde(['new', 'parser', bad, '--dir', path.join(cwd, 'x')]);
      expect(b.status, bad).toBe(64);
      expect(b.stderr).toContain('starts with a lower-case letter and holds only lower-case letters, digits and _');
    }
    const builtin = sonde(['new', 'collector', 'cpu', '--dir', path.join(cwd, 'cpu')]);
    expect(builtin.status).toBe(64);
    expect(builtin.stderr).toContain('a built-in collector is named "cpu" already');
    expect(existsSync(path.join(cwd, 'x'))).toBe(false);
    expect(existsSync(path.join(cwd, 'cpu'))).toBe(false);
    expect(sonde(['new', 'exporter', 'x']).status).toBe(64);
  });
});

describe('sonde test: exit statuses', () => {
  it('78 for a broken case folder, naming the file and line', () => {
    const dir = path.join(tmpdir(), 'dircount');
    cpSync(path.join(EXAMPLES, 'dircount'), dir, { recursive: true });
    writeFileSync(path.join(dir, 'testcases', 'with-hidden', 'config.yaml'), 'dir: /tmp\nhidden: maybe\n');
    const r = sonde(['test', dir]);
    expect(r.status).toBe(78);
    expect(r.stdout).toContain('BROKEN   with-hidden');
    expect(r.stdout).toMatch(/with-hidden\/config\.yaml:2: hidden: expected true or false, got "maybe"/);
    expect(r.stdout).toContain('ok       visible-files');
  });

  it('78 without a testcases folder; 64 for no such plugin or a folder with two plugin files; 1 for a plugin that fails to load', () => {
    const dir = tmpdir();
    writeFileSync(path.join(dir, 'a.mjs'), "export default (api) => api.defineParser({ name: 'a', aliases: [], description: 'x', schema: api.z.object({}), create: () => ({ parseLine() {}, report: () => [] }) });\n");
    const none = sonde(['test', dir]);
    expect(none.status).toBe(78);
    expect(none.stderr).toContain(`${path.join(dir, 'testcases')}: no such folder of test cases`);
    expect(sonde(['test', path.join(dir, 'nothing-here.mjs')]).status).toBe(64);
    writeFileSync(path.join(dir, 'b.mjs'), 'export default 1;\n');
    const two = sonde(['test', dir]);
    expect(two.status).toBe(64);
    expect(two.stderr).toContain('holds several plugin files (a.mjs, b.mjs)');
    writeFileSync(path.join(dir, 'b.mjs'), 'export default (api) => {\n  return api.defineCollector({ name: "b",\n');
    const broken = sonde(['test', path.join(dir, 'b.mjs')]);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toContain('the plugin failed to load');
    const shape = path.join(dir, 'c.mjs');
    writeFileSync(shape, "export default (api) => api.defineParser({ name: 'c', aliases: [], description: 'x', schema: api.z.object({}) });\n");
    const s = sonde(['test', shape]);
    expect(s.status).toBe(1);
    expect(s.stderr).toContain('create(options) is missing');
  });

  it('1 for a plugin whose timer throws while a case runs, said in a sentence rather than a crash', () => {
    const dir = tmpdir();
    writeFileSync(
      path.join(dir, 'stray.mjs'),
      "export default (api) => api.defineCollector({ name: 'stray', description: 'x', schema: api.z.object({}), async collect(ctx) { ctx.emit('x', 1); setTimeout(() => { throw new Error('late boom'); }, 0); await new Promise((r) => setTimeout(r, 30)); } });\n",
    );
    mkdirSync(path.join(dir, 'testcases', 'one'), { recursive: true });
    writeFileSync(path.join(dir, 'testcases', 'one', 'sample0.expected'), 'stray.x 1\n');
    const r = sonde(['test', dir]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('plugin stray threw outside its collect()');
    expect(r.stderr).toContain('late boom');
  });

  it('--cases runs a built-in plugin\'s golden cases from this repository through the same kit', () => {
    const r = sonde(['test', 'cpu', '--cases', path.join(ROOT, 'test', 'fixtures', 'collectors', 'cpu')]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/6 case\(s\): 6 passed, 0 failed, 0 broken/);
    expect(sonde(['test', 'no_such_plugin', '--cases', ROOT]).status).toBe(64);
  });

  it('--update rewrites a broken expectation of a copy, which then passes', () => {
    const dir = path.join(tmpdir(), 'jsonlines');
    cpSync(path.join(EXAMPLES, 'jsonlines'), dir, { recursive: true });
    const f = path.join(dir, 'testcases', 'two-batches', 'expected.file');
    const good = readFileSync(f, 'utf8');
    writeFileSync(f, good.replace('"value":20.5', '"value":20.6'));
    const u = sonde(['test', '--update', dir]);
    expect(u.status).toBe(0);
    expect(u.stdout).toContain('updated  two-batches');
    expect(readFileSync(f, 'utf8')).toBe(good);
    expect(sonde(['test', dir]).status).toBe(0);
  });
});
