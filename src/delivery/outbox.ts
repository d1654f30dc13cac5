// One handler's queue and send loop. Samples leave in arrival order, in batches by size and by
// time. A failed batch stays at the head and is retried with exponential backoff and jitter, so
// order is kept. The loop takes each batch from the first of: samples to send again (a broken
// connection may have lost them), the disk spool, memory. What does not fit in memory goes to
// the overflow policy: the spool when there is one, else dropped, counted and logged.
import type { OutboxSettings } from '../config/types.js';
import type { Sample } from '../model/sample.js';
import { MemoryQueue } from './memory-queue.js';
import { DropOldest, SpillToSpool, type Overflow, type OverflowEvents } from './overflow.js';
import { ResendWindow } from './resend-window.js';
import { sendWithDeadline, type SendFn } from './send-deadline.js';
import { SpoolReader, type Backlog, type SpoolReadEvents } from './spool-reader.js';

export type { Backlog } from './spool-reader.js';
export type { SendFn } from './send-deadline.js';

export interface OutboxEvents extends OverflowEvents, SpoolReadEvents {
  sendFailed(err: Error, attempt: number, retryInMs: number): void;
  recovered(afterAttempts: number): void;
  /**
   * A send failed after earlier sends had been accepted by a protocol that acknowledges nothing:
   * `count` samples written in the resend window before the failure are queued to be sent again.
   */
  resending?(count: number, windowMs: number): void;
}

export interface OutboxStats {
  sent: number;
  sendErrors: number;
  dropped: number;
  batches: number;
}

/** Full jitter: a random delay between half and all of the exponential step. */
export function backoffDelay(attempt: number, min: number, max: number, random: () => number = Math.random): number {
  const step = Math.min(max, min * 2 ** Math.min(attempt - 1, 30));
  return Math.round(step / 2 + random() * (step / 2));
}

export class Outbox {
  readonly stats: OutboxStats = { sent: 0, sendErrors: 0, dropped: 0, batches: 0 };
  private readonly queue = new MemoryQueue();
  private readonly window: ResendWindow;
  private readonly reader: SpoolReader | undefined;
  private readonly overflowPolicy: Overflow;
  /** Samples to send again, oldest first; they go before the spool and the memory queue. */
  private resend: Sample[] = [];
  private inflight: readonly Sample[] | undefined;
  /** The batch in flight was read from the spool: it is still on disk, never handed out twice. */
  private inflightFromDisk = false;
  /** Wakes a wait for samples (push, drain, stop). */
  private wake: (() => void) | undefined;
  /** Wakes a retry backoff (drain, stop only: new samples must not shorten the backoff). */
  private wakeRetry: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private draining = false;
  private attempt = 0;
  private sendAbort: AbortController | undefined;

  constructor(
    readonly name: string,
    private readonly settings: OutboxSettings,
    private readonly send: SendFn,
    private readonly events: OutboxEvents,
    private readonly backlog?: Backlog,
  ) {
    this.window = new ResendWindow(settings.resendWindow, settings.queueSize);
    this.reader = backlog ? new SpoolReader(backlog, events) : undefined;
    this.overflowPolicy = backlog ? new SpillToSpool(backlog, this.stats, events) : new DropOldest(this.stats, events);
  }

  /** Samples waiting in the disk spool (0 without one). */
  get spooled(): number {
    return this.backlog?.pending ?? 0;
  }

  /** Samples waiting, including a batch being sent. */
  get depth(): number {
    return this.resend.length + this.queue.length + (this.inflight?.length ?? 0);
  }

  push(samples: readonly Sample[]): void {
    if (samples.length === 0) return;
    const wasEmpty = this.queue.length === 0;
    this.queue.push(samples, performance.now());
    this.shed();
    // Wake the send loop only when it has something new to decide: it was waiting for samples,
    // or a batch is now full. Otherwise its flush timer already covers these samples.
    if (wasEmpty || this.queue.length >= this.settings.batchSize) this.wake?.();
  }

  /** Puts samples back at the head, before everything queued (a replaced handler's backlog). */
  prepend(samples: readonly Sample[]): void {
    if (samples.length === 0) return;
    // They have waited already: the next batch goes without waiting for the flush interval.
    this.queue.prepend(samples, performance.now(), this.settings.flushInterval);
    this.shed();
    this.interrupt();
  }

  /** Hands what is over queue_size, oldest first, to the overflow policy. */
  private shed(): void {
    const excess = this.depth - this.settings.queueSize;
    if (excess <= 0) return;
    const out = this.queue.take(Math.min(excess, this.queue.length));
    if (!this.overflowPolicy.keeps) return this.overflowPolicy.overflow(out, 'full');
    // The batch being sent from memory and a pending resend are older than anything queued:
    // they reach the spool first, or its order breaks. (If that send still succeeds, those
    // samples are sent twice: at least once, never out of order.)
    const older = this.takeOlderThanQueue();
    this.overflowPolicy.overflow(older.length > 0 ? [...older, ...out] : out, 'full');
  }

