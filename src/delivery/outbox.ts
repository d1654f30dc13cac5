// One handler's queue and send loop. Samples leave in arrival order, in batches by size and by
// time. A failed batch stays at the head and is retried with exponential backoff and jitter, so
// order is kept. The loop takes each batch from the first of: samples to send again (a broken
// connection may have lost them), the disk spool, memory. What does not fit in memory goes to
// the overflow policy: the spool when there is one, else dropped, counted and logged. A batch
// the handler rejects for good (RejectedSamplesError) is sent in halves until the samples that
// fail are found; those are dropped and counted, never retried. A handler that reports only the
// head of a batch accepted (a PartialSendError, or a count) has the rest kept, in order, for a retry.
import type { OutboxSettings } from '../config/types.js';
import type { Sample } from '../model/sample.js';
import { PartialSendError, RejectedSamplesError, type SendResult } from '../plugin-api.js';
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
   * The handler rejected samples it can never send (RejectedSamplesError): `count` samples of one
   * batch were dropped and counted; `first` is the first of them, `reason` the handler's word on it.
   */
  rejected?(count: number, first: Sample, reason: Error): void;
  /**
   * A fault outside the handler's send: a bug, or the system refusing what sonde never expects.
   * `where` says what was being done; samples involved may be lost, the outbox goes on.
   */
  internalError?(where: string, err: Error): void;
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
  /**
   * Samples queued again by the resend window after a broken connection: copies of samples the
   * upstream may already have stored. A drop of such a copy is counted in `dropped` too.
   */
  resent: number;
  /**
   * Samples the handler said can never be sent (RejectedSamplesError: an upstream that refused
   * them, a value its format cannot carry). Each is counted in `dropped` too.
   */
  rejected: number;
  /**
   * Samples the upstream refused for now (a memcached out of memory) and that are kept to be
   * written again: counted at each refusal, so a sample refused twice counts twice. Never dropped.
   */
  refused: number;
}

/** Full jitter: a random delay between half and all of the exponential step. */
export function backoffDelay(attempt: number, min: number, max: number, random: () => number = Math.random): number {
  const step = Math.min(max, min * 2 ** Math.min(attempt - 1, 30));
  return Math.round(step / 2 + random() * (step / 2));
}

/** What a send's result says was accepted, as a count from the head of a batch of `length`. */
function acceptedCount(result: SendResult | number, length: number): number {
  if (typeof result !== 'number') return length;
  if (!(result > 0)) return 0;
  return Math.min(length, Math.floor(result));
}

