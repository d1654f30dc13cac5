// Keeps the offsets of a set of followed logs in one folder: a logtail2-format file per log
// (offset-file.ts), named after the log's path, written only when asked to (after the figures the
// offset covers were emitted) and only when it changed. Without a folder, nothing is kept on disk.
import { rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { formatState, readState, writeState, type LogState } from './offset-file.js';
import { makeDirs } from '../files/make-dirs.js';

/** A state file name for a log path: readable, unique, short enough for any filesystem. */
export function offsetFileName(log: string): string {
  const enc = log.replaceAll('%', '%25').replaceAll('/', '%2F');
  if (enc.length <= 200) return `${enc}.offset`;
  return `${enc.slice(-120)}-${createHash('sha256').update(log).digest('hex').slice(0, 16)}.offset`;
}

export class OffsetStore {
  /** The state text last read or written per log, to skip writes that change nothing. */
  private readonly saved = new Map<string, string>();

  /** `dir` undefined: offsets live only in the followers (`sonde collect`). */
  constructor(readonly dir: string | undefined) {}

  /** Where a log's offset is kept, or undefined without a folder. */
  fileOf(log: string): string | undefined {
    return this.dir === undefined ? undefined : path.join(this.dir, offsetFileName(log));
  }

  /** The saved offset of a log, if any. Throws StateFileError when its file is damaged. */
  load(log: string): LogState | undefined {
    const file = this.fileOf(log);
    if (file === undefined) return undefined;
    const state = readState(file);
    if (state) this.saved.set(log, formatState(state));
    return state;
  }

  /** Saves a log's offset when it changed; throws when it cannot be written. */
  save(log: string, state: LogState): void {
    const file = this.fileOf(log);
    if (file === undefined) return;
    const text = formatState(state);
    if (text === this.saved.get(log)) return;
    makeDirs(path.dirname(file), 0o750);
    writeState(file, state);
    this.saved.set(log, text);
  }

  /** Removes the offset of a log that is no longer followed. */
  forget(log: string): void {
    this.saved.delete(log);
    const file = this.fileOf(log);
    if (file !== undefined) rmSync(file, { force: true });
  }

  /** Milliseconds since the oldest of these logs' offsets was saved; undefined when none is on disk. */
  ageMs(logs: Iterable<string>, now = Date.now()): number | undefined {
    let oldest: number | undefined;
    for (const log of logs) {
      const file = this.fileOf(log);
      if (file === undefined || !this.saved.has(log)) continue;
      try {
        const m = statSync(file).mtimeMs;
        oldest = oldest === undefined ? m : Math.min(oldest, m);
      } catch {
        /* removed meanwhile */
      }
    }
    return oldest === undefined ? undefined : Math.max(0, now - oldest);
  }
}
