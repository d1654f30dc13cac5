// For upstreams that acknowledge nothing (carbon): the batches accepted shortly before a send
// failed may never have been stored, because the connection broke under them. The window keeps
// what was accepted in the last `windowMs`, bounded by the outbox's size, to send it again.
import { SAMPLE_KINDS, type MetricName, type Sample } from '../model/sample.js';

/**
 * A batch held in columns: once sent, its sample objects (about 60 bytes each on V8's heap, and a
 * box for each value that is not a small integer) can go, and the window holds 22 bytes a sample.
 * With ten MySQL instances (5,000 names a second) and a 10 s window that is some 3 MB less.
 */
class PackedBatch {
  readonly length: number;
  private readonly names: MetricName[];
  private readonly numbers: Float64Array;
  /** The kind (its index in SAMPLE_KINDS) and the precision (+1; 0 for none) of each sample. */
  private readonly tags: Uint8Array;

  private constructor(batch: readonly Sample[]) {
    const n = batch.length;
    this.length = n;
    this.names = new Array<MetricName>(n);
    // Values and timestamps in one buffer: one allocation per batch.
    this.numbers = new Float64Array(2 * n);
    this.tags = new Uint8Array(2 * n);
    for (let i = 0; i < n; i++) {
      const s = batch[i]!;
      this.names[i] = s.name;
      this.numbers[i] = s.value;
      this.numbers[n + i] = s.timestamp;
      this.tags[i] = SAMPLE_KINDS.indexOf(s.kind);
      this.tags[n + i] = s.precision === undefined ? 0 : s.precision + 1;
    }
  }

  /** The batch in columns, or undefined when a sample holds what the columns cannot. */
  static of(batch: readonly Sample[]): PackedBatch | undefined {
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!.precision;
      if (p !== undefined && !(Number.isInteger(p) && p >= 0 && p < 255)) return undefined;
      if (SAMPLE_KINDS.indexOf(batch[i]!.kind) < 0) return undefined;
    }
    return new PackedBatch(batch);
  }

  pushTo(out: Sample[]): void {
    const n = this.length;
    for (let i = 0; i < n; i++) {
      const p = this.tags[n + i]!;
      out.push({ name: this.names[i]!, value: this.numbers[i]!, kind: SAMPLE_KINDS[this.tags[i]!]!, timestamp: this.numbers[n + i]!, precision: p === 0 ? undefined : p - 1 });
    }
  }
}

export class ResendWindow {
  private recent: { at: number; samples: PackedBatch | readonly Sample[] }[] = [];
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
    this.recent.push({ at: now, samples: PackedBatch.of(batch) ?? batch });
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
      for (const r of this.recent) {
        if (r.at < cutoff) continue;
        const held = r.samples;
        if (held instanceof PackedBatch) held.pushTo(out);
        else for (let i = 0; i < held.length; i++) out.push(held[i]!);
      }
    }
    this.clear();
    return out;
  }

  clear(): void {
    this.recent = [];
    this.count = 0;
  }
}
