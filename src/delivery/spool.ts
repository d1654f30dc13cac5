// A handler's disk spool: samples that do not fit in memory, or are left at shutdown, wait here
// in order until the handler can send them.
//
// Layout: <dir>/<16-digit sequence>.spool segments, appended to and never rewritten. A record is
//   u32 payload length | u32 sample count | u32 CRC-32 of the payload | payload (JSON)
// so a torn last record (kill -9, power loss) is detected by its length or checksum and skipped
// without losing the records before it. Whole segments are replayed oldest first and deleted once
// sent: a crash while sending one re-sends it (at least once; Graphite keeps the last write).
// A write that fails (a full disk) leaves no partial record behind, and a segment that cannot be
// read back (removed, damaged) is reported with the samples it held: the spool never throws on it.
import { closeSync, fsyncSync, ftruncateSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { MetricName, Sample, SampleKind } from '../model/sample.js';
import { makeDirs } from '../files/make-dirs.js';

const HEADER = 12;
const SEGMENT = /^(\d{16})\.spool$/;

/** One sample on disk: [collector, instance, segments, value, kind, timestamp, precision]. */
type Wire = [string, string | null, string[], number | null, SampleKind, number, number | null];

export interface SpoolOptions {
  /** Total bytes on disk before the oldest segments are dropped. */
  readonly maxBytes: number;
  /** Segments whose last write is older than this (ms) are dropped. */
  readonly maxAge: number;
  /** A segment is closed and a new one started past this size. */
  readonly segmentBytes?: number;
}

export interface SpoolSegment {
  readonly file: string;
  readonly samples: Sample[];
  /** Bytes at the end that did not form a whole, valid record (a torn write). */
  readonly tornBytes: number;
  /**
   * Samples the spool wrote to this segment that could not be read back (the file was removed,
   * truncated or overwritten by something else); 0 for a sound segment.
   */
  readonly lost: number;
  /** Why they could not be read (the read error, or where the records stop being whole). */
  readonly damage: string | undefined;
  /** Samples at its start already settled by an earlier reader (see Spool.progress). */
  readonly resumeAt?: number;
}

export interface DropReport {
  readonly samples: number;
  readonly segments: number;
  readonly reason: 'size' | 'age';
}

/** An append that did not reach the disk whole; none of its bytes stay in the spool. */
/** A spool segment that could not be read now but may be later (EMFILE, EIO, EACCES): it stays on disk. */
export class SpoolReadError extends Error {
  constructor(
    readonly file: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SpoolReadError';
  }
}

export class SpoolWriteError extends Error {
  constructor(
    readonly dir: string,
    /** The system's code (ENOSPC, EDQUOT, EIO, ENOENT, ...). */
    readonly code: string,
    /** Bytes the record needed. */
    readonly bytes: number,
    message: string,
  ) {
    super(message);
    this.name = 'SpoolWriteError';
  }

  /** Out of space (a full disk or quota): dropping older segments can make room. */
  get full(): boolean {
    return this.code === 'ENOSPC' || this.code === 'EDQUOT';
  }
}

function segName(seq: number): string {
  return `${String(seq).padStart(16, '0')}.spool`;
}

function codeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'EIO';
}

export class Spool {
  /** Per segment, the samples at its start that are settled (see `progress`); in memory only. */
  private readonly settled = new Map<number, number>();
  private segments: { seq: number; bytes: number; samples: number }[] = [];
  private fd: number | undefined;
  private nextSeq = 1;
  /** The segment handed out by oldest() and not yet done: being sent, so the caps leave it. */
  private reading: number | undefined;
  private readonly names = new Map<string, MetricName>();

