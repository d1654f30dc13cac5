// Opens and reads files that must be regular files (configs, secrets, pidfiles, logs) so that a
// FIFO, a device, a socket or a directory at that path is refused by name instead of blocking a
// read for ever (a FIFO without a writer) or never reaching its end (/dev/zero).
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';

/** What a path is, as a message says it: "a directory", "a FIFO (named pipe)", ... */
export function fileKind(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The path exists but is not a regular file; `kind` says what it is. */
export class NotRegularFileError extends Error {
  constructor(
    readonly file: string,
    readonly kind: string,
  ) {
    super(`${file} is ${kind}, not a regular file`);
    this.name = 'NotRegularFileError';
  }
}

/** The file holds more than the caller accepts. */
export class FileTooLargeError extends Error {
  constructor(
    readonly file: string,
    readonly limit: number,
  ) {
    super(`${file} is larger than ${limit} bytes`);
    this.name = 'FileTooLargeError';
  }
}

// O_NONBLOCK: opening a FIFO that has no writer returns at once instead of waiting for one.
// Reads from a regular file ignore the flag, so the descriptor reads as usual.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/**
 * Opens `file` for reading when it is a regular file (symlinks followed); throws
 * NotRegularFileError otherwise, or the open's own error (ENOENT, EACCES). The path is checked
 * before it is opened, since opening some devices has effects of its own, and the descriptor
 * after, since the path may have been replaced in between.
 */
export function openRegularFile(file: string): number {
  const before = statSync(file);
  if (!before.isFile()) throw new NotRegularFileError(file, fileKind(before));
  const fd = openSync(file, OPEN_FLAGS);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new NotRegularFileError(file, fileKind(st));
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

/**
 * Reads a regular file of at most `maxBytes` as UTF-8. Throws NotRegularFileError,
 * FileTooLargeError (also when it grows past the limit while being read), or the open's error.
 */
export function readRegularFile(file: string, maxBytes: number): string {
  const fd = openRegularFile(file);
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) throw new FileTooLargeError(file, maxBytes);
    // Room for one byte more than allowed tells a file that grew past the limit from one ending at it.
    let buf = Buffer.allocUnsafe(Math.min(size, maxBytes) + 1);
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (n > maxBytes) throw new FileTooLargeError(file, maxBytes);
        const bigger = Buffer.allocUnsafe(Math.min(maxBytes + 1, buf.length * 2));
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const got = readSync(fd, buf, n, buf.length - n, n);
      if (got === 0) return buf.toString('utf8', 0, n);
      n += got;
    }
  } finally {
    closeSync(fd);
  }
}
