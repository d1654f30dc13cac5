// Follows one log file from a saved position: rotation by rename (the rotated file is read to its
// end first, and kept while a late writer still appends to it), copytruncate, compression at once,
// deletion and recreation. Used by `sonde logster` (one poll per run) and the `logs` collector.
import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { LineFeeder } from './line-feeder.js';
import { openLog } from './open-log.js';
import { ChunkLines, readLines } from './read-lines.js';
import { findByInode, findCopyByFingerprint, fingerprintAt, fingerprintMatches, readGzFrom, rotatedCandidates } from './rotated.js';
import type { DrainCursor, FileCursor, LogState } from './offset-file.js';

export interface FollowOptions {
  readonly maxLineBytes: number;
  /** How long a rotated file is still read after it last grew (a late writer). */
  readonly rotateWaitMs: number;
  /** Keep descriptors open between polls (the daemon): a renamed or deleted file is still drained. */
  readonly keepOpen: boolean;
}

/** What happened in one poll, for the log. */
export interface PollResult {
  /** No saved position: the end of the log was recorded (or, from the start, read). */
  firstRun: boolean;
  /** The log file does not exist. */
  missing: boolean;
  bytes: number;
  /** Operator-facing notes: rotations followed, truncations, what could not be found. */
  notes: string[];
  /** Problems that may have lost lines. */
  warnings: string[];
}

interface Open {
  cursor: FileCursor;
  fd: number | undefined;
}

interface Drain {
  cursor: DrainCursor;
  fd: number | undefined;
}

const statOrUndefined = (file: string): Stats | undefined => {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
};

const tryClose = (fd: number | undefined) => {
  if (fd !== undefined) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
  }
};

/** The offset just after the last newline (a partial last line is read when it is complete). */
function lastLineEnd(fd: number, size: number, maxLineBytes: number): { offset: number; skipping: boolean } {
  const step = 64 * 1024;
  const buf = Buffer.allocUnsafe(step);
  let end = size;
  while (end > 0 && size - end <= maxLineBytes) {
    const start = Math.max(0, end - step);
    const n = readSync(fd, buf, 0, end - start, start);
    const i = buf.subarray(0, n).lastIndexOf(0x0a);
    if (i >= 0) return { offset: start + i + 1, skipping: false };
    end = start;
  }
  return end === 0 ? { offset: 0, skipping: false } : { offset: size, skipping: true };
}

export class LogFollower {
  private cur: Open | undefined;
  private drains: Drain[] = [];

  constructor(
    readonly file: string,
    saved: LogState | undefined,
    private readonly opts: FollowOptions,
  ) {
    if (saved) {
      this.cur = { cursor: { ...saved.current }, fd: undefined };
      this.drains = saved.draining.map((d) => ({ cursor: { ...d }, fd: undefined }));
    }
  }

  /** The position to save; undefined before the first poll of a log without one. */
  state(): LogState | undefined {
    if (!this.cur) return undefined;
    return { current: { ...this.cur.cursor }, draining: this.drains.map((d) => ({ ...d.cursor })) };
  }

  /**
   * Reads every complete line written since the saved position into `feeder`. With no saved
   * position, records the end of the log (or reads it all, `fromStart`).
   */
  async poll(feeder: LineFeeder, fromStart = false, now = Date.now()): Promise<PollResult> {
    const r: PollResult = { firstRun: false, missing: false, bytes: 0, notes: [], warnings: [] };
    const max = this.opts.maxLineBytes;
    // Rotated files first: their lines are older than the new file's.
    for (const d of [...this.drains]) this.pollDrain(d, feeder, now, r);

    const st = statOrUndefined(this.file);
    if (!this.cur) {
      if (!st) {
        r.missing = true;
        return r;
      }
      const fd = openLog(this.file);
      const start = fromStart ? { offset: 0, skipping: false } : lastLineEnd(fd, st.size, max);
      this.cur = { cursor: { ino: st.ino, offset: start.offset, skipping: start.skipping, fp: undefined }, fd };
      r.firstRun = true;
      if (fromStart) this.readCurrent(feeder, r);
      else this.cur.cursor.fp = fingerprintAt(fd, start.offset);
      this.release();
      return r;
    }

    const cur = this.cur;
    const same = st !== undefined && st.ino === cur.cursor.ino && (cur.fd === undefined || fstatSync(cur.fd).ino === st.ino);
    if (same) {
      cur.fd ??= openLog(this.file);
      const size = fstatSync(cur.fd).size;
      if (size < cur.cursor.offset || !fingerprintMatches(cur.fd, cur.cursor.offset, cur.cursor.fp)) {
        await this.truncated(cur, feeder, r);
      }
      this.readCurrent(feeder, r);
    } else {
      await this.rotated(cur, feeder, now, r);
      if (st) {
        this.cur = { cursor: { ino: st.ino, offset: 0, skipping: false, fp: undefined }, fd: undefined };
        try {
          this.cur.fd = openLog(this.file);
          this.readCurrent(feeder, r);
        } catch (err) {
          r.warnings.push(`${this.file}: could not open the new file: ${(err as Error).message}`);
        }
      } else {
        // Gone: read whatever file appears here next from its start.
        this.cur = { cursor: { ino: 0, offset: 0, skipping: false, fp: undefined }, fd: undefined };
        r.missing = true;
      }
    }
    this.release();
    return r;
  }

