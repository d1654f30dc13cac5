// Logster's own log of each run: `<log-dir>/logster.log` in Python logging's layout, with
// warnings and errors also on stderr (which cron mails to the crontab's owner).
import { appendFileSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { makeDirs } from '../files/make-dirs.js';
import { logLine } from '../logging/log-args.js';

/** Where a run prints: standard output (the stdout output, help) and standard error. */
export interface Io {
  out(s: string): void;
  err(s: string): void;
}

/** Logster's own log: `<log-dir>/logster.log`, Python logging's layout, rotated at 100 MB. */
export class RunLog {
  private file: string | undefined;
  constructor(
    private readonly dir: string,
    private readonly debugOn: boolean,
    private readonly io: Io,
  ) {
    const file = path.join(dir, 'logster.log');
    try {
      makeDirs(dir, 0o777);
    } catch (err) {
      this.cannotWrite(file, (err as NodeJS.ErrnoException).code === 'EEXIST' ? `${dir} is not a directory` : (err as Error).message);
      return;
    }
    this.file = file;
    try {
      if (statSync(file).size > 100 * 1024 * 1024) renameSync(file, `${file}.1`);
    } catch {
      /* no log yet; a rename that fails shows as a failed write */
    }
  }

  /** Said once, on stderr (cron mails it): the run goes on, with its exit status unchanged. */
  private cannotWrite(file: string, reason: string): void {
    this.file = undefined;
    this.io.err(
      `sonde logster: cannot write the run log ${file}: ${reason}. This run's messages are not kept there (its warnings and errors still come here, on stderr); the run goes on. Make ${this.dir} a directory this user can write, or pass -l DIR.\n`,
    );
  }
  private write(level: string, msg: string): void {
    if (!this.file) return;
    const d = new Date();
    const p = (n: number, w = 2) => String(n).padStart(w, '0');
    const ts = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`;
    try {
      appendFileSync(this.file, `${ts} ${level.padEnd(8)} ${msg}\n`);
    } catch (err) {
      this.cannotWrite(this.file, (err as Error).message);
    }
  }
  // Called as a handler's logger too (`sonde logster --config`): pino's order `(fields, msg)` works.
  debug(a: string | Record<string, unknown> | Error, b?: string | Record<string, unknown>): void {
    if (this.debugOn) {
      const msg = logLine(a, b);
      this.write('DEBUG', msg);
      this.io.err(`sonde logster: ${msg}\n`);
    }
  }
  info(a: string | Record<string, unknown> | Error, b?: string | Record<string, unknown>): void {
    const msg = logLine(a, b);
    this.write('INFO', msg);
    if (this.debugOn) this.io.err(`sonde logster: ${msg}\n`);
  }
  /** Warnings and errors also go to stderr, which cron mails to the owner. */
  warn(a: string | Record<string, unknown> | Error, b?: string | Record<string, unknown>): void {
    const msg = logLine(a, b);
    this.write('WARNING', msg);
    this.io.err(`sonde logster: ${msg}\n`);
  }
  error(a: string | Record<string, unknown> | Error, b?: string | Record<string, unknown>): void {
    const msg = logLine(a, b);
    this.write('ERROR', msg);
    this.io.err(`sonde logster: ${msg}\n`);
  }
}
