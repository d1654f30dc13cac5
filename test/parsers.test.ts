// Golden cases: test/fixtures/logs/<parser>/<case>/input.log, optional options.json, and the
// expected `name value` lines for each duration in expected-<seconds>.txt (hand-computed, or
// written by python3 from Logster's own formulas).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinParsers } from '../parsers/index.js';
import { LineFeeder } from '../src/logread/line-feeder.js';
import { ChunkLines } from '../src/logread/read-lines.js';
import { pyStr } from '../src/model/py-number.js';
import type { ParserDefinition } from '../src/plugin-api.js';

const ROOT = path.resolve(import.meta.dirname, 'fixtures', 'logs');

function parserNamed(name: string): ParserDefinition {
  const p = builtinParsers.find((x) => x.name === name);
  if (!p) throw new Error(`no parser ${name}`);
  return p;
}

/** Feeds a file's bytes through the core's line reader, in chunks of `chunk` bytes. */
function run(def: ParserDefinition, options: unknown, input: Buffer, duration: number, chunk = input.length): string {
  const parser = def.create(def.schema.parse(options));
  const lines = new ChunkLines(new LineFeeder(parser), 1 << 20);
  for (let i = 0; i < input.length; i += chunk) {
    const part = Buffer.from(input.subarray(i, i + chunk));
    lines.push(part, part.length);
  }
  return parser
    .report(duration)
    .map((m) => `${m.name} ${pyStr(m.value, m.float === true)}\n`)
    .join('');
}

for (const parser of readdirSync(ROOT)) {
  describe(`parser ${parser}`, () => {
    for (const c of readdirSync(path.join(ROOT, parser))) {
      const dir = path.join(ROOT, parser, c);
      const input = readFileSync(path.join(dir, 'input.log'));
      const options = existsSync(path.join(dir, 'options.json')) ? JSON.parse(readFileSync(path.join(dir, 'options.json'), 'utf8')) : {};
      for (const f of readdirSync(dir).filter((n) => /^expected-\d+\.txt$/.test(n))) {
        const duration = Number(/\d+/.exec(f)![0]);
        it(`${c}, duration ${duration}: the expected lines, whole or fed in 7-byte chunks`, () => {
          const expected = readFileSync(path.join(dir, f), 'utf8');
          expect(run(parserNamed(parser), options, input, duration)).toBe(expected);
          expect(run(parserNamed(parser), options, input, duration, 7)).toBe(expected);
        });
      }
    }
  });
}

describe('parser behaviour', () => {
  it('reports zeros after a report: figures cover only the lines since the last one', () => {
    const p = parserNamed('postfix').create({});
    p.parseLine('x: to=<a@b>, relay=r, delay=3, delays=0, dsn=2.0.0, status=sent (ok)');
    expect(p.report(60).find((m) => m.name === 'numSent')!.value).toBe(1);
    expect(p.report(60).find((m) => m.name === 'numSent')!.value).toBe(0);
  });

  it('regex parser: counters, sums, gauges and timers from named captures', () => {
    const def = parserNamed('regex');
    const p = def.create(
      def.schema.parse({
        patterns: [{ match: 'status=(?<status>\\d{3}) time=(?<ms>\\d+) bytes=(?<b>\\d+)', counter: 'http_{status}', sum: { name: 'bytes', value: 'b' }, gauge: { name: 'last_ms', value: 'ms' }, timer: { name: 'latency_ms', value: 'ms', percentiles: [90] } }],
      }),
    );
    for (const [s, ms, b] of [[200, 10, 100], [200, 30, 50], [500, 20, 0]]) p.parseLine(`status=${s} time=${ms} bytes=${b}`);
    p.parseLine('nothing here');
    const lines = p.report(60).map((m) => `${m.name} ${pyStr(m.value, m.float === true)}`);
    // 10, 20, 30: median 20; 90th at 0.9 × 2 = 1.8 → 20 + 10 × 0.8 = 28.0; mean 20.0.
    expect(lines).toEqual(['http_200 2', 'http_500 1', 'bytes 150', 'last_ms 20', 'latency_ms.count 3', 'latency_ms.min 10.0', 'latency_ms.max 30.0', 'latency_ms.mean 20.0', 'latency_ms.median 20.0', 'latency_ms.90th_percentile 28.0']);
    // A quiet interval: counters report 0 instead of a gap; sums and timers report nothing.
    expect(p.report(60).map((m) => `${m.name} ${m.value}`)).toEqual(['http_200 0', 'http_500 0', 'last_ms 20']);
  });
});
