// For upstreams that acknowledge nothing (carbon): the batches accepted shortly before a send
// failed may never have been stored, because the connection broke under them. The window keeps
// what was accepted in the last `windowMs`, bounded by the outbox's size, to send it again.
import type { Sample } from '../model/sample.js';

export class ResendWindow {
  private recent: { at: number; samples: readonly Sample[] }[] = [];
  private count = 0;

  constructor(
    /** How long before the last accepted write a batch is still at risk (ms); 0 keeps nothing. */
    readonly windowMs: number,
    /** Never more samples than the outbox may hold. */
    private readonly maxSamples: number,
  ) {}

  get enabled(): boolean {
    return this.windowMs > 0;
  }

  get size(): number {
    return this.count;
  }

  /** Records a batch the upstream accepted at `now` (performance.now() ms). */
  accepted(batch: readonly Sample[], now: number): void {
    if (!this.enabled) return;
    this.recent.push({ at: now, samples: batch });
    this.count += batch.length;
    while (this.recent.length > 0 && (this.recent[0]!.at < now - this.windowMs || this.count > this.maxSamples)) {
      this.count -= this.recent.shift()!.samples.length;
    }
  }

  /**
   * After a failed send: the samples accepted within the window before the last accepted batch,
   * oldest first, and the window is emptied. Measured back from the last write, not from now:
   * after a long outage the writes that may have been lost are older than "the last 10 s".
   */
  takeAtRisk(): Sample[] {
    const out: Sample[] = [];
    const last = this.recent[this.recent.length - 1];
    if (last !== undefined) {
      const cutoff = last.at - this.windowMs;
      for (const r of this.recent) if (r.at >= cutoff) for (let i = 0; i < r.samples.length; i++) out.push(r.samples[i]!);
    }
    this.clear();
    return out;
  }

  clear(): void {
    this.recent = [];
    this.count = 0;
  }
}