  constructor(
    readonly dir: string,
    private opts: SpoolOptions,
  ) {
    makeDirs(dir, 0o750);
    for (const f of readdirSync(dir).sort()) {
      const m = SEGMENT.exec(f);
      if (!m) continue;
      const seq = Number(m[1]);
      const file = path.join(dir, f);
      let bytes: number;
      try {
        bytes = statSync(file).size;
      } catch {
        continue; // gone since the listing
      }
      let samples = 0;
      try {
        samples = countSamples(readFileSync(file));
      } catch {
        // Unreadable now: kept, so that reading it reports it and removes it.
      }
      this.segments.push({ seq, bytes, samples });
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
    }
  }

  /** New caps (a reloaded config); they apply from the next append. */
  setLimits(opts: SpoolOptions): void {
    this.opts = opts;
  }

  /** Samples waiting on disk. */
  get pending(): number {
    return this.segments.reduce((n, s) => n + s.samples, 0);
  }

  get bytes(): number {
    return this.segments.reduce((n, s) => n + s.bytes, 0);
  }

  /**
   * Appends samples as one record (after any earlier ones). Throws a SpoolWriteError when the
   * record cannot be written whole; then nothing of it is on disk and the spool is as before.
   */
  append(samples: readonly Sample[]): void {
    if (samples.length === 0) return;
    const wire: Wire[] = samples.map((s) => [s.name.collector, s.name.instance ?? null, [...s.name.segments], s.value, s.kind, s.timestamp, s.precision ?? null]);
    const payload = Buffer.from(JSON.stringify(wire));
    const header = Buffer.allocUnsafe(HEADER);
    header.writeUInt32LE(payload.length, 0);
    header.writeUInt32LE(samples.length, 4);
    header.writeUInt32LE(crc32(payload), 8);
    const record = Buffer.concat([header, payload]);
    const seg = this.writer(record.length);
    this.write(seg, record);
    seg.bytes += record.length;
    seg.samples += samples.length;
  }

  /** The segment to append to: the newest while it is open and below the segment size, else a new one. */
  private writer(recordBytes: number): { seq: number; bytes: number; samples: number } {
    const last = this.segments.at(-1);
    // Caps drop whole segments: keep segments well below the cap so it can bite (1/8 of it, 16 KiB to 8 MiB).
    const segmentBytes = this.opts.segmentBytes ?? Math.min(8 * 1024 * 1024, Math.max(16 * 1024, Math.floor(this.opts.maxBytes / 8)));
    if (this.fd !== undefined && last !== undefined && last.bytes < segmentBytes) return last;
    this.closeWriter();
    const seq = this.nextSeq++;
    const file = path.join(this.dir, segName(seq));
    try {
      try {
        this.fd = openSync(file, 'a', 0o640);
      } catch (err) {
        if (codeOf(err) !== 'ENOENT') throw err;
        // The directory was removed under the agent: make it again.
        makeDirs(this.dir, 0o750);
        this.fd = openSync(file, 'a', 0o640);
      }
    } catch (err) {
      throw new SpoolWriteError(this.dir, codeOf(err), recordBytes, `cannot create ${file}: ${(err as Error).message}`);
    }
    const seg = { seq, bytes: 0, samples: 0 };
    this.segments.push(seg);
    return seg;
  }

  /** Writes the whole record or throws, taking back whatever part of it reached the file. */
  private write(seg: { seq: number; bytes: number; samples: number }, record: Buffer): void {
    let off = 0;
    try {
      while (off < record.length) {
        const n = writeSync(this.fd!, record, off, record.length - off);
        // A regular file takes fewer bytes only when it is out of space; the next write says why.
        if (n <= 0) throw Object.assign(new Error('no space left on device (the write took 0 bytes)'), { code: 'ENOSPC' });
        off += n;
      }
    } catch (err) {
      const code = codeOf(err);
      this.takeBack(seg, off > 0, code === 'ENOSPC' || code === 'EDQUOT');
      const file = path.join(this.dir, segName(seg.seq));
      throw new SpoolWriteError(this.dir, code, record.length, `cannot write ${record.length} bytes to ${file}: ${(err as Error).message}`);
    }
  }

