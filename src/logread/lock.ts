// One run per log: a lock file holding the owner's pid. A lock whose process is gone is taken over
// (Logster obeys it forever); a second live run is refused.
import { closeSync, linkSync, openSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { processAlive } from '../files/process-alive.js';
import { readRegularFile } from '../files/regular-file.js';

/** A lock holds a pid; reading it as a regular file of at most this keeps a FIFO put in its place from blocking the run. */
const readLockFile = (file: string): string => readRegularFile(file, 4096);

export class LockHeld extends Error {}

/**
 * Creates the lock with our pid in it, or returns false when it exists. The pid is written to a
 * private file first and hard-linked into place, so the lock is never seen empty (a run killed
 * between creating and writing it would otherwise block the next runs for 10 s).
 */
function tryCreate(file: string): boolean {
  const mine = `${file}.${process.pid}`;
  try {
    writeFileSync(mine, String(process.pid), { mode: 0o644 });
  } catch {
    return tryCreateDirect(file);
  }
  try {
    linkSync(mine, file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // A filesystem without hard links: create the lock in place.
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') return tryCreateDirect(file);
    throw err;
  } finally {
    try {
      unlinkSync(mine);
    } catch {
      /* already gone */
    }
  }
}

function tryCreateDirect(file: string): boolean {
  try {
    const fd = openSync(file, 'wx', 0o644);
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/**
 * Takes the lock or throws LockHeld naming the holder. Returns a release function. A stale lock is
 * replaced under a short-lived takeover lock, so two runs that both find it stale cannot both win.
 */
export function takeLock(file: string): () => void {
  const release = () => {
    try {
      if (readLockFile(file).trim() === String(process.pid)) unlinkSync(file);
    } catch {
      /* already gone */
    }
  };
  if (tryCreate(file)) return release;
  const takeover = `${file}.takeover`;
  for (let attempt = 0; attempt < 2; attempt++) {
    let text = '';
    let mtime = 0;
    try {
      text = readLockFile(file).trim();
      mtime = statSync(file).mtimeMs;
    } catch {
      if (tryCreate(file)) return release;
      continue;
    }
    const pid = Number(text);
    // An empty lock (written by another tool, or on a filesystem without hard links) may be one
    // being written this instant; only an old one is stale.
    const stale = /^\d+$/.test(text) ? pid !== process.pid && !processAlive(pid, mtime) : Date.now() - mtime > 10_000;
    if (!stale) throw new LockHeld(`another run holds the lock ${file} (pid ${text || 'unknown'})`);
    try {
      if (Date.now() - statSync(takeover).mtimeMs > 60_000) unlinkSync(takeover);
    } catch {
      /* no takeover in progress */
    }
    if (!tryCreate(takeover)) throw new LockHeld(`another run is taking over the stale lock ${file}`);
    try {
      // Still the same stale lock? Then it is ours to replace.
      let again = '';
      try {
        again = readLockFile(file).trim();
      } catch {
        /* removed meanwhile */
      }
      if (again === text) {
        try {
          unlinkSync(file);
        } catch {
          /* removed meanwhile */
        }
      }
      if (tryCreate(file)) return release;
    } finally {
      unlinkSync(takeover);
    }
  }
  throw new LockHeld(`could not take the lock ${file}`);
}
