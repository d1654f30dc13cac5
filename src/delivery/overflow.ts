// What happens to the samples a full outbox pushes out of its head: with a spool they wait on disk
// (dropped only past the spool's caps), without one they are dropped. Either way every sample
// that goes is counted in the outbox's `dropped` and reported.
import type { Sample } from '../model/sample.js';
import type { Backlog } from './spool-reader.js';
import type { DropReport } from './spool.js';

export interface OverflowEvents {
  /** `count` samples were dropped from a full outbox without a spool; `total` since start. */
  dropped(count: number, total: number): void;
  /** Samples written to the disk spool (a full outbox, or what was left at shutdown). */
  spooled?(count: number, why: 'full' | 'shutdown'): void;
  /** The spool's caps were reached: these samples were dropped from disk, oldest first. */
  spoolDropped?(report: DropReport): void;
}

export interface Overflow {
  /**
   * True when what overflows is kept: then everything older that the outbox still holds in
   * memory (a batch in flight, a pending resend) must go with it, first, or the order breaks.
   */
  readonly keeps: boolean;
  /** `samples` leave the outbox, oldest first. */
  overflow(samples: readonly Sample[], why: 'full' | 'shutdown'): void;
  /** Makes what was kept durable (at shutdown). */
  sync(): void;
}

export class DropOldest implements Overflow {
  readonly keeps = false;
  private total = 0;

  constructor(
    private readonly stats: { dropped: number },
    private readonly events: OverflowEvents,
  ) {}

  overflow(samples: readonly Sample[]): void {
    if (samples.length === 0) return;
    this.total += samples.length;
    this.stats.dropped += samples.length;
    this.events.dropped(samples.length, this.total);
  }

  sync(): void {}
}

export class SpillToSpool implements Overflow {
  readonly keeps = true;

  constructor(
    private readonly backlog: Backlog,
    private readonly stats: { dropped: number },
    private readonly events: OverflowEvents,
  ) {}

  /** Throws when the spool cannot be written (disk full, directory gone). */
  overflow(samples: readonly Sample[], why: 'full' | 'shutdown'): void {
    if (samples.length === 0) return;
    this.backlog.append(samples);
    this.events.spooled?.(samples.length, why);
    for (const d of this.backlog.enforceCaps()) {
      this.stats.dropped += d.samples;
      this.events.spoolDropped?.(d);
    }
  }

  sync(): void {
    this.backlog.sync();
  }
}
