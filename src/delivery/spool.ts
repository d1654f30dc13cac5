// A handler's disk spool: samples that do not fit in memory, or are left at shutdown, wait here
// in order until the handler can send them.
//
// Layout: <dir>/<16-digit sequence>.spool segments, appended to and never rewritten. A record is
//   u32 payload length | u32 sample count | u32 CRC-32 of the payload | payload (JSON)
// so a torn last record (kill -9, power loss) is detected by its length or checksum and skipped
// without losing the records before it. Whole segments are replayed oldest first and deleted once
// sent: a crash while sending one re-sends it (at least once; Graphite keeps the last write).
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { MetricName, Sample, SampleKind } from '../model/sample.js';

const HEADER = 12;
const SEGMENT = /^(\d{16})\.spool$/;

/** One sample on disk: [collector, instance, segments, value, kind, timestamp, precision]. */
type Wire = [string, string | null, string[], number, SampleKind, number, number | null];

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
}

export interface DropReport {
  readonly samples: number;
  readonly segments: number;
  readonly reason: 'size' | 'age';
}

function segName(seq: number): string {
  return `${String(seq).padStart(16, '0')}.spool`;
}

export class Spool {
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
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    for (const f of readdirSync(dir).sort()) {
      const m = SEGMENT.exec(f);
      if (!m) continue;
      const seq = Number(m[1]);
      const file = path.join(dir, f);
      this.segments.push({ seq, bytes: statSync(file).size, samples: countSamples(readFileSync(file)) });
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

  /** Appends samples as one record (after any earlier ones). */
  append(samples: readonly Sample[]): void {
    if (samples.length === 0) return;
    const wire: Wire[] = samples.map((s) => [s.name.collector, s.name.instance ?? null, [...s.name.segments], s.value, s.kind, s.timestamp, s.precision ?? null]);
    const payload = Buffer.from(JSON.stringify(wire));
    const header = Buffer.allocUnsafe(HEADER);
    header.writeUInt32LE(payload.length, 0);
    header.writeUInt32LE(samples.length, 4);
    header.writeUInt32LE(crc32(payload), 8);
    let seg = this.segments.at(-1);
    // Caps drop whole segments: keep segments well below the cap so it can bite (1/8 of it, 16 KiB to 8 MiB).
    const segmentBytes = this.opts.segmentBytes ?? Math.min(8 * 1024 * 1024, Math.max(16 * 1024, Math.floor(this.opts.maxBytes / 8)));
    if (this.fd === undefined || seg === undefined || seg.bytes >= segmentBytes) {
      this.closeWriter();
      seg = { seq: this.nextSeq++, bytes: 0, samples: 0 };
      this.segments.push(seg);
      this.fd = openSync(path.join(this.dir, segName(seg.seq)), 'a', 0o640);
    }
    writeSync(this.fd, Buffer.concat([header, payload]));
    seg.bytes += HEADER + payload.length;
    seg.samples += samples.length;
  }

  /** Makes what was appended durable (called at shutdown and after spilling). */
  sync(): void {
    if (this.fd !== undefined) fsyncSync(this.fd);
  }

  /** The oldest segment's samples, in order; undefined when the spool is empty. Not removed until `done`. */
  oldest(): SpoolSegment | undefined {
    const seg = this.segments[0];
    if (!seg) return undefined;
    if (this.segments.length === 1) this.closeWriter(); // never read a segment still being written
    const file = path.join(this.dir, segName(seg.seq));
    const { samples, tornBytes } = this.decode(readFileSync(file));
    this.reading = seg.seq;
    return { file, samples, tornBytes };
  }

  /** Removes the oldest segment once everything in it was sent. */
  done(segment: SpoolSegment): void {
    const seg = this.segments[0];
    if (!seg || path.join(this.dir, segName(seg.seq)) !== segment.file) return;
    this.segments.shift();
    this.reading = undefined;
    unlinkSync(segment.file);
  }

  /** Drops the oldest segments while the spool is over its size or age cap; reports what went. */
  enforceCaps(now = Date.now()): DropReport[] {
    const out: DropReport[] = [];
    // The segment being sent is not waiting any more: the caps drop the oldest of the others,
    // and never the newest (it is being written).
    const first = () => (this.segments[0] !== undefined && this.segments[0].seq === this.reading ? 1 : 0);
    const drop = (index: number, reason: 'size' | 'age') => {
      const [seg] = this.segments.splice(index, 1);
      if (index === this.segments.length) this.closeWriter();
      unlinkSync(path.join(this.dir, segName(seg!.seq)));
      out.push({ samples: seg!.samples, segments: 1, reason });
    };
    while (this.segments.length - first() > 1 && this.bytes > this.opts.maxBytes) drop(first(), 'size');
    while (this.segments.length > first()) {
      const seg = this.segments[first()]!;
      if (now - statSync(path.join(this.dir, segName(seg.seq))).mtimeMs <= this.opts.maxAge) break;
      drop(first(), 'age');
    }
    return out;
  }

  close(): void {
    this.closeWriter();
  }

  private closeWriter(): void {
    if (this.fd === undefined) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
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
      for (const w of JSON.parse(payload.toString('utf8')) as Wire[]) {
        samples.push({ name: this.name(w[0], w[1], w[2]), value: w[3], kind: w[4], timestamp: w[5], precision: w[6] ?? undefined });
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

/** Sums the sample counts of the whole, valid records in a segment (header scan only). */
function countSamples(buf: Buffer): number {
  let n = 0;
  let off = 0;
  while (off + HEADER <= buf.length) {
    const end = off + HEADER + buf.readUInt32LE(off);
    if (end > buf.length) break;
    n += buf.readUInt32LE(off + 4);
    off = end;
  }
  return n;
}
