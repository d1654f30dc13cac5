// memory on this machine, checked against /proc/meminfo read independently.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fileReader } from '../src/runtime/file-reader.js';
import { builtinRunner, collectOnce } from './helpers/collector.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

describe('memory on this machine', () => {
  it('agrees with /proc/meminfo read independently, within what changes between two reads', async () => {
    const got = await collectOnce(builtinRunner('memory', {}, { proc: fileReader('/proc'), sys: fileReader('/sys'), log: silent }));
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
    expect(got.get('memory.MemTotal')).toBe(kb('MemTotal'));
    expect(Math.abs(got.get('memory.MemFree')! - kb('MemFree'))).toBeLessThan(64 * 1024 * 1024);
    const pct = (100 * (kb('MemTotal') - kb('MemAvailable'))) / kb('MemTotal');
    expect(Math.abs(got.get('memory.MemUsedPercentage')! - pct)).toBeLessThan(1);
  });
});
