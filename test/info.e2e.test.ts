// `sonde info` from the bundle: what an operator reads about the host.
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { sonde } from './helpers/sonde.js';

describe('sonde info', () => {
  it('describes the host for an operator', () => {
    const r = sonde(['info']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^kernel\\s+${os.release().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    expect(r.stdout).toMatch(/^memory\s+\d+\.\d GiB total/m);
    expect(r.stdout).toMatch(/^cpu\s+.+\d+ cores/m);
  });
});
