// The README must stay true: its plugin example runs, and its reference matches the schemas.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { generatedReference, withReference } from '../scripts/docs.mjs';
import { sonde } from './helpers/sonde.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';

const readme = readFileSync(path.join(import.meta.dirname, '..', 'README.md'), 'utf8');

describe('README', () => {
  it('has the plugin reference that the plugins\' schemas generate (run "npm run docs")', () => {
    const ref = (generatedReference as () => string)();
    expect(ref).toContain('### Collector `cpu`');
    expect((withReference as (r: string, x: string) => string)(readme, ref)).toBe(readme);
  });

  it('shows a plugin example that works as written', () => {
    const code = /```js\n(\/\/ \/etc\/sonde\/plugins\/entropy\.mjs\n[\s\S]*?)```/.exec(readme)?.[1];
    expect(code, 'the entropy example is missing').toBeDefined();
    const dir = tmpdir();
    const file = writeFiles(dir, { 'entropy.mjs': code! })['entropy.mjs']!;
    const r = sonde(['collect', file, '-n', '1']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const bits = Number(readFileSync('/proc/sys/kernel/random/entropy_avail', 'utf8'));
    const line = r.stdout.trim().split(' ');
    expect(line[0]).toMatch(/^servers\.[^.]+\.entropy\.available$/);
    expect(Math.abs(Number(line[1]) - bits)).toBeLessThanOrEqual(256);
  });
});
