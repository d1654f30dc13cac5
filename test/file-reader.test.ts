import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileReader } from '../src/runtime/file-reader.js';
import { tmpdir } from './helpers/tmp.js';

describe('file reader', () => {
  it('reads /proc files afresh on every read, from a descriptor it keeps', async () => {
    const r = fileReader('/proc');
    const a = await r.read('self/stat');
    const b = await r.read('self/stat');
    // utime/stime/minflt move between reads of our own stat; the pid stays.
    expect(a.split(' ')[0]).toBe(String(process.pid));
    expect(b.split(' ')[0]).toBe(String(process.pid));
    const big = await r.read('self/maps'); // larger than one read
    expect(big.length).toBeGreaterThan(1000);
    expect((await r.read('self/maps')).split('\n')[0]).toBe(big.split('\n')[0]);
  });

  it('sees a regular file that was replaced by rename (fixture trees are not kept open)', async () => {
    const dir = tmpdir();
    writeFileSync(path.join(dir, 'stat'), 'one');
    const r = fileReader(dir);
    expect(await r.read('stat')).toBe('one');
    writeFileSync(path.join(dir, 'stat.new'), 'two');
    renameSync(path.join(dir, 'stat.new'), path.join(dir, 'stat'));
    expect(await r.read('stat')).toBe('two');
  });

  it('rejects with ENOENT for a file that is not there', async () => {
    await expect(fileReader('/proc').read('no-such-file')).rejects.toThrow(/ENOENT/);
  });
});
