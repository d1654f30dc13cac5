// --pidfile for hosts without systemd: refuses to start beside a live sonde, removed on exit.
import { statSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processAlive } from '../files/process-alive.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import { NotRegularFileError, readRegularFile } from '../files/regular-file.js';

/** A pidfile holds a pid and a newline; anything longer is not one. */
const MAX_PIDFILE_BYTES = 4096;

/** The pid a pidfile names, undefined when there is none; throws when the path is no file to use. */
function readPid(file: string): number | undefined {
  try {
    return Number.parseInt(readRegularFile(file, MAX_PIDFILE_BYTES).trim(), 10);
  } catch (err) {
    if (err instanceof NotRegularFileError) {
      throw new Error(`--pidfile ${file} is ${err.kind}, not a pid file; nothing was started. Pass --pidfile with the path of a file (such as /run/sonde.pid)`);
    }
    // Missing, unreadable or too long: not a pid we need to respect; writing it says more.
    return undefined;
  }
}

/** Why the pidfile could not be written, and what to do. */
function writeFailure(file: string, err: NodeJS.ErrnoException): string {
  const dir = path.dirname(file);
  const what = `cannot write the pidfile ${file}`;
  if (err.code === 'ENOENT') return `${what}: the directory ${dir} does not exist; nothing was started. Create it, or pass --pidfile with a path in an existing directory`;
  if (err.code === 'EACCES' || err.code === 'EPERM') {
    return `${what}: user ${os.userInfo().username} may not write in ${dir}; nothing was started. Give that user a directory it can write (such as /run/sonde/), or run sonde as a user that may`;
  }
  return `${what}: ${err.message}; nothing was started`;
}

/** Writes our pid; throws when the file names another live process or cannot be written. Returns a remover. */
export function takePidfile(file: string): () => void {
  const existing = readPid(file);
  let writtenAt: number | undefined;
  try {
    writtenAt = statSync(file).mtimeMs;
  } catch {
    writtenAt = undefined;
  }
  if (existing !== undefined && Number.isInteger(existing) && existing > 0 && existing !== process.pid && processAlive(existing, writtenAt)) {
    throw new Error(`another sonde is running (pid ${existing}, from ${file}); stop it first, or remove ${file} if that pid is not sonde`);
  }
  try {
    writeFileAtomic(file, `${process.pid}\n`);
  } catch (err) {
    throw new Error(writeFailure(file, err as NodeJS.ErrnoException));
  }
  return () => {
    try {
      if (readRegularFile(file, MAX_PIDFILE_BYTES).trim() === String(process.pid)) unlinkSync(file);
    } catch {
      /* already gone, or no longer ours */
    }
  };
}
