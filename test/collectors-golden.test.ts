// Golden cases for collectors, one folder per case (Telegraf style):
//   test/fixtures/collectors/<collector>/<case>/sample<N>/   a recorded /proc root for sample N
//   test/fixtures/collectors/<collector>/<case>/sample<N>.expected   `<path> <value>` lines, hand-computed
//   test/fixtures/collectors/<collector>/<case>/config.json   the collector's options (optional)
//   test/fixtures/collectors/<collector>/<case>/sample<N>/statfs.json   recorded statfs results by mount point
// Samples are taken 10 s apart on a fake monotonic clock, so expected rates are exact.
// Adding a case means adding files, not code.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CollectorRunner } from '../src/runtime/collector-runner.js';
import { standaloneSection } from '../src/config/collector-section.js';
import { fileReader } from '../src/runtime/file-reader.js';
import { relativePath } from '../src/model/naming.js';
import { builtinRegistry } from '../src/plugins/builtin.js';
import { formatValue } from '../src/model/value-format.js';
import type { FileReader, StatFs } from '../src/plugin-api.js';

const ROOT = path.join(import.meta.dirname, 'fixtures', 'collectors');
const registry = builtinRegistry();
const silent = { debug() {}, info() {}, warn() {}, error() {} };

function expectedLines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'))
    .sort();
}

for (const collector of readdirSync(ROOT)) {
  describe(`collector ${collector}`, () => {
    for (const name of readdirSync(path.join(ROOT, collector))) {
      const dir = path.join(ROOT, collector, name);
      it(`matches the golden case ${name}`, async () => {
        const plugin = registry.collectors.get(collector);
        expect(plugin, `no built-in collector ${collector}`).toBeDefined();
        const options = existsSync(path.join(dir, 'config.json')) ? JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) : {};
        let clock = 0;
        // One reader whose root moves to the current sample's tree, as /proc changes between runs.
        let current = fileReader(dir);
        const reader: FileReader = { get root() { return current.root; }, read: (rel) => current.read(rel), resolve: (rel) => current.resolve(rel) };
        const runner = new CollectorRunner(
          standaloneSection(plugin!, options, { interval: 10_000, path: collector }),
          {
            proc: reader,
            sys: reader,
            log: silent,
            clock: () => clock,
            statfs: async (mount) => {
              const recorded = JSON.parse(await current.read('statfs.json')) as Record<string, StatFs>;
              const s = recorded[mount];
              if (!s) throw new Error(`ENOENT: no recorded statfs for ${mount}`);
              return s;
            },
          },
        );
        const samples = readdirSync(dir).filter((f) => /^sample\d+$/.test(f)).sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
        expect(samples.length).toBeGreaterThan(0);
        for (const sample of samples) {
          current = fileReader(path.join(dir, sample));
          const res = await runner.run(1_700_000_000_000 + clock, new AbortController().signal);
          expect(res.error).toBeUndefined();
          const got = res.samples.map((s) => `${relativePath(s.name)} ${formatValue(s.value, s.precision)}`).sort();
          expect(got, `${collector}/${name}/${sample}`).toEqual(expectedLines(path.join(dir, `${sample}.expected`)));
          clock += 10_000;
        }
      });
    }
  });
}
