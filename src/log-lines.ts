// Hands complete log lines to a parser. The hot path: works on bytes and, when the parser names
// needles, looks only at lines that contain one, without decoding the others.
import type { ParserInstance } from './plugin-api.js';

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

export class LineFeeder {
  readonly counts: LineCounts = { parsed: 0, tooLong: 0, failed: 0, firstError: undefined };
  private readonly needles: Buffer[] | undefined;
  private readonly next: number[];

  constructor(private readonly parser: ParserInstance) {
    const n = parser.needles;
    this.needles = n && n.length > 0 ? n.map((s) => Buffer.from(s, 'utf8')) : undefined;
    this.next = this.needles ? this.needles.map(() => 0) : [];
  }

  /** A region of complete lines: `buf[start, end)` where `end - 1` is a newline. */
  lines(buf: Buffer, start: number, end: number): void {
    if (this.needles === undefined) {
      let s = start;
      while (s < end) {
        const e = buf.indexOf(NL, s);
        this.line(buf, s, e);
        s = e + 1;
      }
      return;
    }
    if (this.needles.length === 1) {
      const needle = this.needles[0]!;
      let pos = start;
      for (;;) {
        const hit = buf.indexOf(needle, pos);
        if (hit < 0 || hit >= end) return;
        const ls = hit === start ? start : Math.max(start, buf.lastIndexOf(NL, hit - 1) + 1);
        const le = buf.indexOf(NL, hit + needle.length - 1);
        this.line(buf, ls, le);
        pos = le + 1;
        if (pos >= end) return;
      }
    }
    // Several needles: visit lines in order at the nearest hit of any, each line once.
    const next = this.next;
    for (let k = 0; k < next.length; k++) next[k] = buf.indexOf(this.needles[k]!, start);
    let pos = start;
    for (;;) {
      let hit = -1;
      for (let k = 0; k < next.length; k++) {
        if (next[k]! >= 0 && next[k]! < pos) next[k] = buf.indexOf(this.needles[k]!, pos);
        const h = next[k]!;
        if (h >= 0 && h < end && (hit < 0 || h < hit)) hit = h;
      }
      if (hit < 0) return;
      const ls = hit === start ? start : Math.max(start, buf.lastIndexOf(NL, hit - 1) + 1);
      const le = buf.indexOf(NL, hit);
      this.line(buf, ls, le);
      pos = le + 1;
      if (pos >= end) return;
    }
  }

  /** One line `buf[start, end)` without its newline. */
  line(buf: Buffer, start: number, end: number): void {
    if (end > start && buf[end - 1] === CR) end--;
    this.counts.parsed++;
    try {
      if (this.parser.parseBytes) this.parser.parseBytes(buf, start, end);
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
