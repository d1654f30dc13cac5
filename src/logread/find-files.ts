// Finds the files a followed path names: the path itself, or what its glob matches now minus the
// rotated copies of matched logs, which the live log's follower reads itself.
import { globSync, isDynamicPattern } from 'tinyglobby';

/** True when `pattern` is a glob (`*`, `?`, `[…]`, `{a,b}`), not one file's path. */
export function isGlob(pattern: string): boolean {
  return isDynamicPattern(pattern);
}

/** The live log a rotated copy's name points to: `<f>.1`, `<f>.2.gz`, `<f>-20261122`, `<f>-2026112213`. */
export function rotatedBase(file: string): string | undefined {
  const plain = file.endsWith('.gz') ? file.slice(0, -3) : file;
  const m = /^(.*?)(?:\.\d+|-\d{8}(?:\d{2})?)$/.exec(plain);
  return m ? m[1] : undefined;
}

export interface FoundFiles {
  /** The logs to follow, in name order. */
  readonly files: string[];
  /** Matches passed over: compressed, or a rotated copy of a log that matches too. */
  readonly rotated: string[];
}

/**
 * The files `pattern` names now. A plain path is returned whether or not it exists (it may appear
 * later); a glob lists regular files, dot files and symlinks to files included. Throws when the glob
 * cannot be listed.
 */
export function findLogFiles(pattern: string): FoundFiles {
  if (!isGlob(pattern)) return { files: [pattern], rotated: [] };
  const matches = globSync(pattern, { absolute: true, onlyFiles: true, dot: true, followSymbolicLinks: true, expandDirectories: false }).sort();
  const all = new Set(matches);
  const files: string[] = [];
  const rotated: string[] = [];
  for (const f of matches) {
    const base = rotatedBase(f);
    // Following a copy too would count its lines twice: the live log's follower reads it after a rotation.
    if (f.endsWith('.gz') || (base !== undefined && all.has(base))) rotated.push(f);
    else files.push(f);
  }
  return { files, rotated };
}
