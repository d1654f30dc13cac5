// An outbox's samples in memory, oldest first: appended at the tail, taken in batches from the
// head, and shed from the head when the outbox is over its size.
import type { Sample } from '../model/sample.js';

/** Places kept when the queue empties; a larger ring (a backlog that was drained) is let go. */
const KEEP_PLACES = 65_536;

export class MemoryQueue {
  /**
   * A ring of places (a power of two long), reused from one push to the next: an array that
   * grew from empty on every push of a run's samples was copied a dozen times each second.
   */
  private ring: (Sample | undefined)[] = [];
  /** Where the oldest sample is. */
  private head = 0;
  private count = 0;
  /** performance.now() when the oldest queued sample arrived (0 when empty). */
  firstQueuedAt = 0;

  get length(): number {
    return this.count;
  }

  push(samples: readonly Sample[], now: number): void {
    if (this.count === 0) this.firstQueuedAt = now;
    this.reserve(this.count + samples.length);
    const ring = this.ring;
    const mask = ring.length - 1;
    let at = (this.head + this.count) & mask;
    for (let i = 0; i < samples.length; i++) {
      ring[at] = samples[i]!;
      at = (at + 1) & mask;
    }
    this.count += samples.length;
  }

  /** Puts samples before everything queued; they count as having waited `waited` ms already. */
  prepend(samples: readonly Sample[], now: number, waited: number): void {
    this.reserve(this.count + samples.length);
    const ring = this.ring;
    const mask = ring.length - 1;
    this.head = (this.head - samples.length) & mask;
    let at = this.head;
    for (let i = 0; i < samples.length; i++) {
      ring[at] = samples[i]!;
      at = (at + 1) & mask;
    }
    this.count += samples.length;
    this.firstQueuedAt = now - waited;
  }

  /** Removes and returns up to `n` samples from the head. */
  take(n: number): Sample[] {
    const k = n >= this.count ? this.count : n > 0 ? Math.floor(n) : 0;
    const batch = new Array<Sample>(k);
    const ring = this.ring;
    const mask = ring.length - 1;
    let at = this.head;
    for (let i = 0; i < k; i++) {
      batch[i] = ring[at]!;
      // A place taken holds nothing: a sample sent must not stay alive in the ring.
      ring[at] = undefined;
      at = (at + 1) & mask;
    }
    this.head = at;
    this.count -= k;
    if (this.count === 0) {
      this.head = 0;
      if (ring.length > KEEP_PLACES) this.ring = [];
    }
    return batch;
  }

  /** Removes and returns everything, oldest first. */
  takeAll(): Sample[] {
    return this.take(this.count);
  }

  /** Makes room for `needed` samples, keeping their order. */
  private reserve(needed: number): void {
    const old = this.ring;
    if (needed <= old.length) return;
    let size = Math.max(16, old.length);
    while (size < needed) size *= 2;
    const ring = new Array<Sample | undefined>(size);
    const mask = old.length - 1;
    for (let i = 0; i < this.count; i++) ring[i] = old[(this.head + i) & mask];
    this.ring = ring;
    this.head = 0;
  }
}
