// The plugin kit's runner (the code behind `sonde test`) on cases made to fail: every broken case
// folder is named by its file (and line), every difference comes with a diff, a plugin that
// throws or hangs fails its case instead of hanging the kit, and --update rewrites only what a
// clean run produced.
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { caseDirs, runCase } from '../src/cli/kit/run.js';
import { bytesDiff, lineDiff } from '../src/cli/kit/diff.js';
import { defineCollector, defineHandler, defineParser, RejectedSamplesError, z, type Sample } from '../src/plugin-api.js';
import { builtinRegistry } from '../src/plugins/builtin.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';
import { tmpfs } from './helpers/tmpfs.js';

const registry = builtinRegistry();
const HANDLERS = path.join(import.meta.dirname, 'fixtures', 'handlers');

describe('built-in handlers: golden cases on the kit\'s sinks (TCP, UDP, HTTP), expectations written by hand from docs/compat.md', () => {
  for (const name of ['graphite', 'statsd', 'http']) {
    for (const dir of caseDirs(path.join(HANDLERS, name))) {
      it(`${name}: ${path.basename(dir)}`, async () => {
        const r = await runCase(registry.handlers.get(name)!, dir);
        expect(r.status, r.detail).toBe('pass');
      });
    }
  }
});

const loadavg = defineCollector({
  name: 'la',
  description: 'test: the first figure of /proc/loadavg',
  schema: z.object({ scale: z.number().default(1) }),
  async collect(ctx) {
    ctx.emit('one', Number((await ctx.proc.read('loadavg')).split(' ')[0]) * ctx.config.scale, { precision: 2 });
  },
});

function collectorCase(files: Record<string, string>): string {
  const dir = path.join(tmpdir(), 'case one');
  writeFiles(dir, files);
  return dir;
}

