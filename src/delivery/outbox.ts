// One handler's queue and send loop. Samples leave in arrival order, in batches by size and by
// time. A failed batch stays at the head and is retried with exponential backoff and jitter, so
// order is kept. The queue is bounded: what does not fit goes to the overflow policy (today:
// drop the oldest, counted and logged; the disk spool takes this place later).
import type { Sample } from '../model/sample.js';
import type { OutboxSettings } from '../config/types.js';
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

export type SendFn = (batch: readonly Sample[], signal: AbortSignal) => Promise<void>;

/** Where samples go when the outbox is full. */
export interface Overflow {
  /** `samples` were pushed out of the head of a full outbox, oldest first. */
  overflow(samples: readonly Sample[]): void;
}

export interface OutboxEvents {
  sendFailed(err: Error, attempt: number, retryInMs: number): void;
  recovered(afterAttempts: number): void;
  dropped(count: number, total: number): void;
  /**
   * A send failed after earlier sends had been accepted by a protocol that acknowledges nothing:
   * `count` samples written in the resend window before the failure are queued to be sent again.
   */
  resending?(count: number, windowMs: number): void;
  /** Samples written to the disk spool (a full outbox, or what was left at shutdown). */
  spooled?(count: number, why: 'full' | 'shutdown'): void;
  /** A spool segment ended in a torn record (a crash while writing); its whole records were kept. */
  torn?(file: string, bytes: number): void;
  /** The spool's caps were reached: these samples were dropped from disk, oldest first. */
  spoolDropped?(report: DropReport): void;
}

export interface OutboxStats {
  sent: number;
  sendErrors: number;
  dropped: number;
  batches: number;
}

/** Counts and reports what a full outbox pushes out. */
export class DropOldest implements Overflow {
  total = 0;
  constructor(private readonly onDrop: (count: number, total: number) => void) {}
  overflow(samples: readonly Sample[]): void {
    this.total += samples.length;
    this.onDrop(samples.length, this.total);
  }
}

/** Full jitter: a random delay between half and all of the exponential step. */
export function backoffDelay(attempt: number, min: number, max: number, random: () => number = Math.random): number {
  const step = Math.min(max, min * 2 ** Math.min(attempt - 1, 30));
  return Math.round(step / 2 + random() * (step / 2));
}

export class Outbox {
  readonly stats: OutboxStats = { sent: 0, sendErrors: 0, dropped: 0, batches: 0 };
  private buf: Sample[] = [];
  private head = 0;
  private inflight: readonly Sample[] | undefined;
  private firstQueuedAt = 0;
  /** Wakes a wait for samples (push, drain, stop). */
  private wake: (() => void) | undefined;
  /** Wakes a retry backoff (drain, stop only: new samples must not shorten the backoff). */
  private wakeRetry: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private draining = false;
  private attempt = 0;
  private sendAbort: AbortController | undefined;
  /** The spool segment being sent, and how far into it. */
  private segment: SpoolSegment | undefined;
  private segmentPos = 0;
  private inflightFromDisk = false;
  private readonly overflowPolicy: Overflow;
  /**
   * Batches accepted in the last resend window (only with `resendWindow` > 0). The upstream
   * acknowledges nothing (carbon): what was written just before a connection broke may never have
   * been stored, so on a failed send these go back to the head of the queue.
   */
  private recent: { at: number; samples: readonly Sample[] }[] = [];
  private recentCount = 0;
  /** Samples to send again, oldest first; they go before the spool and the memory queue. */
  private resend: Sample[] = [];

  constructor(
    readonly name: string,
    private readonly settings: OutboxSettings,
    private send: SendFn,
    private readonly events: OutboxEvents,
    private readonly backlog?: Backlog,
  ) {
    this.overflowPolicy = backlog
      ? {
          overflow: (samples) => {
            // The batch being sent from memory is older than anything queued: it must reach the
            // spool first, or the spool's order breaks. (If that send still succeeds, those
            // samples are sent twice: at least once, never out of order.)
            // A batch in flight is older than a pending resend (it was taken from its head).
            const older = this.inflight !== undefined && !this.inflightFromDisk ? [...this.inflight, ...this.resend] : this.resend;
            if (this.inflight !== undefined && !this.inflightFromDisk) this.inflight = undefined;
            this.resend = [];
            this.spill(older.length > 0 ? [...older, ...samples] : samples, 'full');
          },
        }
      : new DropOldest((n, t) => events.dropped(n, t));
  }

  /** Samples waiting in the disk spool (0 without one). */
  get spooled(): number {
    return this.backlog?.pending ?? 0;
  }

  private spill(samples: readonly Sample[], why: 'full' | 'shutdown'): void {
    if (samples.length === 0 || !this.backlog) return;
    this.backlog.append(samples);
    this.events.spooled?.(samples.length, why);
    for (const d of this.backlog.enforceCaps()) {
      this.stats.dropped += d.samples;
      this.events.spoolDropped?.(d);
    }
  }

