// An outbox's samples in memory, oldest first: appended at the tail, taken in batches from the
// head, and shed from the head when the outbox is over its size.
import type { Sample } from '../model/sample.js';

export class MemoryQueue {
  private buf: Sample[] = [];
  private head = 0;
  /** performance.now() when the oldest queued sample arrived (0 when empty). */
  firstQueuedAt = 0;

  get length(): number {
    return this.buf.length - this.head;
  }

  push(samples: readonly Sample[], now: number): void {
    if (this.length === 0) this.firstQueuedAt = now;
    for (let i = 0; i < samples.length; i++) this.buf.push(samples[i]!);
  }

  /** Puts samples before everything queued; they count as having waited `waited` ms already. */
  prepend(samples: readonly Sample[], now: number, waited: number): void {
    this.buf = [...samples, ...this.buf.slice(this.head)];
    this.head = 0;
    this.firstQueuedAt = now - waited;
  }

  /** Removes and returns up to `n` samples from the head. */
  take(n: number): Sample[] {
    const batch = this.buf.slice(this.head, this.head + n);
    this.head += batch.length;
    if (this.head === this.buf.length) {
      this.buf = [];
      this.head = 0;
    } else {
      this.compact();
    }
    return batch;
  }

  /** Removes and returns everything, oldest first. */
  takeAll(): Sample[] {
    const rest = this.head === 0 ? this.buf : this.buf.slice(this.head);
    this.buf = [];
    this.head = 0;
    return rest;
  }

  private compact(): void {
    // Copy the live part down only when the dead head is large and most of the array.
    if (this.head > 4096 && this.head * 2 > this.buf.length) {
      this.buf = this.buf.slice(this.head);
      this.head = 0;
    }
  }
}
