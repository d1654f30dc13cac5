// writeFileAtomic on a real file system that fills up (a tiny tmpfs): a write the disk can only
// take part of must fail, leave the old file whole and no temporary file behind.
import { existsSync, mkdirSync, readdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../src/files/atomic-write.js';
import { tmpfs } from './helpers/tmpfs.js';

describe('writeFileAtomic', () => {
  it('writes the new content whole and leaves nothing else behind', () => {
    const dir = tmpfs('64k');
    const file = path.join(dir, 'state.json');
    writeFileAtomic(file, 'old');
    writeFileAtomic(file, Buffer.from('new content'));
    expect(readFileSync(file, 'utf8')).toBe('new content');
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('a disk with room for only part of it (a short write): it throws, the old file stays whole, no temporary file', () => {
    const dir = tmpfs('64k');
    const file = path.join(dir, 'state.json');
    writeFileAtomic(file, 'old content\n');
    // Fill all but a few pages, then write more than they hold.
    const free = () => {
      const s = statfsSync(dir);
      return s.bavail * s.bsize;
    };
    writeFileSync(path.join(dir, 'filler'), Buffer.alloc(free() - 8192, 120));
    expect(free()).toBeGreaterThan(0);
    const big = 'x'.repeat(free() + 20_000);
    expect(() => writeFileAtomic(file, big)).toThrow(/ENOSPC/);
    expect(readFileSync(file, 'utf8')).toBe('old content\n');
    expect(readdirSync(dir).sort()).toEqual(['filler', 'state.json']);
  });

  it('a rename that fails (the target is a directory): it throws and removes its temporary file', () => {
    const dir = tmpfs('64k');
    const target = path.join(dir, 'taken');
    writeFileSync(path.join(dir, 'x'), '');
    // A directory with something in it cannot be replaced by a file.
    mkdirSync(target);
    writeFileSync(path.join(target, 'inside'), 'keep');
    expect(() => writeFileAtomic(target, 'data')).toThrow();
    expect(existsSync(path.join(target, 'inside'))).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['taken', 'x']);
  });
});
