// Reads the complete lines of one file from a byte offset to its end, in large chunks.
import { readSync } from 'node:fs';
import type { LineFeeder } from './line-feeder.js';

const NL = 0x0a;
const CHUNK = 1 << 18;

/** Where a read stopped. */
export interface ReadEnd {
  /** The byte after the last line consumed: where the next read starts. */
  offset: number;
  /** True when the file ends inside a line longer than the limit (the rest of it is skipped too). */
  skipping: boolean;
  bytes: number;
}

let shared: Buffer | undefined;

/**
 * A reader that carries a partial line across chunks, never holding more than `maxLineBytes` of it:
 * a longer line is counted and skipped up to its newline. `final` treats a last line without a
 * newline as complete (a rotated file nobody writes to any more).
 */
export class ChunkLines {
  private carry: Buffer;
  private carryLen = 0;
  skipping: boolean;

  constructor(
    private readonly feeder: LineFeeder,
    private readonly maxLineBytes: number,
    skipping = false,
  ) {
    this.carry = Buffer.allocUnsafe(Math.min(maxLineBytes + 1, 64 * 1024));
    this.skipping = skipping;
  }

  /** Bytes held back: a partial last line. */
  get pending(): number {
    return this.carryLen;
  }

  /** Consumes `buf[0, len)`: its complete lines go to the feeder, a partial last line is held. */
  push(buf: Buffer, len: number): void {
    const first = buf.indexOf(NL, 0);
    if (first < 0 || first >= len) {
      this.hold(buf, 0, len);
      return;
    }
    // The line that began in an earlier chunk ends here.
    if (this.skipping) {
      this.skipping = false;
      this.carryLen = 0;
    } else if (this.carryLen > 0) {
      if (this.carryLen + first > this.maxLineBytes) this.feeder.skipped();
      else {
        this.hold(buf, 0, first);
        this.feeder.line(this.carry, 0, this.carryLen);
      }
      this.carryLen = 0;
    } else if (first > this.maxLineBytes) this.feeder.skipped();
    else this.feeder.line(buf, 0, first);
    const s = first + 1;
    const last = buf.lastIndexOf(NL, len - 1);
    if (last >= s) {
      if (this.maxLineBytes >= CHUNK) this.feeder.lines(buf, s, last + 1);
      else this.boundedLines(buf, s, last + 1);
    }
    const consumedTo = Math.max(s, last + 1);
    if (consumedTo < len) this.hold(buf, consumedTo, len);
  }

  /** A final partial line (the file will not grow): parse it if it is within the limit. */
  finish(): void {
    if (this.carryLen > 0 && !this.skipping) this.feeder.line(this.carry, 0, this.carryLen);
    this.carryLen = 0;
    this.skipping = false;
  }

  private boundedLines(buf: Buffer, start: number, end: number): void {
    // With a limit below the chunk size every line's length must be checked.
    let s = start;
    while (s < end) {
      const e = buf.indexOf(NL, s);
      if (e - s > this.maxLineBytes) this.feeder.skipped();
      else this.feeder.lines(buf, s, e + 1);
      s = e + 1;
    }
  }

  private hold(buf: Buffer, from: number, to: number): void {
    if (this.skipping) return;
    const n = to - from;
    if (this.carryLen + n > this.maxLineBytes) {
      // Too long to ever parse: stop buffering and skip to its newline.
      this.feeder.skipped();
      this.skipping = true;
      this.carryLen = 0;
      return;
    }
    if (this.carryLen + n > this.carry.length) {
      const bigger = Buffer.allocUnsafe(Math.min(this.maxLineBytes + 1, Math.max(this.carry.length * 2, this.carryLen + n)));
      this.carry.copy(bigger, 0, 0, this.carryLen);
      this.carry = bigger;
    }
    buf.copy(this.carry, this.carryLen, from, to);
    this.carryLen += n;
  }
}

/**
 * Reads `fd` from `offset` to its current end. Returns where the next read should start: after the
 * last complete line, or at the end when the file ends inside an over-long line.
 */
export function readLines(fd: number, offset: number, feeder: LineFeeder, maxLineBytes: number, skipping: boolean, final = false): ReadEnd {
  const buf = (shared ??= Buffer.allocUnsafe(CHUNK));
  const lines = new ChunkLines(feeder, maxLineBytes, skipping);
  let pos = offset;
  let consumed = offset;
  for (;;) {
    const n = readSync(fd, buf, 0, CHUNK, pos);
    if (n <= 0) break;
    lines.push(buf, n);
    pos += n;
    // Consumed so far: everything read except the partial line still carried.
    consumed = pos - lines.pending;
  }
  if (final) {
    lines.finish();
    consumed = pos;
  } else if (lines.skipping) consumed = pos;
  return { offset: consumed, skipping: final ? false : lines.skipping, bytes: pos - offset };
}
