// A collector's golden case: config.yaml (optional), then per sample N a recorded tree
// sample<N>/proc (and sample<N>/sys, sample<N>/statfs.json) and the expected lines sample<N>.expected.
// Samples are taken `interval` apart (10 s unless config.yaml sets it) on a fake monotonic clock,
// so expected rates are exact.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { collectorSchema, collectorSection, splitSection } from '../../config/collector-section.js';
import { relativePath } from '../../model/naming.js';
import { formatValue } from '../../model/value-format.js';
import type { FileReader, ParserDefinition, StatFs } from '../../plugin-api.js';
import type { AnyCollector } from '../../plugins/registry.js';
import { CollectorRunner } from '../../runtime/collector-runner.js';
import { fileReader } from '../../runtime/file-reader.js';
import { caseConfig, caseFile, CaseError, numberedFiles } from './case-files.js';
import { lineDiff } from './diff.js';
import { CaseLog, guarded, writeExpectation, type CaseResult } from './result.js';

/** The first sample's time: 2023-11-14T22:13:20Z, a fixed moment so that expected output never depends on today. */
export const CASE_EPOCH_MS = 1_700_000_000_000;
const DEFAULT_SPACING_MS = 10_000;

/** The lines of an expectation that count: blank lines and `#` comments are for the reader. */
export function expectedLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'))
    .sort();
}

/** A reader whose root moves to the current sample's tree, as /proc changes between runs. */
function movingReader(): { reader: FileReader; moveTo(root: string): void } {
  let current = fileReader('/nonexistent');
  return {
    reader: { get root() { return current.root; }, read: (rel) => current.read(rel), resolve: (rel) => current.resolve(rel) },
    moveTo(root) {
      current = fileReader(root);
    },
  };
}

export interface CollectorCaseOptions {
  readonly update: boolean;
  /** Parsers by name and alias, for collectors that read logs. */
  readonly parsers: ReadonlyMap<string, ParserDefinition>;
}

export function runCollectorCase(plugin: AnyCollector, dir: string, opts: CollectorCaseOptions): Promise<CaseResult> {
  const name = path.basename(dir);
  return guarded(name, dir, async () => {
    // A sample is a folder sample<N>/ (its recorded trees), an expectation sample<N>.expected, or
    // both: a collector that reads nothing below /proc needs no folder.
    const numbers = [...new Set([...numberedFiles(dir, /^sample(\d+)$/), ...numberedFiles(dir, /^sample(\d+)\.expected$/)].map((x) => x.n))].sort((a, b) => a - b);
    if (numbers.length === 0) throw new CaseError(`${dir}: no sample: a case holds sample0.expected (the lines expected from the first run) and, for what the collector reads, sample0/proc/, sample0/sys/ or sample0/statfs.json`);
    numbers.forEach((n, i) => {
      if (n !== i) throw new CaseError(`${path.join(dir, `sample${n}`)}: samples must be numbered from 0 without gaps (sample${i} is missing)`);
    });
    const samples = numbers.map((n) => ({ name: `sample${n}`, n }));
    const configFile = path.join(dir, 'config.yaml');
    const { parsed } = caseConfig(configFile, collectorSchema(plugin), new Map([['CASE_DIR', dir]]));
    const { core, own } = splitSection(parsed);
    const spacing = core.interval ?? DEFAULT_SPACING_MS;
    const section = collectorSection(plugin, own, { key: plugin.name, interval: spacing, timeout: core.timeout, path: core.path, maxNames: core.maxNames });
    const log = new CaseLog();
    const proc = movingReader();
    const sys = movingReader();
    let sampleDir = dir;
    let clock = 0;
    const runner = new CollectorRunner(section, {
      proc: proc.reader,
      sys: sys.reader,
      log: log.logger,
      clock: () => clock,
      parsers: opts.parsers,
      statfs: async (mount) => {
        const file = path.join(sampleDir, 'statfs.json');
        if (!existsSync(file)) throw Object.assign(new Error(`ENOENT: the case records no statfs results (${file})`), { code: 'ENOENT' });
        let recorded: Record<string, StatFs>;
        try {
          recorded = JSON.parse(readFileSync(file, 'utf8')) as Record<string, StatFs>;
        } catch (err) {
          throw new CaseError(`${file}: not JSON of { "<mount point>": { bsize, blocks, bfree, bavail, files, ffree } }: ${(err as Error).message}`);
        }
        const s = recorded[mount];
        if (!s) throw Object.assign(new Error(`ENOENT: no recorded statfs for ${mount} in ${file}`), { code: 'ENOENT' });
        return s;
      },
    });
    const problems: string[] = [];
    const written: string[] = [];
    try {
      for (const s of samples) {
        sampleDir = path.join(dir, s.name);
        proc.moveTo(path.join(sampleDir, 'proc'));
        sys.moveTo(path.join(sampleDir, 'sys'));
        const res = await runner.runWithin(CASE_EPOCH_MS + clock, section.timeout);
        if (res === 'timeout') {
          problems.push(`${s.name}: collect() did not finish within ${section.timeout} ms (it must honour ctx.signal)`);
          break;
        }
        if (res.error instanceof CaseError) throw res.error;
        if (res.error) problems.push(`${s.name}: collect() threw: ${res.error.message}`);
        if (res.invalid > 0) problems.push(`${s.name}: ${res.invalid} emit(s) refused: ${res.invalidExamples.join('; ')}`);
        const got = res.samples.map((x) => `${relativePath(x.name)} ${formatValue(x.value, x.precision)}`).sort();
        const expFile = path.join(dir, `${s.name}.expected`);
        const have = existsSync(expFile);
        const old = have ? caseFile(expFile, `the lines expected from ${s.name}`).toString('utf8') : '';
        const expected = expectedLines(old);
        const diff = lineDiff(expected, got, `${s.name}.expected`, `${s.name} (collected)`);
        const clean = !res.error && res.invalid === 0;
        if (opts.update) {
          // Only a clean run is written down: an error's partial output is no expectation.
          if (clean && (diff !== '' || !have)) {
            // The reader's notes at the top of the file stay; the lines below are what the collector emitted.
            const notes = old.split('\n').filter((l, i, all) => all.slice(0, i + 1).every((x) => x.trim().startsWith('#')));
            writeExpectation(expFile, [...notes, ...got].map((l) => `${l}\n`).join(''));
            written.push(expFile);
          }
        } else if (!have) throw new CaseError(`${expFile}: missing (the lines expected from ${s.name}; "sonde test --update" writes it from what the collector emits, for you to check)`);
        else if (diff !== '') problems.push(`${s.name}: the samples differ from ${s.name}.expected:\n${diff}`);
        clock += spacing;
      }
    } finally {
      // Bounded: a plugin stuck in collect() may be stuck in close() too.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([runner.close().catch(() => undefined), new Promise((r) => (timer = setTimeout(r, section.timeout)))]);
      clearTimeout(timer);
    }
    if (problems.length > 0) return { name, dir, status: 'fail', detail: `${problems.join('\n')}\n${log.text()}` };
    if (written.length > 0) return { name, dir, status: 'updated', detail: written.map((f) => `wrote ${f}\n`).join('') };
    return { name, dir, status: 'pass', detail: `${samples.length} sample(s)` };
  });
}