describe('collector cases', () => {
  it('pass with the expected lines in any order, comments and blank lines ignored', async () => {
    const dir = collectorCase({ 'sample0/proc/loadavg': '0.50 0.40 0.30 1/100 5\n', 'sample0.expected': '# 0.5 × 3\n\nla.one 1.50\n', 'config.yaml': 'scale: 3\n' });
    expect(await runCase(loadavg, dir)).toMatchObject({ status: 'pass', name: 'case one' });
  });

  it('fail with a diff: "-" the expected line, "+" the collected one', async () => {
    const dir = collectorCase({ 'sample0/proc/loadavg': '0.50 0.40 0.30 1/100 5\n', 'sample0.expected': 'la.one 0.60\n' });
    const r = await runCase(loadavg, dir);
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('- la.one 0.60\n+ la.one 0.50\n');
  });

  it('are broken, naming the file and line, for an option the schema refuses, an unknown key and bad YAML', async () => {
    const bad = await runCase(loadavg, collectorCase({ 'sample0.expected': '', 'config.yaml': '# scale\nscale: lots\n' }));
    expect(bad.status).toBe('broken');
    expect(bad.detail).toMatch(/config\.yaml:2: scale: expected a number, got "lots"/);
    const typo = await runCase(loadavg, collectorCase({ 'sample0.expected': '', 'config.yaml': 'scael: 2\n' }));
    expect(typo.detail).toMatch(/config\.yaml:1: scael: unknown key; did you mean "scale"\?/);
    const yaml = await runCase(loadavg, collectorCase({ 'sample0.expected': '', 'config.yaml': 'scale: [1\n' }));
    expect(yaml.status).toBe('broken');
    expect(yaml.detail).toMatch(/config\.yaml:\d+: invalid YAML/);
  });

  it('are broken without a sample, with a gap in the numbering, or without an expectation (unless --update)', async () => {
    expect((await runCase(loadavg, collectorCase({ 'config.yaml': 'scale: 1\n' }))).detail).toMatch(/no sample: a case holds sample0\.expected/);
    const gap = await runCase(loadavg, collectorCase({ 'sample0.expected': '', 'sample2.expected': '' }));
    expect(gap).toMatchObject({ status: 'broken' });
    expect(gap.detail).toMatch(/sample2: samples must be numbered from 0 without gaps \(sample1 is missing\)/);
    const missing = await runCase(loadavg, collectorCase({ 'sample0/proc/loadavg': '1 1 1 1/1 1\n' }));
    expect(missing.status).toBe('broken');
    expect(missing.detail).toMatch(/sample0\.expected: missing/);
  });

  it('fail, not hang, when collect() throws or never returns; the error is shown', async () => {
    const throws = defineCollector({ name: 'boom', description: 'test', schema: z.object({}), collect() { throw new Error('the disk is on fire'); } });
    const r = await runCase(throws, collectorCase({ 'sample0.expected': '' }));
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('collect() threw: the disk is on fire');
    const hangs = defineCollector({ name: 'stuck', description: 'test', schema: z.object({}), collect: () => new Promise<void>(() => undefined) });
    const h = await runCase(hangs, collectorCase({ 'sample0.expected': '', 'config.yaml': 'interval: 1s\ntimeout: 50ms\n' }));
    expect(h.status).toBe('fail');
    expect(h.detail).toContain('did not finish within 50 ms');
  });

  it('--update rewrites a differing expectation and keeps its notes at the top; a failed run writes nothing', async () => {
    const dir = collectorCase({ 'sample0/proc/loadavg': '0.25 0 0 1/1 1\n', 'sample0.expected': '# the first figure\nla.one 9.99\n' });
    expect((await runCase(loadavg, dir, { update: true })).status).toBe('updated');
    expect(readFileSync(path.join(dir, 'sample0.expected'), 'utf8')).toBe('# the first figure\nla.one 0.25\n');
    expect((await runCase(loadavg, dir)).status).toBe('pass');
    const throws = defineCollector({ name: 'boom', description: 'test', schema: z.object({}), collect(ctx) { ctx.emit('x', 1); throw new Error('half done'); } });
    const d2 = collectorCase({ 'sample0.expected': 'boom.x 2\n' });
    expect((await runCase(throws, d2, { update: true })).status).toBe('fail');
    expect(readFileSync(path.join(d2, 'sample0.expected'), 'utf8')).toBe('boom.x 2\n');
  });

  it('--update on a full disk: the case is broken with the reason, and the old expectation is left whole', async () => {
    const fs = tmpfs('8k');
    const dir = path.join(fs, 'full');
    writeFiles(dir, { 'sample0.expected': 'big.x 1\n' });
    // Fill the file system up to its last byte.
    try {
      writeFileSync(path.join(fs, 'filler'), Buffer.alloc(64 * 1024, 120));
    } catch {
      /* ENOSPC: full, as wanted */
    }
    const many = defineCollector({ name: 'big', description: 'test', schema: z.object({}), collect(ctx) { for (let i = 0; i < 2000; i++) ctx.emit(`metric_number_${i}`, i); } });
    const r = await runCase(many, dir, { update: true });
    expect(r.status).toBe('broken');
    expect(r.detail).toMatch(/sample0\.expected: cannot write the new expectation: .*ENOSPC/);
    expect(readFileSync(path.join(dir, 'sample0.expected'), 'utf8')).toBe('big.x 1\n');
    expect(readdirSync(dir)).toEqual(['sample0.expected']);
  });

  it('finishes when a collector\'s close() never returns', async () => {
    const stuck = defineCollector({ name: 'sticky', description: 'test', schema: z.object({}), init: () => undefined, collect(ctx) { ctx.emit('x', 1); }, close: () => new Promise<void>(() => undefined) });
    const r = await runCase(stuck, collectorCase({ 'sample0.expected': 'sticky.x 1\n', 'config.yaml': 'interval: 1s\ntimeout: 100ms\n' }));
    expect(r.status).toBe('pass');
  });

  it('a collector reads sample<N>/sys and replays sample<N>/statfs.json; a damaged statfs.json breaks the case', async () => {
    const both = defineCollector({
      name: 'both',
      description: 'test',
      schema: z.object({}),
      async collect(ctx) {
        ctx.emit('sys', Number(await ctx.sys.read('class/x')));
        ctx.emit('free', (await ctx.statfs('/data')).bfree);
      },
    });
    const ok = collectorCase({ 'sample0/sys/class/x': '7\n', 'sample0/statfs.json': '{"/data": {"bsize": 1, "blocks": 9, "bfree": 4, "bavail": 4, "files": 0, "ffree": 0}}', 'sample0.expected': 'both.sys 7\nboth.free 4\n' });
    expect((await runCase(both, ok)).status).toBe('pass');
    const damaged = collectorCase({ 'sample0/sys/class/x': '7\n', 'sample0/statfs.json': '{"/data": ', 'sample0.expected': '' });
    const r = await runCase(both, damaged);
    expect(r.status).toBe('broken');
    expect(r.detail).toMatch(/statfs\.json: not JSON/);
  });
});

const levels = defineParser({
  name: 'lv',
  aliases: [],
  description: 'test: counts lines holding ERROR',
  schema: z.object({ word: z.string().default('ERROR') }),
  create(o) {
    let n = 0;
    return {
      parseLine(line) {
        if (line.includes('THROW')) throw new Error('cannot read this line');
        if (line.includes(o.word)) n++;
      },
      report(d) {
        const out = [{ name: o.word, value: n / (d > 0 ? d : 1), float: true }];
        n = 0;
        return out;
      },
    };
  },
});

