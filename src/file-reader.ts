// Reads files below /proc, /sys or a fixture tree standing in for them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FileReader } from './plugin-api.js';

/**
 * /proc and /sys are generated from kernel memory and answer in microseconds, so they are read
 * synchronously: an async read would hop to the libuv thread pool four times per file (open,
 * fstat, read, close), costing more CPU than the read itself and starting four threads in
 * every `sonde once`. Reads that can block (statfs of a network mount) use their own calls.
 */
export function fileReader(root: string): FileReader {
  const abs = path.resolve(root);
  return {
    root: abs,
    resolve: (relative: string) => path.join(abs, relative),
    read: (relative: string) => {
      try {
        return Promise.resolve(readFileSync(path.join(abs, relative), 'utf8'));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    },
  };
}
