// `sonde watch LOG --parser NAME`: lines appended to a log while it runs (its output a pipe, so
// plain repeated blocks), the figures printed against hand-computed ones.
import { appendFileSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE, RunningSonde, sonde } from './helpers/sonde.js';
import { onTerminal } from './helpers/terminal.js';
import { tmpdir } from './helpers/tmp.js';

const FIX = path.join(import.meta.dirname, 'fixtures', 'parsers');

interface Block {
  lines: number;
  seconds: number;
  figures: Map<string, number>;
  notes: string[];
}

/** The blocks printed so far: `--- HH:MM:SS  N line(s) in S s`, then `  name  value` lines. */
function blocks(out: string): Block[] {
  const res: Block[] = [];
  for (const part of out.split(/^--- /m).slice(1)) {
    const [head, ...rest] = part.split('\n');
    const m = /^\d\d:\d\d:\d\d {2}(\d+) line\(s\) in (\d+\.\d) s$/.exec(head!);
    if (!m) throw new Error(`not a block heading: ${head}`);
    const b: Block = { lines: Number(m[1]), seconds: Number(m[2]), figures: new Map(), notes: [] };
    for (const l of rest) {
      const f = /^ {2}(\S+) +(-?[\d.e+-]+)$/.exec(l);
      if (f) b.figures.set(f[1]!, Number(f[2]));
      else if (l.startsWith('  ')) b.notes.push(l.trim());
    }
    res.push(b);
  }
  return res;
}

function total(bs: readonly Block[], name: string): number {
  return bs.reduce((s, b) => s + (b.figures.get(name) ?? 0), 0);
}

async function started(s: RunningSonde): Promise<void> {
  await s.until('the watch to start', () => s.stdout.includes('Ctrl-C stops.\n'));
  // The first block is due one --every after the start; the follower is watching by then.
  await s.until('the first block', () => blocks(s.stdout).length >= 1);
}

