// Hands complete log lines to a parser. The hot path: works on bytes and, when the parser names
// needles, looks only at lines that contain one, without decoding the others.
import type { ParserInstance } from '../plugin-api.js';

const NL = 0x0a;
const CR = 0x0d;

export interface LineCounts {
  /** Lines handed to the parser (after the needle prefilter). */
  parsed: number;
  /** Lines longer than max_line_bytes, skipped without being buffered whole. */
  tooLong: number;
  /** Lines on which the parser threw; skipped. */
  failed: number;
  /** The first parser error, for the log. */
  firstError: string | undefined;
}

/**
 * Finds a needle fast. Buffer.indexOf stops at every occurrence of the pattern's first byte (memchr)
 * and compares the rest there, so a pattern that starts with a byte that is rare in this log is
 * found with far fewer stops: `status=` stops at every "s", its part `us=` at every "u". The search
 * key is the needle from its rarest byte on (at most 7 bytes, below Buffer.indexOf's Boyer-Moore
 * set-up), chosen from the byte counts of the first lines read; each hit is checked against the
 * whole needle.
 */
class NeedleSearch {
  private key: Buffer;
  private offset = 0;

  constructor(readonly needle: Buffer) {
    this.key = needle.subarray(0, Math.min(needle.length, 7));
  }

  /** Picks the key from byte counts of a sample of the log. */
  tune(counts: Uint32Array): void {
    let best = 0;
    for (let k = 1; k < this.needle.length; k++) if (counts[this.needle[k]!]! < counts[this.needle[best]!]!) best = k;
    this.offset = best;
    this.key = this.needle.subarray(best, Math.min(this.needle.length, best + 7));
  }

  /** Where the needle next begins at or after `from`, or -1. */
  find(buf: Buffer, from: number): number {
    const needle = this.needle;
    const off = this.offset;
    let p = from + off;
    for (;;) {
      const k = buf.indexOf(this.key, p);
      if (k < 0) return -1;
      const s = k - off;
      let ok = s + needle.length <= buf.length;
      for (let i = 0; ok && i < off; i++) ok = buf[s + i] === needle[i];
      for (let i = off + this.key.length; ok && i < needle.length; i++) ok = buf[s + i] === needle[i];
      if (ok) return s;
      p = k + 1;
    }
  }
}

/** How many bytes of the first region read are counted to choose the needles' search keys. */
const SAMPLE_BYTES = 64 * 1024;

export class LineFeeder {
  readonly counts: LineCounts = { parsed: 0, tooLong: 0, failed: 0, firstError: undefined };
  private readonly needles: NeedleSearch[] | undefined;
  private readonly next: number[];
  private tuned = false;

  constructor(private readonly parser: ParserInstance) {
    const n = parser.needles;
    this.needles = n && n.length > 0 ? n.filter((x) => x.length > 0).map((x) => new NeedleSearch(Buffer.from(x, 'utf8'))) : undefined;
    if (this.needles?.length === 0) this.needles = undefined;
    this.next = this.needles ? this.needles.map(() => 0) : [];
  }

  private tune(buf: Buffer, start: number, end: number): void {
    this.tuned = true;
    const counts = new Uint32Array(256);
    const stop = Math.min(end, start + SAMPLE_BYTES);
    for (let i = start; i < stop; i++) counts[buf[i]!]!++;
    for (const n of this.needles!) n.tune(counts);
  }

  /** A region of complete lines: `buf[start, end)` where `end - 1` is a newline. */
  lines(buf: Buffer, start: number, end: number): void {
    if (this.needles === undefined) {
      let s = start;
      while (s < end) {
        const e = buf.indexOf(NL, s);
        this.line(buf, s, e, -1);
        s = e + 1;
      }
      return;
    }
    if (!this.tuned) this.tune(buf, start, end);
    if (this.needles.length === 1) {
      const search = this.needles[0]!;
      const len = search.needle.length;
      let hit = search.find(buf, start);
      while (hit >= 0 && hit < end) {
        const ls = hit === start ? start : Math.max(start, buf.lastIndexOf(NL, hit - 1) + 1);
        const le = buf.indexOf(NL, hit + len - 1);
        // Further hits in this line: the parser is told the last one; the first beyond is the next line's.
        let last = hit;
        let next = search.find(buf, hit + 1);
        while (next >= 0 && next < le) {
          last = next;
          next = search.find(buf, next + 1);
        }
        this.line(buf, ls, le, last);
        hit = next;
      }
      return;
    }
    // Several needles: visit lines in order at the nearest hit of any, each line once.
    const next = this.next;
    const needles = this.needles;
    for (let k = 0; k < next.length; k++) next[k] = needles[k]!.find(buf, start);
    let pos = start;
    for (;;) {
      let hit = -1;
      for (let k = 0; k < next.length; k++) {
        if (next[k]! >= 0 && next[k]! < pos) next[k] = needles[k]!.find(buf, pos);
        const h = next[k]!;
        if (h >= 0 && h < end && (hit < 0 || h < hit)) hit = h;
      }
      if (hit < 0) return;
      const ls = hit === start ? start : Math.max(start, buf.lastIndexOf(NL, hit - 1) + 1);
      const le = buf.indexOf(NL, hit);
      this.line(buf, ls, le, -1);
      pos = le + 1;
      if (pos >= end) return;
    }
  }

  /** One line `buf[start, end)` without its newline; `lastNeedle` as ParserInstance.parseBytes has it. */
  line(buf: Buffer, start: number, end: number, lastNeedle = -1): void {
    if (end > start && buf[end - 1] === CR) end--;
    this.counts.parsed++;
    try {
      if (this.parser.parseBytes) this.parser.parseBytes(buf, start, end, lastNeedle < end ? lastNeedle : -1);
      else this.parser.parseLine(buf.toString('utf8', start, end));
    } catch (err) {
      this.counts.failed++;
      this.counts.firstError ??= (err as Error).message;
    }
  }

  /** A line that was too long: counted, never parsed. */
  skipped(): void {
    this.counts.tooLong++;
  }
}
