// diskspace on this machine, checked against df.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fileReader } from '../src/runtime/file-reader.js';
import { builtinRunner, collectOnce } from './helpers/collector.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const runner = (name: string, options: Record<string, unknown>) => builtinRunner(name, options, { proc: fileReader('/proc'), sys: fileReader('/sys'), log: silent });
const collect = collectOnce;

describe('diskspace on this machine', () => {
  it('agrees with df -B1 for /', async () => {
    const fsType = execFileSync('findmnt', ['-n', '-o', 'FSTYPE', '/'], { encoding: 'utf8' }).trim();
    const got = await collect(runner('diskspace', { filesystems: [fsType] }));
    const df = execFileSync('df', ['-B1', '--output=size,used,avail', '/'], { encoding: 'utf8' }).trim().split('\n')[1]!.trim().split(/\s+/).map(Number);
    const [size, used, avail] = df as [number, number, number];
    // df's "used" is blocks - bfree, as ours; a few MB may move between the two readings.
    const slack = 64 * 1024 * 1024;
    expect(Math.abs(got.get('diskspace.root.byte_used')! - used)).toBeLessThan(slack);
    expect(Math.abs(got.get('diskspace.root.byte_avail')! - avail)).toBeLessThan(slack);
    const total = got.get('diskspace.root.byte_used')! + got.get('diskspace.root.byte_free')!;
    expect(Math.abs(total - size)).toBeLessThan(slack);
  });
});
