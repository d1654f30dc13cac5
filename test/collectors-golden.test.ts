// The built-in collectors' golden cases, run by the plugin kit's runner (the code behind
// `sonde test`), so the kit is proven on every commit. A case is a folder
// test/fixtures/collectors/<collector>/<case>/ in the kit's format (docs/plugin-kit.md):
// config.yaml (optional), sample<N>/proc/ (a recorded /proc), sample<N>/statfs.json, and the
// hand-computed sample<N>.expected. Adding a case means adding files, not code.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { caseDirs, runCase } from '../src/cli/kit/run.js';
import { builtinRegistry } from '../src/plugins/builtin.js';

const ROOT = path.join(import.meta.dirname, 'fixtures', 'collectors');
const registry = builtinRegistry();

it('has every golden case there was before the move to the kit (15 cases, 28 samples)', () => {
  const cases = readdirSync(ROOT).flatMap((c) => caseDirs(path.join(ROOT, c)));
  expect(cases.length).toBe(15);
  expect(cases.flatMap((d) => readdirSync(d).filter((f) => /^sample\d+\.expected$/.test(f))).length).toBe(28);
});

for (const collector of readdirSync(ROOT)) {
  describe(`collector ${collector}`, () => {
    for (const dir of caseDirs(path.join(ROOT, collector))) {
      it(`matches the golden case ${path.basename(dir)}`, async () => {
        const plugin = registry.collectors.get(collector);
        expect(plugin, `no built-in collector ${collector}`).toBeDefined();
        const r = await runCase(plugin!, dir);
        expect(r.status, r.detail).toBe('pass');
      });
    }
  });
}