  /**
   * After a failed write: cuts the segment back to its last whole record (a torn record would
   * hide every record after it). A segment that holds nothing goes; one that could not be cut
   * back, or failed for a reason other than space, is written no more (the next append starts another).
   */
  private takeBack(seg: { seq: number; bytes: number; samples: number }, wrotePart: boolean, full: boolean): void {
    if (seg.bytes === 0) {
      this.segments.pop();
      this.closeWriter();
      this.unlink(seg.seq);
      return;
    }
    let cut = !wrotePart;
    if (wrotePart) {
      try {
        ftruncateSync(this.fd!, seg.bytes);
        cut = true;
      } catch {
        // Left torn: reading it sends the whole records before the tear.
      }
    }
    if (!cut || !full) this.closeWriter();
  }

  /** Makes what was appended durable (called at shutdown and after spilling). Throws when the disk refuses. */
  sync(): void {
    if (this.fd !== undefined) fsyncSync(this.fd);
  }

  /**
   * The oldest segment's samples, in order; undefined when the spool is empty. Not removed until
   * `done`. A segment that cannot be read whole comes back with what could be read and `lost`.
   */
  oldest(): SpoolSegment | undefined {
    const seg = this.segments[0];
    if (!seg) return undefined;
    if (this.segments.length === 1) this.closeWriter(); // never read a segment still being written
    const file = path.join(this.dir, segName(seg.seq));
    this.reading = seg.seq;
    let buf: Buffer;
    try {
      buf = readFileSync(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Only a file that is gone (or is no file) is damage; EMFILE, EIO, EACCES may pass, and the
      // segment is still whole on disk: the caller retries it later.
      if (code !== 'ENOENT' && code !== 'EISDIR' && code !== 'ENOTDIR') {
        throw new SpoolReadError(file, code ?? 'EIO', `cannot read spool file ${file} (${(err as Error).message}); it stays on disk and is read again`);
      }
      // What an earlier reader settled (sent, or dropped and counted) is not lost again.
      const lost = Math.max(0, seg.samples - (this.settled.get(seg.seq) ?? 0));
      seg.samples = 0; // counted once, even if it is read again
      return { file, samples: [], tornBytes: 0, lost, damage: (err as Error).message };
    }
    const { samples, tornBytes } = this.decode(buf);
    const lost = Math.max(0, seg.samples - samples.length);
    seg.samples = samples.length;
    const damage = lost > 0 ? `only ${buf.length - tornBytes} of its ${buf.length} bytes are whole records` : undefined;
    return { file, samples, tornBytes, lost, damage, resumeAt: Math.min(this.settled.get(seg.seq) ?? 0, samples.length) };
  }

  /**
   * How far into the oldest segment everything is settled (sent, or dropped for good): a reader
   * that starts over (a replaced handler, a drain) resumes there instead of sending it again.
   */
  progress(segment: SpoolSegment, settled: number): void {
    const seg = this.segments[0];
    if (seg && path.join(this.dir, segName(seg.seq)) === segment.file) this.settled.set(seg.seq, settled);
  }

  /** Removes the oldest segment once everything in it was sent. */
  done(segment: SpoolSegment): void {
    const seg = this.segments[0];
    if (!seg || path.join(this.dir, segName(seg.seq)) !== segment.file) return;
    this.segments.shift();
    this.reading = undefined;
    this.settled.delete(seg.seq);
    this.unlink(seg.seq);
  }

  /** Drops the oldest segments while the spool is over its size or age cap; reports what went. */
  enforceCaps(now = Date.now()): DropReport[] {
    const out: DropReport[] = [];
    // The segment being sent is not waiting any more: the caps drop the oldest of the others,
    // and never the newest (it is being written).
    const first = () => (this.segments[0] !== undefined && this.segments[0].seq === this.reading ? 1 : 0);
    const drop = (reason: 'size' | 'age') => out.push({ samples: this.dropAt(first()), segments: 1, reason });
    while (this.segments.length - first() > 1 && this.bytes > this.opts.maxBytes) drop('size');
    while (this.segments.length > first()) {
      const seg = this.segments[first()]!;
      let mtime: number;
      try {
        mtime = statSync(path.join(this.dir, segName(seg.seq))).mtimeMs;
      } catch {
        break; // gone or unreadable: reading it reports it
      }
      if (now - mtime <= this.opts.maxAge) break;
      drop('age');
    }
    return out;
  }

  /**
   * Out of space: drops the oldest segments (not the one being sent) until about `bytes` are free
   * again, counting what the file system gives back. Returns the samples and segments dropped.
   */
  makeRoom(bytes: number): { samples: number; segments: number } {
    let freed = 0;
    let samples = 0;
    let segments = 0;
    const first = () => (this.segments[0] !== undefined && this.segments[0].seq === this.reading ? 1 : 0);
    while (freed < bytes && this.segments.length > first()) {
      const seg = this.segments[first()]!;
      let used = seg.bytes;
      try {
        // Whole blocks come back, not bytes: a small segment frees a block.
        used = Math.max(used, statSync(path.join(this.dir, segName(seg.seq))).blocks * 512);
      } catch {
        // Gone already: it frees nothing more, but it goes from the count.
      }
      freed += used;
      samples += this.dropAt(first());
      segments++;
    }
    return { samples, segments };
  }

  close(): void {
    this.closeWriter();
  }

  /** Drops the segment at `index` (closing it first when it is being written); returns its sample count. */
  private dropAt(index: number): number {
    const [seg] = this.segments.splice(index, 1);
    if (index === this.segments.length) this.closeWriter();
    this.unlink(seg!.seq);
    return seg!.samples;
  }

  private unlink(seq: number): void {
    try {
      unlinkSync(path.join(this.dir, segName(seq)));
    } catch {
      // Already gone (removed under the agent): nothing is left to remove.
    }
  }

  private closeWriter(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      fsyncSync(fd);
    } catch {
      // The records were written; sync() is where durability is checked and reported.
    } finally {
      closeSync(fd);
    }
  }

