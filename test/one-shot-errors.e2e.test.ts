// `sonde collect` with plugins that misbehave: a collect() that never returns, and a timer and a
// promise left behind that fail. Each says what happened in a sentence and exits 1.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sonde } from './helpers/sonde.js';

const MISBEHAVING = path.join(import.meta.dirname, 'fixtures', 'plugins-misbehaving');

describe('sonde collect with a misbehaving plugin', () => {
  it('exits 1 when the collector never returns, after its timeout', () => {
    const started = Date.now();
    const r = sonde(['collect', path.join(MISBEHAVING, 'never.mjs'), '-n', '2', '-i', '300ms']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('run 1: collector never did not finish within its timeout of 300 ms');
    expect(r.stderr).toContain('the 1 run(s) left are not started beside it');
    expect(r.stdout).toBe('');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('says in a sentence that a plugin threw outside collect(), finishes the runs, and exits 1', () => {
    const file = path.join(MISBEHAVING, 'stray.mjs');
    const r = sonde(['collect', file, '-n', '3', '-i', '100ms']);
    expect(r.status).toBe(1);
    expect(r.stdout.split('\n').filter((l) => /\.stray\.seq /.test(l))).toHaveLength(3);
    expect(r.stderr).toContain(`sonde collect: plugin stray threw outside its collect(), from a timer, event handler or callback it left running: stray timer went off (at ${file}:`);
    expect(r.stderr).toContain('sonde collect: plugin stray left a promise rejected with nothing waiting for it: stray promise rejected');
    expect(r.stderr).toContain('this run fails (exit status 1)');
    // A sentence, not node's stack.
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).not.toContain('\\n    at ');
  });
});
