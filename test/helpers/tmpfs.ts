// A real, tiny file system that fills up: a tmpfs of a few KiB mounted by the test (the tests run
// as root) and unmounted after it, for a spool that meets ENOSPC and short writes for real.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterEach } from 'vitest';
import { tmpdir } from './tmp.js';

const mounted: string[] = [];

/** A fresh directory with a tmpfs of `size` (e.g. `16k`) mounted on it, unmounted after the test. */
export function tmpfs(size: string): string {
  const dir = tmpdir();
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
  mounted.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of mounted.splice(0)) {
    execFileSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});
