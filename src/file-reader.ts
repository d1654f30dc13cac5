// Reads files below /proc, /sys or a fixture tree standing in for them.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FileReader } from './plugin-api.js';

export function fileReader(root: string): FileReader {
  const abs = path.resolve(root);
  return {
    root: abs,
    resolve: (relative: string) => path.join(abs, relative),
    read: (relative: string) => readFile(path.join(abs, relative), 'utf8'),
  };
}
