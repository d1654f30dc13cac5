// Reads files below /proc, /sys or a fixture tree standing in for them.
import { closeSync, openSync, readFileSync, readSync, statfsSync } from 'node:fs';
import path from 'node:path';
import type { FileReader } from '../plugin-api.js';

/**
 * /proc and /sys are generated from kernel memory and answer in microseconds, so they are read
 * synchronously (an async read hops to the libuv thread pool four times per file). Each file is
 * opened once and re-read from offset 0 with pread: the kernel regenerates a /proc file on every
 * read from the start, so this saves open, fstat and close on every collection. A descriptor that
 * stops working (the file went away) is closed and the file opened afresh. Only procfs and sysfs
 * get this: a regular file (a fixture tree) may be replaced by rename and is read fresh each time.
 */
const PROC_SUPER_MAGIC = 0x9fa0;
const SYSFS_MAGIC = 0x62656572;
/** Enough for every built-in collector; a plugin reading per-process files does not pile up fds. */
const MAX_OPEN = 64;

function isKernelFs(dir: string): boolean {
  try {
    const t = statfsSync(dir).type;
    return t === PROC_SUPER_MAGIC || t === SYSFS_MAGIC;
  } catch {
    return false;
  }
}

export function fileReader(root: string): FileReader {
  const abs = path.resolve(root);
  const keepOpen = isKernelFs(abs);
  const fds = new Map<string, number>();
  let buf = Buffer.allocUnsafe(64 * 1024);

  const readAll = (fd: number): string => {
    let len = 0;
    for (;;) {
      const n = readSync(fd, buf, len, buf.length - len, len);
      if (n === 0) break;
      len += n;
      if (len === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, len);
        buf = bigger;
      }
    }
    return buf.toString('utf8', 0, len);
  };

  return {
    root: abs,
    resolve: (relative: string) => path.join(abs, relative),
    read: (relative: string) => {
      if (!keepOpen || (fds.size >= MAX_OPEN && !fds.has(relative))) {
        try {
          return Promise.resolve(readFileSync(path.join(abs, relative), 'utf8'));
        } catch (err) {
          return Promise.reject(err as Error);
        }
      }
      let fd = fds.get(relative);
      try {
        if (fd !== undefined) {
          try {
            return Promise.resolve(readAll(fd));
          } catch {
            closeSync(fd);
            fds.delete(relative);
          }
        }
        fd = openSync(path.join(abs, relative), 'r');
        fds.set(relative, fd);
        return Promise.resolve(readAll(fd));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    },
  };
}
