// Datagram packing: whole lines, each ending in a newline, laid end to end in one buffer, cut into
// datagrams of at most `max` bytes without splitting a line (or a unit of lines that must travel
// together). A datagram's last newline is not sent: StatsD reads the lines between newlines.

export class Packer {
  /** Datagram i is buf[starts[i], ends[i]). */
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  count = 0;
  private start = 0;
  private max = 0;

  /** Starts a new buffer of datagrams of at most `max` bytes. */
  reset(max: number): void {
    this.max = max;
    this.count = 0;
    this.start = 0;
  }

  /**
   * Takes the unit buf[from, to), which ends in a newline, into the current datagram or a new one.
   * False when the unit alone is longer than a datagram may be: the caller refuses its sample.
   */
  add(from: number, to: number): boolean {
    if (to - 1 - this.start <= this.max) return true;
    if (from > this.start) {
      this.push(this.start, from - 1);
      this.start = from;
    }
    return to - 1 - from <= this.max;
  }

  /** Closes the last datagram at `len`, the end of what was written. */
  finish(len: number): void {
    if (len > this.start) this.push(this.start, len - 1);
    this.start = len;
  }

  private push(start: number, end: number): void {
    if (this.count === this.ends.length) {
      const s = new Int32Array(this.count * 2);
      s.set(this.starts);
      this.starts = s;
      const e = new Int32Array(this.count * 2);
      e.set(this.ends);
      this.ends = e;
    }
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.count++;
  }
}
