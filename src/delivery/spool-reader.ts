// Reads an outbox's disk spool in batches: the oldest segment first, a batch at a time, the
// segment removed only once every sample in it was sent. A failed batch is read again. A segment
// that cannot be read whole is skipped past: what it lost is counted as dropped, the rest is sent.
import type { Sample } from '../model/sample.js';
import type { DropReport, SpoolSegment } from './spool.js';

/** Where a full outbox spills, oldest first, and whose contents are sent before memory (spool.ts). */
export interface Backlog {
  /** The directory it lives in, for messages. */
  readonly dir: string;
  readonly pending: number;
  /** Throws (a SpoolWriteError) when the samples cannot be written; then none of them are stored. */
  append(samples: readonly Sample[]): void;
  /**
   * A segment that is gone or damaged comes back with `lost` and `damage`; a read that may work
   * later (EMFILE, EIO, EACCES) throws, and the segment stays on disk to be read again.
   */
  oldest(): SpoolSegment | undefined;
  /** Remembers how far into `segment` everything is settled, for the next reader of it. */
  progress?(segment: SpoolSegment, settled: number): void;
  done(segment: SpoolSegment): void;
  enforceCaps(): DropReport[];
  /** Out of space: drops the oldest segments (not the one being read) to free about `bytes`. */
  makeRoom(bytes: number): { samples: number; segments: number };
  sync(): void;
}

export interface SpoolReadEvents {
  /** A segment ended in a torn record (a crash while writing); its whole records are sent. */
  torn?(file: string, bytes: number): void;
  /**
   * A segment could not be read whole (removed, truncated or overwritten under the agent):
   * `lost` samples it held are dropped (and counted), whatever could be read is sent.
   */
  damaged?(file: string, lost: number, why: string): void;
}

export class SpoolReader {
  private segment: SpoolSegment | undefined;
  private pos = 0;

  constructor(
    private readonly backlog: Backlog,
    private readonly events: SpoolReadEvents,
    /** Where the samples of damaged segments are counted (the outbox's stats). */
    private readonly stats: { dropped: number } = { dropped: 0 },
  ) {}

  /** The next batch of at most `batchSize` samples, or undefined when the spool holds nothing. */
  next(batchSize: number): readonly Sample[] | undefined {
    for (;;) {
      if (this.segment === undefined) {
        if (this.backlog.pending === 0) return undefined;
        this.segment = this.backlog.oldest();
        if (this.segment === undefined) return undefined;
        this.pos = this.segment.resumeAt ?? 0;
        if (this.segment.damage !== undefined) {
          this.stats.dropped += this.segment.lost;
          this.events.damaged?.(this.segment.file, this.segment.lost, this.segment.damage);
        } else if (this.segment.tornBytes > 0) this.events.torn?.(this.segment.file, this.segment.tornBytes);
      }
      if (this.pos < this.segment.samples.length) return this.segment.samples.slice(this.pos, this.pos + batchSize);
      // Every sample of the segment was sent: only now does it leave the disk.
      this.backlog.done(this.segment);
      this.segment = undefined;
    }
  }

  /** The batch `next` returned (or its first `count` samples) was accepted or dropped for good. */
  sent(count: number): void {
    this.pos += count;
    if (this.segment !== undefined) this.backlog.progress?.(this.segment, this.pos);
  }

  /** Forgets the segment being read; it is still on disk, and the next read resumes where it was settled. */
  rewind(): void {
    this.segment = undefined;
  }
}
