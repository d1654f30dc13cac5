// The built-in parsers' golden cases, run by the plugin kit's runner (the code behind
// `sonde test`): test/fixtures/parsers/<parser>/<case>/ holds input.log, an optional config.yaml
// with the parser's options, and the expected `name value` lines for each duration in
// expected-<seconds>.txt (hand-computed, or written by python3 from Logster's own formulas). The
// kit feeds the input whole and in 7-byte chunks; both must give the expected report.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinParsers } from '../parsers/index.js';
import { caseDirs, runCase } from '../src/cli/kit/run.js';
import { pyStr } from '../src/model/py-number.js';
import type { ParserDefinition } from '../src/plugin-api.js';

const ROOT = path.resolve(import.meta.dirname, 'fixtures', 'parsers');

function parserNamed(name: string): ParserDefinition {
  const p = builtinParsers.find((x) => x.name === name);
  if (!p) throw new Error(`no parser ${name}`);
  return p;
}

it('has every golden case there was before the move to the kit (8 cases, 22 durations)', () => {
  const cases = readdirSync(ROOT).flatMap((p) => caseDirs(path.join(ROOT, p)));
  expect(cases.length).toBe(8);
  expect(cases.flatMap((d) => readdirSync(d).filter((f) => /^expected-\d+\.txt$/.test(f))).length).toBe(22);
});

for (const parser of readdirSync(ROOT)) {
  describe(`parser ${parser}`, () => {
    for (const dir of caseDirs(path.join(ROOT, parser))) {
      it(`${path.basename(dir)}: the expected report at each duration, whole or fed in 7-byte chunks`, async () => {
        const r = await runCase(parserNamed(parser), dir);
        expect(r.status, r.detail).toBe('pass');
      });
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
