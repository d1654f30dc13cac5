// mkdir -p, one level at a time. Node's mkdirSync(dir, { recursive: true }) never returns for a
// path under a file system that refuses new directories with ENOENT (/proc, /sys: node 20.20
// spins in the kernel, checked with state_dir: /proc/x), so a config naming such a path would hang
// the agent instead of being reported.
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Makes `dir` and its missing parents with `mode`; throws the failing level's error (code kept). */
export function makeDirs(dir: string, mode = 0o750): void {
  const missing: string[] = [];
  for (let d = path.resolve(dir); ; ) {
    try {
      if (statSync(d).isDirectory()) break;
      throw Object.assign(new Error(`${d} is not a directory`), { code: 'ENOTDIR' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    missing.push(d);
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d, { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}
