// Reads an outbox's disk spool in batches: the oldest segment first, a batch at a time, the
// segment removed only once every sample in it was sent. A failed batch is read again.
import type { Sample } from '../model/sample.js';
import type { DropReport, SpoolSegment } from './spool.js';

/** Where a full outbox spills, oldest first, and whose contents are sent before memory (spool.ts). */
export interface Backlog {
  readonly pending: number;
  append(samples: readonly Sample[]): void;
  oldest(): SpoolSegment | undefined;
  done(segment: SpoolSegment): void;
  enforceCaps(): DropReport[];
  sync(): void;
}

export interface SpoolReadEvents {
  /** A segment ended in a torn record (a crash while writing); its whole records are sent. */
  torn?(file: string, bytes: number): void;
}

export class SpoolReader {
  private segment: SpoolSegment | undefined;
  private pos = 0;

  constructor(
    private readonly backlog: Backlog,
    private readonly events: SpoolReadEvents,
  ) {}

  /**
   * The next batch of at most `batchSize` samples, or undefined when the spool holds nothing.
   * Throws when the oldest segment cannot be read (removed or damaged under the agent).
   */
  next(batchSize: number): readonly Sample[] | undefined {
    for (;;) {
      if (this.segment === undefined) {
        if (this.backlog.pending === 0) return undefined;
        this.segment = this.backlog.oldest();
        this.pos = 0;
        if (this.segment === undefined) return undefined;
        if (this.segment.tornBytes > 0) this.events.torn?.(this.segment.file, this.segment.tornBytes);
      }
      if (this.pos < this.segment.samples.length) return this.segment.samples.slice(this.pos, this.pos + batchSize);
      // Every sample of the segment was sent: only now does it leave the disk.
      this.backlog.done(this.segment);
      this.segment = undefined;
    }
  }

  /** The batch `next` returned was accepted. */
  sent(count: number): void {
    this.pos += count;
  }

  /** Forgets the segment being read; it is still whole on disk and read from its start next time. */
  rewind(): void {
    this.segment = undefined;
  }
}