  private decode(buf: Buffer): { samples: Sample[]; tornBytes: number } {
    const samples: Sample[] = [];
    let off = 0;
    while (off + HEADER <= buf.length) {
      const len = buf.readUInt32LE(off);
      const end = off + HEADER + len;
      if (end > buf.length) break;
      const payload = buf.subarray(off + HEADER, end);
      if (crc32(payload) !== buf.readUInt32LE(off + 8)) break;
      const before = samples.length;
      try {
        for (const w of JSON.parse(payload.toString('utf8')) as Wire[]) {
          // JSON has no NaN or infinities (they are written as null): read back, such a value is NaN.
          samples.push({ name: this.name(w[0], w[1], w[2]), value: w[3] ?? NaN, kind: w[4], timestamp: w[5], precision: w[6] ?? undefined });
        }
      } catch {
        // A record with a valid checksum but not in this format: not written by this spool.
        samples.length = before;
        break;
      }
      off = end;
    }
    return { samples, tornBytes: buf.length - off };
  }

  private name(collector: string, instance: string | null, segments: string[]): MetricName {
    const key = `${collector}\u0000${instance ?? ''}\u0000${segments.join('\u0000')}`;
    let n = this.names.get(key);
    if (n === undefined) {
      n = Object.freeze({ collector, instance: instance ?? undefined, segments: Object.freeze(segments) });
      this.names.set(key, n);
    }
    return n;
  }
}

/**
 * Sums the sample counts of the whole, valid records in a segment, up to the first that is not:
 * a file overwritten with garbage must not count as billions of samples waiting (or lost).
 */
function countSamples(buf: Buffer): number {
  let n = 0;
  let off = 0;
  while (off + HEADER <= buf.length) {
    const end = off + HEADER + buf.readUInt32LE(off);
    if (end > buf.length || crc32(buf.subarray(off + HEADER, end)) !== buf.readUInt32LE(off + 8)) break;
    n += buf.readUInt32LE(off + 4);
    off = end;
  }
  return n;
}