export class Outbox {
  readonly stats: OutboxStats = { sent: 0, sendErrors: 0, dropped: 0, batches: 0, resent: 0, rejected: 0, refused: 0 };
  private readonly queue = new MemoryQueue();
  private readonly window: ResendWindow;
  private readonly reader: SpoolReader | undefined;
  private readonly overflowPolicy: Overflow;
  /** Samples to send again, oldest first; they go before the spool and the memory queue. */
  private resend: Sample[] = [];
  private inflight: readonly Sample[] | undefined;
  /**
   * The rest of a rejected batch, split to find the samples the handler cannot send: sent after
   * the piece in flight, in order, before anything else. They come from where the batch came from.
   */
  private pieces: (readonly Sample[])[] = [];
  /** Samples of the batch being split that were dropped so far, reported once it is done. */
  private rejectedSoFar: { count: number; first: Sample; reason: Error } | undefined;
  /** The batch in flight (and its pieces) was read from the spool: it is still on disk, never handed out twice. */
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
    this.reader = backlog ? new SpoolReader(backlog, events, this.stats) : undefined;
    this.overflowPolicy = backlog ? new SpillToSpool(backlog, this.stats, events) : new DropOldest(this.stats, events);
  }

  /** Samples waiting in the disk spool (0 without one). */
  get spooled(): number {
    return this.backlog?.pending ?? 0;
  }

  /** Samples waiting, including a batch being sent. */
  get depth(): number {
    let n = this.resend.length + this.queue.length + (this.inflight?.length ?? 0);
    for (const p of this.pieces) n += p.length;
    return n;
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

  /** The in-memory batch in flight (with the pieces of it still to send) and the pending resend, taken out of the outbox. */
  private takeOlderThanQueue(): Sample[] {
    const fromMemory = (this.inflight !== undefined || this.pieces.length > 0) && !this.inflightFromDisk;
    if (!fromMemory) {
      const older = this.resend;
      this.resend = [];
      return older;
    }
    // A batch in flight is older than a pending resend (it was taken from its head).
    const older: Sample[] = [];
    if (this.inflight !== undefined) for (let i = 0; i < this.inflight.length; i++) older.push(this.inflight[i]!);
    for (const p of this.pieces) for (let i = 0; i < p.length; i++) older.push(p[i]!);
    for (let i = 0; i < this.resend.length; i++) older.push(this.resend[i]!);
    this.inflight = undefined;
    this.pieces = [];
    this.resend = [];
    this.reportRejected();
    return older;
  }

  start(): void {
    // The loop catches what it expects; this is for a fault in what it calls back (a logger).
    this.running ??= this.loop().catch((err: unknown) => this.events.internalError?.('the send loop, which has stopped', err instanceof Error ? err : new Error(String(err))));
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
    if (this.inflightFromDisk) {
      this.inflight = undefined;
      this.pieces = [];
      this.reportRejected();
    }
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
    this.stats.resent += count;
    // The failed batch follows; one from the spool is read from its segment again instead.
    if (!this.inflightFromDisk) {
      if (this.inflight !== undefined) for (let i = 0; i < this.inflight.length; i++) again.push(this.inflight[i]!);
      for (const p of this.pieces) for (let i = 0; i < p.length; i++) again.push(p[i]!);
    }
    this.inflight = undefined;
    this.pieces = [];
    this.reportRejected();
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

  /**
   * The handler rejected `batch` for good: it is split in two halves, sent in turn; a single
   * sample it rejects is dropped, counted and never tried again.
   */
  private isolate(batch: readonly Sample[], reason: Error): void {
    this.inflight = undefined;
    if (batch.length > 1) {
      const half = Math.ceil(batch.length / 2);
      this.pieces.unshift(batch.slice(0, half), batch.slice(half));
      return;
    }
    this.stats.dropped++;
    this.stats.rejected++;
    if (this.inflightFromDisk) this.reader?.sent(1);
    if (this.rejectedSoFar === undefined) this.rejectedSoFar = { count: 0, first: batch[0]!, reason };
    this.rejectedSoFar.count++;
    this.settled();
  }

  /** The piece in flight is done with: once no piece of its batch is left, the batch is. */
  private settled(): void {
    if (this.pieces.length > 0) return;
    this.inflightFromDisk = false;
    this.reportRejected();
  }

  private reportRejected(): void {
    const r = this.rejectedSoFar;
    if (r === undefined) return;
    this.rejectedSoFar = undefined;
    this.events.rejected?.(r.count, r.first, r.reason);
  }

  /** The first `count` samples of `batch` were accepted: counted, settled, and no longer in flight. */
  /** The upstream has all of `batch`: counted, off the spool's books, and into the resend window. */
  private acceptWhole(batch: readonly Sample[]): void {
    this.stats.sent += batch.length;
    this.stats.batches++;
    if (this.inflight === batch) {
      if (this.inflightFromDisk) this.reader?.sent(batch.length);
      this.inflight = undefined;
      this.settled();
    }
    this.window.accepted(batch, performance.now());
  }

  private acceptHead(batch: readonly Sample[], count: number): void {
    this.stats.sent += count;
    this.window.accepted(batch.slice(0, count), performance.now());
    if (this.inflight !== batch) return;
    if (this.inflightFromDisk) this.reader?.sent(count);
    this.inflight = batch.slice(count);
  }

  private async loop(): Promise<void> {
    const { sendTimeout, retryMin, retryMax } = this.settings;
    let faults = 0;
    while (!this.stopped) {
      if (this.inflight === undefined) {
        let next: ReturnType<Outbox['takeNext']>;
        try {
          next = this.pieces.length > 0 ? this.pieces.shift()! : this.takeNext();
          faults = 0;
        } catch (err) {
          // Never the end of the loop: what is queued waits for the next try.
          this.events.internalError?.('taking the next batch to send', err instanceof Error ? err : new Error(String(err)));
          await this.sleep(backoffDelay(++faults, retryMin, retryMax), false);
          continue;
        }
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
        const accepted = acceptedCount(await sendWithDeadline(this.send, batch, sendTimeout, ctrl), batch.length);
        if (accepted < batch.length) throw new PartialSendError(accepted, `the handler reported ${accepted} of the batch's ${batch.length} samples accepted`);
        this.acceptWhole(batch);
        if (this.attempt > 0) this.events.recovered(this.attempt);
        this.attempt = 0;
      } catch (err) {
        if (err instanceof RejectedSamplesError) {
          // Nothing of the batch was written, so nothing is at risk; a batch taken away meanwhile
          // (spilled to the spool, or the outbox stopped) is split when it is sent again.
          if (this.inflight === batch && !this.stopped) this.isolate(batch, err);
          continue;
        }
        if (err instanceof PartialSendError) {
          this.stats.refused += Math.max(0, err.refused);
          // The head the upstream took is done with; only the rest stays in flight.
          const head = acceptedCount(err.accepted, batch.length);
          if (head >= batch.length) {
            this.acceptWhole(batch);
            continue;
          }
          if (head > 0) this.acceptHead(batch, head);
        }
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
