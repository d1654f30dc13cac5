// Reading and replacing the handler's state file. Reads take only a regular file (a FIFO there would
// block the agent's thread for ever). Writes go to a temporary file of their own, written whole
// (a nearly full disk makes a single write(2) short, not failed), synced and renamed over the old
// one, so the file is always the last whole state; the temporary file never outlives a failure.
// A state that could not be saved makes the older one wrong: it can be removed.
import { closeSync, constants, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

// O_NONBLOCK: a FIFO without a writer opens at once instead of waiting; a regular file reads as usual.
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/** The file's text; throws ENOENT and the like as they are, and an Error naming what else is there. */
export function readStateFile(file: string): string {
  const fd = openSync(file, READ_FLAGS);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`it is ${st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO (named pipe)' : 'not a regular file'}`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

let saves = 0;
/** A temporary name no other save (of this process or another) is using. */
function tmpName(file: string): string {
  return `${file}.${process.pid}.${++saves}.tmp`;
}

function syncDir(dir: string): void {
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* some file systems cannot sync a directory; the rename is still atomic */
  }
}

/** Replaces `file` with `data`, blocking (for close, when the event loop may not turn again). */
export function writeStateFileSync(file: string, data: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tmpName(file);
  const fd = openSync(tmp, 'w', 0o644);
  try {
    try {
      // writeFileSync on a descriptor writes until all is written or a write fails.
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw err;
  }
  syncDir(path.dirname(file));
}

/** The same without blocking the agent's thread. */
export async function writeStateFile(file: string, data: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = tmpName(file);
  const fh = await open(tmp, 'w', 0o644);
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  try {
    const dh = await open(path.dirname(file), 'r');
    await dh.sync().finally(() => dh.close());
  } catch {
    /* the rename is still atomic */
  }
}

/**
 * Removes `file` when it is a regular file (what `readStateFile` would read); returns why not when
 * one is still there, undefined when none is left.
 */
export function removeStateFile(file: string): Error | undefined {
  try {
    if (!statSync(file).isFile()) return undefined;
    unlinkSync(file);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : (err as Error);
  }
}
