// One growing buffer a body is written into, reused from batch to batch: the constant part of each
// entry is copied from bytes made once per name, only numbers are turned into text per sample.
// A body is sent before the next is written (the outbox sends one batch at a time).

export class ByteWriter {
  private buf = Buffer.alloc(1 << 16);
  at = 0;

  reset(): void {
    this.at = 0;
  }

  private ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  bytes(b: Buffer): void {
    this.ensure(b.length);
    this.at += b.copy(this.buf, this.at);
  }

  /** Text of ASCII characters only (numbers, punctuation, kinds). */
  ascii(s: string): void {
    this.ensure(s.length);
    this.at += this.buf.write(s, this.at, 'latin1');
  }

  /** What was written since the last reset; valid until the next reset. */
  result(): Buffer {
    return this.buf.subarray(0, this.at);
  }
}