describe('sonde watch', () => {
  it('regex with --pattern: counts every line appended, per capture value, block after block, and stops on SIGINT', async () => {
    const dir = tmpdir();
    const log = path.join(dir, 'app.log');
    writeFileSync(log, 'status=500 before the watch started: not counted\n');
    const s = new RunningSonde(['watch', log, '--pattern', 'status=(?<status>\\d{3})', '--every', '500ms']);
    try {
      await started(s);
      expect(s.stdout.split('\n')[0]).toBe(`sonde watch ${log} (regex): figures every 500 ms from the lines added meanwhile. Ctrl-C stops.`);
      // Three writes, some while a block is due: the totals are what was written, whatever the blocks.
      appendFileSync(log, 'GET /a status=200\nGET /b status=200\nno status here\n');
      await new Promise((r) => setTimeout(r, 300));
      appendFileSync(log, 'GET /c status=404\nGET /d status=200\n');
      await new Promise((r) => setTimeout(r, 700));
      appendFileSync(log, 'POST /e status=200\n');
      // Hand-counted: 6 lines, status 200 four times, 404 once, 500 never (it was there before).
      await s.until('every line counted', () => blocks(s.stdout).reduce((n, b) => n + b.lines, 0) >= 6);
      await s.until('one more block', () => blocks(s.stdout).at(-1)!.lines === 0);
      const bs = blocks(s.stdout);
      expect(bs.reduce((n, b) => n + b.lines, 0)).toBe(6);
      expect(total(bs, 'status_200')).toBe(4);
      expect(total(bs, 'status_404')).toBe(1);
      expect(total(bs, 'status_500')).toBe(0);
      for (const b of bs) expect(b.seconds).toBeGreaterThanOrEqual(0.4);
      s.kill('SIGINT');
      expect(await s.exited).toBe(0);
      expect(s.stderr).toBe('');
    } finally {
      s.kill('SIGKILL');
    }
  });

  it('goes on across a rotation (rename and a new file), a copytruncate, and a removal: the new file is read from its first line', async () => {
    const dir = tmpdir();
    const log = path.join(dir, 'app.log');
    writeFileSync(log, '');
    const s = new RunningSonde(['watch', log, '--pattern', 'status=(?<status>\\d{3})', '--every', '300ms']);
    const sum = (name: string) => total(blocks(s.stdout), name);
    try {
      await started(s);
      appendFileSync(log, 'status=200\n');
      await s.until('the line before the rotation', () => sum('status_200') === 1);
      renameSync(log, `${log}.1`);
      writeFileSync(log, 'status=201\nstatus=201\n');
      await s.until('the new file\'s lines', () => sum('status_201') === 2);
      expect(s.stdout).toContain(`  ${log}: a new file by that name (rotated): following it from its first line\n`);
      // copytruncate. A line written in the same instant as the truncation may be missed (the
      // follower sees a shorter file and takes its end as the new start): harmless in a preview.
      writeFileSync(log, '');
      await new Promise((r) => setTimeout(r, 400));
      appendFileSync(log, 'status=202\n');
      await s.until('the line after the truncation', () => sum('status_202') === 1);
      rmSync(log);
      await s.until('the file said gone', () => s.stdout.includes(`  ${log}: gone (removed, or rotated and not made again yet); waiting for it\n`));
      writeFileSync(log, 'status=203\n');
      await s.until('the line of the file made again', () => sum('status_203') === 1);
      appendFileSync(log, 'status=203\n');
      await s.until('and the next', () => sum('status_203') === 2);
      // Hand-counted: nothing counted twice.
      expect([sum('status_200'), sum('status_201'), sum('status_202'), sum('status_203')]).toEqual([1, 2, 1, 2]);
      s.kill('SIGINT');
      expect(await s.exited).toBe(0);
      expect(s.stderr).toBe('');
    } finally {
      s.kill('SIGKILL');
    }
  });

  it('postfix: the worked example appended at once gives its hand-computed figures, the rates over the block\'s seconds', async () => {
    const dir = tmpdir();
    const log = path.join(dir, 'mail.log');
    writeFileSync(log, '');
    const s = new RunningSonde(['watch', log, '--parser', 'PostfixLogster', '--every', '1s']);
    try {
      await started(s);
      appendFileSync(log, readFileSync(path.join(FIX, 'postfix', 'worked', 'input.log')));
      await s.until('the block with the lines', () => blocks(s.stdout).some((b) => b.lines > 0));
      const b = blocks(s.stdout).find((x) => x.lines > 0)!;
      expect(b.lines).toBe(7);
      // expected-1.txt: the figures over one second; the counts and shares do not depend on it.
      const golden = new Map(
        readFileSync(path.join(FIX, 'postfix', 'worked', 'expected-1.txt'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => [l.split(' ')[0]!, Number(l.split(' ')[1])] as const),
      );
      expect([...b.figures.keys()].sort()).toEqual([...golden.keys()].sort());
      for (const k of ['numSent', 'pctSent', 'numDeferred', 'pctDeferred', 'numBounced', 'pctBounced', 'avgDelay']) expect(b.figures.get(k), k).toBe(golden.get(k));
      // 5 transactions and 2 sent, over the seconds the block covers.
      expect(b.figures.get('mailTxnsSec')! * b.seconds).toBeCloseTo(golden.get('mailTxnsSec')!, 0);
      expect(b.figures.get('mailSentSec')! * b.seconds).toBeCloseTo(golden.get('mailSentSec')!, 0);
      s.kill('SIGTERM');
      expect(await s.exited).toBe(0);
    } finally {
      s.kill('SIGKILL');
    }
  });

  it('a pattern mapping as in the config: a timer over a capture; --from-start reads what is there', async () => {
    const dir = tmpdir();
    const log = path.join(dir, 'app.log');
    writeFileSync(log, 'time=10\ntime=30\nnothing\ntime=20\n');
    const s = new RunningSonde(['watch', log, '--from-start', '--every', '500ms', '--pattern', "{match: 'time=(?<ms>\\d+)', timer: {name: latency, value: ms, percentiles: [50]}}"]);
    try {
      await s.until('the first block', () => blocks(s.stdout).length >= 1);
      const b = blocks(s.stdout)[0]!;
      expect(b.lines).toBe(4);
      // Hand-computed over 10, 30, 20.
      expect(b.figures.get('latency.count')).toBe(3);
      expect(b.figures.get('latency.min')).toBe(10);
      expect(b.figures.get('latency.max')).toBe(30);
      expect(b.figures.get('latency.mean')).toBe(20);
      s.kill('SIGINT');
      expect(await s.exited).toBe(0);
    } finally {
      s.kill('SIGKILL');
    }
  });

  it('a line a plugin parser throws on is counted and said, and the watch goes on', async () => {
    const dir = tmpdir();
    const plugin = path.join(dir, 'picky.mjs');
    writeFileSync(
      plugin,
      `export default (api) => api.defineParser({ name: 'picky', description: 'test', schema: api.z.object({}),
  create() { let n = 0; return { parseLine(l) { if (l.includes('bad')) throw new Error('cannot read ' + l); n++; }, report() { const r = [{ name: 'good', value: n }]; n = 0; return r; } }; } });\n`,
    );
    const log = path.join(dir, 'x.log');
    writeFileSync(log, '');
    const s = new RunningSonde(['watch', log, '--parser', plugin, '--every', '500ms']);
    try {
      await started(s);
      appendFileSync(log, 'ok\nbad one\nok\n');
      await s.until('the block with the lines', () => blocks(s.stdout).some((b) => b.lines > 0));
      const b = blocks(s.stdout).find((x) => x.lines > 0)!;
      expect([b.lines, b.figures.get('good')]).toEqual([3, 2]);
      expect(b.notes).toEqual(['1 line(s) the parser threw on, the first: cannot read bad one']);
      s.kill('SIGINT');
      expect(await s.exited).toBe(0);
    } finally {
      s.kill('SIGKILL');
    }
  });

  it('on a terminal, redraws one block in place (clear, then the figures) and stops on Ctrl-C', async () => {
    const dir = tmpdir();
    const log = path.join(dir, 'app.log');
    writeFileSync(log, '');
    // script(1) gives sonde a terminal; Ctrl-C is typed into it.
    const child = onTerminal([process.execPath, BUNDLE, 'watch', log, '--pattern', 'status=(?<status>\\d{3})', '--every', '300ms']);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    try {
      const frames = () => out.split('\x1b[H\x1b[2J').slice(1);
      await new Promise<void>((resolve, reject) => {
        const end = Date.now() + 20_000;
        const poll = () => (frames().length >= 2 ? resolve() : Date.now() > end ? reject(new Error(out)) : setTimeout(poll, 50));
        poll();
      });
      appendFileSync(log, 'status=200\nstatus=200\n');
      const seen = frames().length;
      await new Promise<void>((resolve, reject) => {
        const end = Date.now() + 20_000;
        const poll = () => (frames().slice(seen - 1).some((f) => /status_200 {2}2\r?\n/.test(f)) ? resolve() : Date.now() > end ? reject(new Error(out)) : setTimeout(poll, 50));
        poll();
      });
      const frame = frames().find((f) => /status_200 {2}2\r?\n/.test(f))!.replaceAll('\r\n', '\n');
      expect(frame).toMatch(new RegExp(`^sonde watch ${log.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(regex\\) {2}\\(every 300 ms; Ctrl-C stops\\)\n--- \\d\\d:\\d\\d:\\d\\d {2}2 line\\(s\\) in \\d\\.\\d s\n {2}status_200 {2}2\n$`));
      child.stdin.write('\x03');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses what it cannot run, with the exit status and the reason', () => {
    const dir = tmpdir();
    const log = path.join(dir, 'a.log');
    writeFileSync(log, '');
    const usage = (msg: string) => `sonde watch: ${msg}\nRun "sonde watch --help" for its options.\n`;
    const cases: [string[], number, string][] = [
      [['watch', log], 64, usage('name the parser: --parser NAME (a built-in such as postfix, regex with --pattern, or a .js/.mjs parser plugin; "sonde list" shows the built-ins)')],
      [['watch', log, '--parser', 'regex'], 64, usage("the regex parser needs at least one --pattern (a regular expression with named captures, e.g. --pattern 'status=(?<status>\\d{3})')")],
      [['watch', log, '--parser', 'postfix', '--pattern', 'x'], 64, usage('--pattern is for the regex parser; postfix takes its options from --parser-options')],
      [['watch', log, '--pattern', 'x', '--every', '0'], 64, usage('--every "0" is not a duration from 200ms to 1h (such as 2s, 5s or 1m)')],
      [['watch', log, '--pattern', 'x', '--every', 'soon'], 64, usage('--every "soon" is not a duration from 200ms to 1h (such as 2s, 5s or 1m)')],
      [['watch', log, '--pattern', '(?<unclosed'], 64, ''],
      [['watch', log, '--pattern', '{match: "a\\d"}'], 64, usage(`--pattern ${JSON.stringify('{match: "a\\d"}')} starts with { but is not a YAML mapping (unknown escape sequence (1:12)); write a mapping such as "{match: 'time=(?<ms>\\d+)', timer: {name: latency, value: ms}}" (the regular expression in single quotes, where YAML keeps a backslash as it is), or a bare regular expression`)],
      [['watch', path.join(dir, 'missing.log'), '--pattern', 'x'], 1, `sonde watch: ${path.join(dir, 'missing.log')} does not exist (yet): start sonde watch once it does\n`],
      [['watch', dir, '--pattern', 'x'], 1, `sonde watch: ${dir} is a directory, not a log file\n`],
    ];
    for (const [args, status, stderr] of cases) {
      const r = sonde(args);
      expect([args.slice(2).join(' '), r.status], r.stderr).toEqual([args.slice(2).join(' '), status]);
      if (stderr) expect(r.stderr).toBe(stderr);
      else expect(r.stderr).toMatch(/^sonde watch: parser regex: patterns\.0\.match: /);
      expect(r.stdout).toBe('');
    }
  });
});