describe('parser cases', () => {
  it('pass, and fail with a diff of the report', async () => {
    const dir = collectorCase({ 'input.log': 'a ERROR\nb\nc ERROR\n', 'expected-1.txt': 'ERROR 2.0\n', 'expected-4.txt': 'ERROR 0.5\n' });
    expect((await runCase(levels, dir)).status).toBe('pass');
    writeFileSync(path.join(dir, 'expected-4.txt'), 'ERROR 0.25\n');
    const r = await runCase(levels, dir);
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('- ERROR 0.25\n+ ERROR 0.5\n');
  });

  it('show a missing final newline in the expectation as a difference', async () => {
    const r = await runCase(levels, collectorCase({ 'input.log': 'ERROR\n', 'expected-1.txt': 'ERROR 1.0' }));
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('\\ no newline at the end');
  });

  it('fail when parseLine throws (a parser must skip what it cannot read)', async () => {
    const r = await runCase(levels, collectorCase({ 'input.log': 'THROW\nERROR\n', 'expected-1.txt': 'ERROR 1.0\n' }));
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('parseLine threw on 1 line(s) (the first: cannot read this line)');
  });

  it('are broken without input.log, without an expected-<seconds>.txt, or with an option the parser does not have', async () => {
    expect((await runCase(levels, collectorCase({ 'expected-1.txt': '' }))).detail).toMatch(/input\.log: missing/);
    expect((await runCase(levels, collectorCase({ 'input.log': '' }))).detail).toMatch(/no expected-<seconds>\.txt/);
    expect((await runCase(levels, collectorCase({ 'input.log': '', 'expected-1.txt': '', 'config.yaml': 'wrod: x\n' }))).detail).toMatch(/config\.yaml:1: wrod: unknown key; did you mean "word"\?/);
  });

  it('--update fills in an empty expectation from the report', async () => {
    const dir = collectorCase({ 'input.log': 'x FAIL\n', 'expected-2.txt': '', 'config.yaml': 'word: FAIL\n' });
    expect((await runCase(levels, dir, { update: true })).status).toBe('updated');
    expect(readFileSync(path.join(dir, 'expected-2.txt'), 'utf8')).toBe('FAIL 0.5\n');
  });
});

function fileHandler(send?: (batch: readonly Sample[]) => Promise<void>) {
  return defineHandler({
    name: 'lines',
    description: 'test: value lines to a file',
    schema: z.object({ file: z.string() }),
    async send(batch, ctx) {
      if (send) return send(batch);
      writeFileSync(ctx.config.file, batch.map((s) => `${ctx.path(s.name)}=${s.value}@${s.timestamp}/${s.kind}\n`).join(''), { flag: 'a' });
    },
  });
}