  /** The in-memory batch in flight and the pending resend, taken out of the outbox. */
  private takeOlderThanQueue(): Sample[] {
    const fromMemory = this.inflight !== undefined && !this.inflightFromDisk;
    // A batch in flight is older than a pending resend (it was taken from its head).
    const older = fromMemory ? [...this.inflight!, ...this.resend] : this.resend;
    if (fromMemory) this.inflight = undefined;
    this.resend = [];
    return older;
  }

  start(): void {
    this.running ??= this.loop();
  }

  /**
   * Sends everything queued, retrying until `deadline` (performance.now() ms), then stops the loop.
   * Returns the samples that could not be sent, oldest first (none with a spool: they wait there).
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
    if (!this.overflowPolicy.keeps) return rest;
    // Nothing is lost at shutdown: it waits on disk and goes first on the next start.
    this.overflowPolicy.overflow(rest, 'shutdown');
    this.overflowPolicy.sync();
    return [];
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
    if (this.inflightFromDisk) this.inflight = undefined;
    this.inflightFromDisk = false;
    this.reader?.rewind();
    this.window.clear();
    const older = this.takeOlderThanQueue();
    const queued = this.queue.takeAll();
    return older.length > 0 ? [...older, ...queued] : queued;
  }

  /**
   * After a failed send, what was accepted in the window goes back to the head of the queue,
   * followed by the failed batch, so order is kept.
   */
  private requeueAtRisk(): void {
    const again = this.window.takeAtRisk();
    if (again.length === 0) return;
    const count = again.length;
    // The failed batch follows; one from the spool is read from its segment again instead.
    if (this.inflight !== undefined && !this.inflightFromDisk) for (let i = 0; i < this.inflight.length; i++) again.push(this.inflight[i]!);
    this.inflight = undefined;
    this.inflightFromDisk = false;
    for (let i = 0; i < this.resend.length; i++) again.push(this.resend[i]!);
    this.resend = again;
    this.events.resending?.(count, this.window.windowMs);
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

  /**
   * Takes the next batch: a resend, then the spool, then memory (full, or waited flush_interval).
   * Synchronous, so a batch is never in neither the queue nor in flight while a push looks.
   * Otherwise says how long to wait (Infinity: until pushed) or that a drain is done.
   */
  private takeNext(): readonly Sample[] | { wait: number } | 'done' {
    const { batchSize, flushInterval } = this.settings;
    if (this.resend.length > 0) {
      const batch = this.resend.length <= batchSize ? this.resend : this.resend.slice(0, batchSize);
      this.resend = this.resend.length <= batchSize ? [] : this.resend.slice(batchSize);
      this.inflightFromDisk = false;
      return batch;
    }
    const fromDisk = this.reader?.next(batchSize);
    if (fromDisk !== undefined) {
      this.inflightFromDisk = true;
      return fromDisk;
    }
    const queued = this.queue.length;
    if (queued === 0) return this.draining ? 'done' : { wait: Infinity };
    const waited = performance.now() - this.queue.firstQueuedAt;
    if (queued < batchSize && waited < flushInterval && !this.draining) return { wait: flushInterval - waited };
    const batch = this.queue.take(batchSize);
    // What is left has waited long enough: it goes in the next batch without a new wait.
    if (this.queue.length > 0) this.queue.firstQueuedAt = performance.now() - flushInterval;
    this.inflightFromDisk = false;
    return batch;
  }

  private async loop(): Promise<void> {
    const { sendTimeout, retryMin, retryMax } = this.settings;
    while (!this.stopped) {
      if (this.inflight === undefined) {
        const next = this.takeNext();
        if (next === 'done') return;
        if ('wait' in next) {
          await this.sleep(next.wait);
          continue;
        }
        this.inflight = next;
      }
      const batch = this.inflight;
      // One controller serves every send until one is aborted (a timeout or shutdown).
      const ctrl = this.sendAbort && !this.sendAbort.signal.aborted ? this.sendAbort : new AbortController();
      this.sendAbort = ctrl;
      try {
        await sendWithDeadline(this.send, batch, sendTimeout, ctrl);
        this.stats.sent += batch.length;
        this.stats.batches++;
        if (this.inflight === batch) {
          if (this.inflightFromDisk) this.reader?.sent(batch.length);
          this.inflight = undefined;
          this.inflightFromDisk = false;
        }
        this.window.accepted(batch, performance.now());
        if (this.attempt > 0) this.events.recovered(this.attempt);
        this.attempt = 0;
      } catch (err) {
        // Before anything else, even at shutdown: what the broken connection may have lost must
        // be queued (and so spooled) again.
        this.requeueAtRisk();
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