  close(): void {
    tryClose(this.cur?.fd);
    if (this.cur) this.cur.fd = undefined;
    for (const d of this.drains) {
      tryClose(d.fd);
      d.fd = undefined;
    }
  }

  private release(): void {
    if (!this.opts.keepOpen) this.close();
  }

  private readCurrent(feeder: LineFeeder, r: PollResult): void {
    const c = this.cur!;
    const end = readLines(c.fd!, c.cursor.offset, feeder, this.opts.maxLineBytes, c.cursor.skipping);
    r.bytes += end.bytes;
    c.cursor.offset = end.offset;
    c.cursor.skipping = end.skipping;
    if (end.bytes > 0 || c.cursor.fp === undefined) c.cursor.fp = fingerprintAt(c.fd!, end.offset);
  }

  /** The file at our path is no longer the one we read: drain the old one before the new. */
  private async rotated(old: Open, feeder: LineFeeder, now: number, r: PollResult): Promise<void> {
    const c = old.cursor;
    if (c.ino === 0) return; // we were waiting for the file to appear
    let fd = old.fd;
    let where = 'its open descriptor';
    if (fd === undefined) {
      const byIno = findByInode(this.file, c.ino);
      if (byIno) {
        fd = openSync(byIno.file, 'r');
        where = byIno.file;
      }
    }
    if (fd !== undefined) {
      const end = readLines(fd, c.offset, feeder, this.opts.maxLineBytes, c.skipping);
      r.bytes += end.bytes;
      r.notes.push(`${this.file} was rotated; read ${end.bytes} bytes more from the old file (${where})`);
      const drain: Drain = { cursor: { ino: c.ino, offset: end.offset, skipping: end.skipping, fp: fingerprintAt(fd, end.offset), idleSince: now }, fd };
      this.drains.push(drain);
      if (!this.opts.keepOpen) {
        tryClose(fd);
        drain.fd = undefined;
      }
      return;
    }
    if (await this.readCopy(c, feeder, r, 'rotated')) return;
    r.warnings.push(
      `${this.file} was rotated and the old file (inode ${c.ino}) was not found under a rotated name; lines written to it after byte ${c.offset} were not read`,
    );
  }

  /** Same inode, but shorter than our offset or other bytes before it: truncated (copytruncate). */
  private async truncated(cur: Open, feeder: LineFeeder, r: PollResult): Promise<void> {
    const c = cur.cursor;
    if (!(await this.readCopy(c, feeder, r, 'truncated', c.ino))) {
      r.warnings.push(
        `${this.file} was truncated (copytruncate?) and no rotated copy holding the bytes before offset ${c.offset} was found; lines written between the last read and the truncation were not read`,
      );
    }
    c.offset = 0;
    c.skipping = false;
    c.fp = undefined;
  }

  /** Finds a rotated copy by fingerprint (plain or gzip) and reads it from our offset to its end. */
  private async readCopy(c: FileCursor, feeder: LineFeeder, r: PollResult, what: string, skipIno = -1): Promise<boolean> {
    if (!c.fp) return false;
    const copy = findCopyByFingerprint(this.file, c.offset, c.fp, skipIno);
    if (copy) {
      const fd = openSync(copy.file, 'r');
      try {
        const end = readLines(fd, c.offset, feeder, this.opts.maxLineBytes, c.skipping, true);
        r.bytes += end.bytes;
      } finally {
        closeSync(fd);
      }
      r.notes.push(`${this.file} was ${what}; read the rest of the old content from ${copy.file}`);
      return true;
    }
    for (const gz of rotatedCandidates(this.file)) {
      if (!gz.gz) continue;
      const lines = new ChunkLines(feeder, this.opts.maxLineBytes, c.skipping);
      let bytes = 0;
      const ok = await readGzFrom(gz.file, c.offset, c.fp, (buf) => {
        bytes += buf.length;
        lines.push(buf, buf.length);
      });
      if (ok) {
        lines.finish();
        r.bytes += bytes;
        r.notes.push(`${this.file} was ${what}; read the rest of the old content from ${gz.file}`);
        return true;
      }
    }
    return false;
  }

  private pollDrain(d: Drain, feeder: LineFeeder, now: number, r: PollResult): void {
    const c = d.cursor;
    if (d.fd === undefined) {
      const f = findByInode(this.file, c.ino);
      if (f) d.fd = openSync(f.file, 'r');
    }
    if (d.fd === undefined || !fingerprintMatches(d.fd, c.offset, c.fp)) {
      // Compressed or deleted since the last run: nothing more can be written to it.
      tryClose(d.fd);
      this.drains.splice(this.drains.indexOf(d), 1);
      return;
    }
    const end = readLines(d.fd, c.offset, feeder, this.opts.maxLineBytes, c.skipping);
    r.bytes += end.bytes;
    if (end.bytes > 0) c.idleSince = now;
    c.offset = end.offset;
    c.skipping = end.skipping;
    if (now - c.idleSince >= this.opts.rotateWaitMs) {
      // Quiet long enough: a last line without a newline will get none now.
      const fin = readLines(d.fd, c.offset, feeder, this.opts.maxLineBytes, c.skipping, true);
      r.bytes += fin.bytes;
      tryClose(d.fd);
      this.drains.splice(this.drains.indexOf(d), 1);
      return;
    }
    c.fp = fingerprintAt(d.fd, c.offset);
    if (!this.opts.keepOpen) {
      tryClose(d.fd);
      d.fd = undefined;
    }
  }
}

export { LineFeeder };
