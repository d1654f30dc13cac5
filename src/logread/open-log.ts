// Opens a followed log, which must be a regular file: opening a FIFO would wait for a writer and
// reading one block for ever (taking SIGTERM with it), and a device such as /dev/zero never ends.
import os from 'node:os';
import { NotRegularFileError, openRegularFile } from '../files/regular-file.js';

/** A log that cannot be followed, in a sentence naming it and saying what to do. */
export class LogFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
    this.name = 'LogFileError';
  }
}

/** Opens `file` for reading; throws LogFileError for a path that is no regular file or may not be read, else the open's error (ENOENT). */
export function openLog(file: string): number {
  try {
    return openRegularFile(file);
  } catch (err) {
    if (err instanceof NotRegularFileError) {
      throw new LogFileError(file, `${file} is ${err.kind}, not a log file: only regular files are read`);
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new LogFileError(file, `cannot read ${file}: permission denied for user ${os.userInfo().username}. Give that user read access to it (for most logs in /var/log, membership of group adm)`);
    }
    throw err;
  }
}