describe('handler cases', () => {
  it('read samples.txt as batches with kinds and fractional seconds, and compare the file sink byte for byte', async () => {
    const dir = collectorCase({
      'config.yaml': 'file: ${SINK_FILE}\n',
      'samples.txt': '# comment\na.b 1 10\nc 2.5 10.25 counter\n\n\nd.e.f -3 11 rate 2\n',
      'expected.file': 'servers.testhost.a.b=1@10000/gauge\nservers.testhost.c=2.5@10250/counter\nservers.testhost.d.e.f=-3@11000/rate\n',
    });
    expect((await runCase(fileHandler(), dir)).status).toBe('pass');
  });

  it('are broken for a bad samples.txt line (file:line), no sink named, an unknown placeholder, an expectation for a sink not used', async () => {
    const h = fileHandler();
    expect((await runCase(h, collectorCase({ 'config.yaml': 'file: ${SINK_FILE}\n', 'samples.txt': 'a 1 10\na two 10\n', 'expected.file': '' }))).detail).toMatch(/samples\.txt:2: the value "two" is not a number/);
    expect((await runCase(h, collectorCase({ 'config.yaml': 'file: ${SINK_FILE}\n', 'samples.txt': 'a 1 10 sometimes\n', 'expected.file': '' }))).detail).toMatch(/samples\.txt:1: "sometimes" is neither a kind/);
    expect((await runCase(h, collectorCase({ 'config.yaml': 'file: /tmp/x\n', 'samples.txt': 'a 1 10\n' }))).detail).toMatch(/config\.yaml: names no sink/);
    expect((await runCase(h, collectorCase({ 'config.yaml': 'file: ${SINK_FILE}${SINK_FLIE}\n', 'samples.txt': 'a 1 10\n', 'expected.file': '' }))).detail).toMatch(/\$\{SINK_FLIE\} is not a placeholder the kit knows/);
    expect((await runCase(h, collectorCase({ 'config.yaml': 'file: ${SINK_FILE}\n', 'samples.txt': 'a 1 10\n', 'expected.file': '', 'expected.tcp': '' }))).detail).toMatch(/expected\.tcp: config\.yaml names no tcp sink/);
    expect((await runCase(h, collectorCase({ 'config.yaml': 'file: ${SINK_FILE}\n', 'samples.txt': '# nothing\n', 'expected.file': '' }))).detail).toMatch(/samples\.txt: holds no sample/);
  });

  it('fail, not hang, when send() throws or never resolves (bounded by send_timeout)', async () => {
    const dir = () => collectorCase({ 'config.yaml': 'file: ${SINK_FILE}\nsend_timeout: 200ms\n', 'samples.txt': 'a 1 10\n', 'expected.file': '' });
    const refused = await runCase(fileHandler(() => Promise.reject(new Error('upstream said 503'))), dir());
    expect(refused.status).toBe('fail');
    expect(refused.detail).toContain('batch 1: send() failed: upstream said 503');
    const t0 = Date.now();
    const hung = await runCase(fileHandler(() => new Promise<void>(() => undefined)), dir());
    expect(hung.status).toBe('fail');
    expect(hung.detail).toMatch(/send\(\) of batch 1 did not finish/);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('finds refused samples as the core does (halves until alone), sends the rest, and compares them with expected.rejected', async () => {
    const picky = defineHandler({
      name: 'picky',
      description: 'test: refuses odd values, whole batch or nothing',
      schema: z.object({ file: z.string() }),
      async send(batch, ctx) {
        const odd = batch.find((s) => s.value % 2 === 1);
        if (odd) throw new RejectedSamplesError(`odd value ${odd.value}`);
        writeFileSync(ctx.config.file, batch.map((s) => `${s.value}\n`).join(''), { flag: 'a' });
      },
    });
    const dir = collectorCase({
      'config.yaml': 'file: ${SINK_FILE}\n',
      'samples.txt': ['a 2 1', 'b 3 1', 'c 4 1', 'd 6 1', 'e 7 1'].join('\n'),
      'expected.file': '2\n4\n6\n',
      'expected.rejected': 'servers.testhost.b 3: odd value 3\nservers.testhost.e 7: odd value 7\n',
    });
    expect(await runCase(picky, dir)).toMatchObject({ status: 'pass' });
    writeFileSync(path.join(dir, 'expected.rejected'), '');
    const r = await runCase(picky, dir);
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('+ servers.testhost.b 3: odd value 3\n');
  });

  it('--update writes nothing when a send failed', async () => {
    const dir = collectorCase({ 'config.yaml': 'file: ${SINK_FILE}\n', 'samples.txt': 'a 1 10\n' });
    const r = await runCase(fileHandler(() => Promise.reject(new Error('disk full'))), dir, { update: true });
    expect(r.status).toBe('fail');
    expect(r.detail).toBe('batch 1: send() failed: disk full\n');
    expect(readdirSync(dir).sort()).toEqual(['config.yaml', 'samples.txt']);
  });

  it('--update writes what the sink received; a binary difference is shown by byte offset', async () => {
    const dir = collectorCase({ 'config.yaml': 'file: ${SINK_FILE}\n', 'samples.txt': 'a 1 10\n' });
    expect((await runCase(fileHandler(), dir, { update: true })).status).toBe('updated');
    expect(readFileSync(path.join(dir, 'expected.file'), 'utf8')).toBe('servers.testhost.a=1@10000/gauge\n');
    writeFileSync(path.join(dir, 'expected.file'), Buffer.from([0, 1, 2]));
    const r = await runCase(fileHandler(), dir);
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('first difference at byte 0');
  });
});

describe('case folders', () => {
  it('are the folders of a testcases folder in name order; files, dot folders and dangling links are not cases', () => {
    const root = tmpdir();
    for (const d of ['b', 'a', '.git', 'ünïcode case']) mkdirSync(path.join(root, d));
    writeFileSync(path.join(root, 'notes.txt'), '');
    symlinkSync(path.join(root, 'gone'), path.join(root, 'dangling'));
    expect(caseDirs(root).map((d) => path.basename(d))).toEqual(['a', 'b', 'ünïcode case']);
  });
});

describe('diff', () => {
  it('lists removed then added lines with two lines of context, eliding the rest', () => {
    const a = ['1', '2', '3', '4', '5', '6', '7', '8'];
    const b = ['1', '2', '3', '4', 'five', '6', '7', '8'];
    expect(lineDiff(a, b)).toBe('--- expected\n+++ got\n  ...\n  3\n  4\n- 5\n+ five\n  6\n  7\n  ...\n');
    expect(lineDiff(a, a)).toBe('');
  });

  it('shows a CR as \\r, so a CRLF expectation is visibly different', () => {
    expect(bytesDiff(Buffer.from('x 1\r\n'), Buffer.from('x 1\n'), 'e', 'g')).toBe('--- e\n+++ g\n- x 1\\r\n+ x 1\n');
  });
});