  /** Samples waiting, including a batch being sent. */
  get depth(): number {
    return this.resend.length + this.buf.length - this.head + (this.inflight?.length ?? 0);
  }

  push(samples: readonly Sample[]): void {
    if (samples.length === 0) return;
    const wasEmpty = this.buf.length === this.head;
    if (wasEmpty) this.firstQueuedAt = performance.now();
    for (let i = 0; i < samples.length; i++) this.buf.push(samples[i]!);
    const excess = this.depth - this.settings.queueSize;
    if (excess > 0) {
      const n = Math.min(excess, this.buf.length - this.head);
      const out = this.buf.slice(this.head, this.head + n);
      this.head += n;
      if (!this.backlog) this.stats.dropped += n;
      this.compact();
      this.overflowPolicy.overflow(out);
    }
    // Wake the send loop only when it has something new to decide: it was waiting for samples,
    // or a batch is now full. Otherwise its flush timer already covers these samples.
    if (wasEmpty || this.buf.length - this.head >= this.settings.batchSize) this.wake?.();
  }

  /** Puts samples back at the head, before everything queued (a replaced handler's backlog). */
  prepend(samples: readonly Sample[]): void {
    if (samples.length === 0) return;
    this.buf = [...samples, ...this.buf.slice(this.head)];
    this.head = 0;
    this.firstQueuedAt = performance.now() - this.settings.flushInterval;
    const excess = this.depth - this.settings.queueSize;
    if (excess > 0) {
      const out = this.buf.slice(0, excess);
      this.head = excess;
      if (!this.backlog) this.stats.dropped += excess;
      this.compact();
      this.overflowPolicy.overflow(out);
    }
    this.interrupt();
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Replaces the send function (a reloaded handler) without touching the queue. */
  setSend(send: SendFn): void {
    this.send = send;
  }

  /**
   * Sends everything queued, retrying until `deadline` (performance.now() ms), then stops the loop.
   * Returns the samples that could not be sent, oldest first.
   */
  async drain(deadline: number): Promise<Sample[]> {
    this.draining = true;
    this.start();
    this.interrupt();
    const left = deadline - performance.now();
    const done = this.running!;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, left))))]);
    clearTimeout(timer);
    this.stopped = true;
    this.sendAbort?.abort(new Error('shutdown deadline reached'));
    this.interrupt();
    await Promise.race([done, new Promise<void>((r) => setTimeout(r, 50))]);
    const rest = this.takeAll();
    if (this.backlog) {
      // Nothing is lost at shutdown: it waits on disk and goes first on the next start.
      this.spill(rest, 'shutdown');
      this.backlog.sync();
      return [];
    }
    return rest;
  }

  /** Stops the loop and hands over everything not yet sent (used when a handler is replaced). */
  async detach(): Promise<Sample[]> {
    this.stopped = true;
    this.sendAbort?.abort(new Error('handler replaced'));
    this.interrupt();
    if (this.running) await Promise.race([this.running, new Promise<void>((r) => setTimeout(r, 1000))]);
    return this.takeAll();
  }

  private takeAll(): Sample[] {
    // A batch taken from the spool is still in its segment on disk: do not hand it out twice.
    const inflight = this.inflightFromDisk ? [] : (this.inflight ?? []);
    this.inflightFromDisk = false;
    this.segment = undefined;
    // A batch in flight is older than a pending resend (it was taken from its head).
    const rest = [...inflight, ...this.resend, ...this.buf.slice(this.head)];
    this.resend = [];
    this.recent = [];
    this.recentCount = 0;
    this.inflight = undefined;
    this.buf = [];
    this.head = 0;
    return rest;
  }

  private remember(batch: readonly Sample[]): void {
    const now = performance.now();
    this.recent.push({ at: now, samples: batch });
    this.recentCount += batch.length;
    // Bounded by time and by the queue's size: a resend never holds more than the queue may.
    while (this.recent.length > 0 && (this.recent[0]!.at < now - this.settings.resendWindow || this.recentCount > this.settings.queueSize)) {
      this.recentCount -= this.recent.shift()!.samples.length;
    }
  }

  /**
   * After a failed send, what was accepted in the window before the last accepted batch goes back
   * to the head of the queue, followed by the failed batch, so order is kept. The window is
   * measured back from the last write, not from now: after a long outage the writes that may
   * have been lost are older than "the last 10 s".
   */
  private requeueRecent(): void {
    const cutoff = this.recent[this.recent.length - 1]!.at - this.settings.resendWindow;
    const again: Sample[] = [];
    for (const r of this.recent) if (r.at >= cutoff) for (let i = 0; i < r.samples.length; i++) again.push(r.samples[i]!);
    this.recent = [];
    this.recentCount = 0;
    if (again.length === 0) return;
    const count = again.length;
    // The failed batch follows; one from the spool is read from its segment again instead.
    if (this.inflight !== undefined && !this.inflightFromDisk) for (let i = 0; i < this.inflight.length; i++) again.push(this.inflight[i]!);
    this.inflight = undefined;
    this.inflightFromDisk = false;
    for (let i = 0; i < this.resend.length; i++) again.push(this.resend[i]!);
    this.resend = again;
    this.events.resending?.(count, this.settings.resendWindow);
  }

  private compact(): void {
    if (this.head > 4096 && this.head * 2 > this.buf.length) {
      this.buf = this.buf.slice(this.head);
      this.head = 0;
    }
  }

  private take(n: number): readonly Sample[] {
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

  /** Waits for `ms`, or until woken: by push/drain/stop when `onPush`, else by drain/stop only. */
  private sleep(ms: number, onPush = true): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = ms === Infinity ? undefined : setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(t);
        self.wake = undefined;
        self.wakeRetry = undefined;
        resolve();
      }
      if (onPush) this.wake = done;
      this.wakeRetry = done;
    });
  }

  private interrupt(): void {
    this.wake?.();
    this.wakeRetry?.();
  }

  private async loop(): Promise<void> {
    const { batchSize, flushInterval, sendTimeout, retryMin, retryMax } = this.settings;
    while (!this.stopped) {
      if (this.inflight === undefined && this.resend.length > 0) {
        this.inflight = this.resend.length <= batchSize ? this.resend : this.resend.slice(0, batchSize);
        this.resend = this.resend.length <= batchSize ? [] : this.resend.slice(batchSize);
        this.inflightFromDisk = false;
      }
      if (this.inflight === undefined && this.backlog && (this.segment !== undefined || this.backlog.pending > 0)) {
        if (this.segment === undefined) {
          this.segment = this.backlog.oldest();
          this.segmentPos = 0;
          if (this.segment && this.segment.tornBytes > 0) this.events.torn?.(this.segment.file, this.segment.tornBytes);
        }
        if (this.segment && this.segmentPos >= this.segment.samples.length) {
          this.backlog.done(this.segment);
          this.segment = undefined;
          continue;
        }
        if (this.segment) {
          this.inflight = this.segment.samples.slice(this.segmentPos, this.segmentPos + batchSize);
          this.inflightFromDisk = true;
        }
      }
      if (this.inflight === undefined) {
        const queued = this.buf.length - this.head;
        if (queued === 0) {
          if (this.draining) return;
          await this.sleep(Infinity);
          continue;
        }
        const waited = performance.now() - this.firstQueuedAt;
        if (queued < batchSize && waited < flushInterval && !this.draining) {
          await this.sleep(flushInterval - waited);
          continue;
        }
        this.inflight = this.take(batchSize);
        if (this.buf.length > this.head) this.firstQueuedAt = performance.now() - flushInterval;
      }
      const batch = this.inflight;
      // One controller serves every send until one is aborted (a timeout or shutdown).
      const ctrl = this.sendAbort && !this.sendAbort.signal.aborted ? this.sendAbort : new AbortController();
      this.sendAbort = ctrl;
      let timer: NodeJS.Timeout | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => reject(ctrl.signal.reason as Error);
          timer = setTimeout(() => {
            const err = new Error(`send took longer than send_timeout (${sendTimeout} ms)`);
            ctrl.abort(err);
          }, sendTimeout);
          ctrl.signal.addEventListener('abort', onAbort, { once: true });
          this.send(batch, ctrl.signal).then(
            () => {
              ctrl.signal.removeEventListener('abort', onAbort);
              resolve();
            },
            (err: unknown) => {
              ctrl.signal.removeEventListener('abort', onAbort);
              reject(err instanceof Error ? err : new Error(String(err)));
            },
          );
        });
        clearTimeout(timer);
        this.stats.sent += batch.length;
        this.stats.batches++;
        if (this.inflight === batch) {
          if (this.inflightFromDisk) this.segmentPos += batch.length;
          this.inflight = undefined;
          this.inflightFromDisk = false;
        }
        if (this.settings.resendWindow > 0) this.remember(batch);
        if (this.attempt > 0) this.events.recovered(this.attempt);
        this.attempt = 0;
      } catch (err) {
        clearTimeout(timer);
        // Before anything else, even at shutdown: what the broken connection may have lost must
        // be queued (and so spooled) again.
        if (this.recent.length > 0) this.requeueRecent();
        if (this.stopped) return;
        this.stats.sendErrors++;
        this.attempt++;
        let delay = backoffDelay(this.attempt, retryMin, retryMax);
        this.events.sendFailed(err instanceof Error ? err : new Error(String(err)), this.attempt, delay);
        if (this.draining) delay = Math.min(delay, retryMin);
        await this.sleep(delay, false);
      }
    }
  }
}
