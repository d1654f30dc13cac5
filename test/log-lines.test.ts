// The needle prefilter against the plain definition: a line reaches the parser when it contains a
// needle (String.prototype.includes), and the parser is told where the last needle begins.
import { describe, expect, it } from 'vitest';
import { LineFeeder } from '../src/logread/line-feeder.js';
import { ChunkLines } from '../src/logread/read-lines.js';
import type { ParserInstance } from '../src/plugin-api.js';

/** A seeded generator, so a failure can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** Random lines over a small alphabet, so needles (and near misses of them) occur often. */
function randomLog(seed: number, n: number, alphabet: string): string[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const len = Math.floor(r() * 40);
    let s = '';
    for (let i = 0; i < len; i++) s += alphabet[Math.floor(r() * alphabet.length)];
    return s;
  });
}

function recorder(needles: string[]) {
  const seen: { line: string; last: number }[] = [];
  const parser: ParserInstance = {
    needles,
    parseLine: (line) => seen.push({ line, last: -2 }),
    parseBytes: (buf, start, end, last) => seen.push({ line: buf.toString('latin1', start, end), last: last < 0 ? -1 : last - start }),
    report: () => [],
  };
  return { parser, seen };
}

function feed(parser: ParserInstance, text: string, chunk: number) {
  const input = Buffer.from(text, 'latin1');
  const lines = new ChunkLines(new LineFeeder(parser), 1 << 20);
  for (let i = 0; i < input.length; i += chunk) {
    const part = Buffer.from(input.subarray(i, i + chunk));
    lines.push(part, part.length);
  }
}

describe('needle prefilter', () => {
  const cases: { needles: string[]; alphabet: string }[] = [
    { needles: ['status='], alphabet: 'statu=s ' }, // the rare byte is inside the needle
    { needles: ['aab'], alphabet: 'ab' }, // overlapping near misses
    { needles: ['=x'], alphabet: '=x=y ' },
    { needles: ['ab', 'ba'], alphabet: 'abc' },
    { needles: ['HTTP/1.', 'zq'], alphabet: 'HTP/1.zq ' },
  ];
  for (const { needles, alphabet } of cases) {
    it(`${needles.join(', ')}: exactly the lines that contain one, in order, with the last hit`, () => {
      for (const seed of [1, 2, 3]) {
        const log = randomLog(seed, 3000, alphabet);
        const text = `${log.join('\n')}\n`;
        const expected = log.filter((l) => needles.some((n) => l.includes(n)));
        for (const chunk of [text.length, 4096, 97]) {
          const { parser, seen } = recorder(needles);
          feed(parser, text, chunk);
          // Lines cut by a chunk boundary reach the parser whole, without a hint (parseBytes, last -1).
          const got = seen.filter((s) => needles.some((n) => s.line.includes(n)));
          expect(got.map((s) => s.line)).toEqual(expected);
          for (const s of seen) {
            if (s.last < 0) continue;
            expect(needles.length).toBe(1);
            expect(s.last).toBe(s.line.lastIndexOf(needles[0]!));
          }
          // Lines without a needle are skipped, but for the first line of each chunk (the one that
          // may continue the previous chunk's last), which the parser gets to judge itself.
          expect(seen.length - got.length).toBeLessThanOrEqual(Math.ceil(text.length / chunk));
        }
      }
    });
  }
});
