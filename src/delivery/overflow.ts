// What happens to the samples a full outbox pushes out of its head: with a spool they wait on disk
// (dropped only past the spool's caps, or when its disk is full), without one they are dropped.
// Either way every sample that goes is counted in the outbox's `dropped` and reported.
import type { Sample } from '../model/sample.js';
import type { Backlog } from './spool-reader.js';
import { SpoolWriteError, type DropReport } from './spool.js';

/** A spill the spool could not take as it was. */
export interface SpoolWriteFailure {
  /** The spool's directory. */
  readonly dir: string;
  readonly error: Error;
  /** Out of space (ENOSPC, EDQUOT): the oldest spooled samples were dropped to make room. */
  readonly full: boolean;
  /** Samples dropped by this spill: spooled ones dropped to make room, then new ones that still did not fit. */
  readonly dropped: number;
  /** Samples dropped since the spool began to fail (it has not taken every write for a minute since). */
  readonly total: number;
}

export interface OverflowEvents {
  /** `count` samples were dropped from a full outbox without a spool; `total` since start. */
  dropped(count: number, total: number): void;
  /** Samples written to the disk spool (a full outbox, or what was left at shutdown). */
  spooled?(count: number, why: 'full' | 'shutdown'): void;
  /** The spool's caps were reached: these samples were dropped from disk, oldest first. */
  spoolDropped?(report: DropReport): void;
  /** The spool could not take a write (or a sync, then `dropped` is 0); what was dropped is counted. */
  spoolWriteFailed?(failure: SpoolWriteFailure): void;
  /** The spool has taken every write for a minute again; `dropped` samples were lost while it could not. */
  spoolWritable?(dir: string, dropped: number): void;
}

export interface Overflow {
  /**
   * True when what overflows is kept: then everything older that the outbox still holds in
   * memory (a batch in flight, a pending resend) must go with it, first, or the order breaks.
   */
  readonly keeps: boolean;
  /** `samples` leave the outbox, oldest first. Never throws. */
  overflow(samples: readonly Sample[], why: 'full' | 'shutdown'): void;
  /** Makes what was kept durable (at shutdown). Never throws. */
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

/**
 * A full disk stays full while the upstream is down: each spill then makes room and fails again.
 * It counts as one episode (one report of its end) until the spool took every write this long.
 */
export const SPOOL_QUIET_MS = 60_000;

export class SpillToSpool implements Overflow {
  readonly keeps = true;
  /** Since the spool began to fail: samples dropped, and when (`now()`) a write last failed. */
  private failing: { dropped: number; at: number } | undefined;

  constructor(
    private readonly backlog: Backlog,
    private readonly stats: { dropped: number },
    private readonly events: OverflowEvents,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * A spool that cannot take the write is treated like one at its cap: when it is out of space
   * the oldest segments make room and the write is tried once more; what still does not fit is dropped.
   */
  overflow(samples: readonly Sample[], why: 'full' | 'shutdown'): void {
    if (samples.length === 0) return;
    let error: Error | undefined;
    let full = false;
    let dropped = 0;
    let stored = true;
    try {
      this.backlog.append(samples);
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err));
      full = error instanceof SpoolWriteError && error.full;
      try {
        if (full) dropped += this.backlog.makeRoom((error as SpoolWriteError).bytes).samples;
        this.backlog.append(samples);
      } catch (again) {
        error = again instanceof Error ? again : new Error(String(again));
        dropped += samples.length;
        stored = false;
      }
    }
    if (error === undefined) {
      if (this.failing !== undefined && this.now() - this.failing.at >= SPOOL_QUIET_MS) {
        this.events.spoolWritable?.(this.backlog.dir, this.failing.dropped);
        this.failing = undefined;
      }
    } else {
      this.stats.dropped += dropped;
      this.failing = { dropped: (this.failing?.dropped ?? 0) + dropped, at: this.now() };
      this.events.spoolWriteFailed?.({ dir: this.backlog.dir, error, full, dropped, total: this.failing.dropped });
    }
    if (stored) this.events.spooled?.(samples.length, why);
    try {
      for (const d of this.backlog.enforceCaps()) {
        this.stats.dropped += d.samples;
        this.events.spoolDropped?.(d);
      }
    } catch {
      // The caps are checked again with the next spill.
    }
  }

  sync(): void {
    try {
      this.backlog.sync();
    } catch (err) {
      this.events.spoolWriteFailed?.({ dir: this.backlog.dir, error: err instanceof Error ? err : new Error(String(err)), full: false, dropped: 0, total: this.failing?.dropped ?? 0 });
    }
  }
}
