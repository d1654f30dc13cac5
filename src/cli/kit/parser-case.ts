// A parser's golden case: input.log, config.yaml with the parser's options (optional), and for each
// duration D in seconds the report expected-<D>.txt: Logster's `name value` lines, in the parser's
// order. The input is fed through the core's line reader twice, whole and in 7-byte chunks (lines
// cut anywhere, as a log written while it is read), and both must give the expected report.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { LineFeeder } from '../../logread/line-feeder.js';
import { ChunkLines } from '../../logread/read-lines.js';
import { pyStr } from '../../model/py-number.js';
import type { AnyParser } from '../../plugins/registry.js';
import { caseConfig, caseFile, CaseError, numberedFiles } from './case-files.js';
import { bytesDiff } from './diff.js';
import { guarded, writeExpectation, type CaseResult } from './result.js';

/** The longest line a case feeds (the logs collector's default max_line_bytes). */
const MAX_LINE_BYTES = 1 << 20;
const SMALL_CHUNK = 7;

/** Logster's output of a report: `name value` lines, ints and floats printed as Python prints them. */
export function reportText(def: AnyParser, options: Record<string, unknown>, input: Buffer, durationSeconds: number, chunk: number): { text: string; failed: number; firstError: string | undefined } {
  const parser = def.create(options);
  const feeder = new LineFeeder(parser);
  const lines = new ChunkLines(feeder, MAX_LINE_BYTES);
  const size = Math.max(1, chunk);
  for (let i = 0; i < input.length; i += size) {
    // A copy per chunk: the reader may keep a reference to what it is handed.
    const part = Buffer.from(input.subarray(i, i + size));
    lines.push(part, part.length);
  }
  let text = '';
  for (const m of parser.report(durationSeconds)) text += `${m.name} ${pyStr(m.value, m.float === true)}\n`;
  return { text, failed: feeder.counts.failed, firstError: feeder.counts.firstError };
}

export function runParserCase(def: AnyParser, dir: string, opts: { readonly update: boolean }): Promise<CaseResult> {
  const name = path.basename(dir);
  return guarded(name, dir, async () => {
    const input = caseFile(path.join(dir, 'input.log'), 'the log lines fed to the parser');
    const { parsed } = caseConfig(path.join(dir, 'config.yaml'), z.strictObject(def.schema.shape), new Map([['CASE_DIR', dir]]));
    const expectations = numberedFiles(dir, /^expected-(\d+)\.txt$/);
    if (expectations.length === 0) {
      const names = readdirSync(dir).join(', ');
      throw new CaseError(`${dir}: no expected-<seconds>.txt (the report at that duration, e.g. expected-60.txt; an empty one and "sonde test --update" fill it in for you to check); the folder holds: ${names}`);
    }
    const problems: string[] = [];
    const written: string[] = [];
    for (const e of expectations) {
      const file = path.join(dir, e.name);
      const expected = caseFile(file, `the report expected at a duration of ${e.n} s`);
      let whole;
      let cut;
      try {
        whole = reportText(def, parsed, input, e.n, input.length);
        cut = reportText(def, parsed, input, e.n, SMALL_CHUNK);
      } catch (err) {
        problems.push(`${e.name}: the parser threw: ${(err as Error).message}`);
        continue;
      }
      if (whole.failed > 0) problems.push(`${e.name}: parseLine threw on ${whole.failed} line(s) (the first: ${whole.firstError}); a parser must skip lines it cannot read`);
      const gotWhole = Buffer.from(whole.text, 'utf8');
      if (whole.text !== cut.text) {
        problems.push(`${e.name}: the report differs when the input arrives in ${SMALL_CHUNK}-byte pieces (a line cut across reads):\n${bytesDiff(gotWhole, Buffer.from(cut.text, 'utf8'), 'read whole', `read in ${SMALL_CHUNK}-byte pieces`)}`);
      }
      const diff = bytesDiff(expected, gotWhole, e.name, `report(${e.n})`);
      if (diff === '') continue;
      if (opts.update && whole.failed === 0) {
        writeExpectation(file, gotWhole);
        written.push(file);
      } else problems.push(`${e.name}: the report differs:\n${diff}`);
    }
    if (problems.length > 0) return { name, dir, status: 'fail', detail: `${problems.join('\n')}\n` };
    if (written.length > 0) return { name, dir, status: 'updated', detail: written.map((f) => `wrote ${f}\n`).join('') };
    return { name, dir, status: 'pass', detail: `${expectations.length} duration(s)` };
  });
}
