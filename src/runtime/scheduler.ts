// Runs jobs in windows aligned to their interval on the wall clock (10 s: :00, :10, ...), each at
// a fixed offset inside the window to spread load. A run that overruns its timeout is abandoned
// (its signal aborts) and counted; while it has still not returned, later windows are skipped
// rather than started on top of it. Windows missed are skipped, with the reason told apart: a
// blocked event loop (naming the run that was going on), a clock jump or a suspend.
import { type Clocks, type LateCause, lateCause, systemClocks } from './late-timers.js';

export interface Job {
  readonly key: string;
  readonly interval: number;
  readonly timeout: number;
  /** `window` is the aligned window start (ms): the timestamp for everything the run emits. */
  run(window: number, signal: AbortSignal): Promise<void>;
}

export interface JobStats {
  runs: number;
  timeouts: number;
  errors: number;
  /** Windows not run: the previous run was still stuck, or the job's timer fired past them. */
  skipped: number;
  lastDurationMs: number;
}

/** About windows a late timer passed over. */
export interface LateDetail {
  /** How late the timer fired, by the wall clock (ms). */
  readonly lateMs: number;
  /** For `blocked`: the job whose run was going on meanwhile, the likely cause. */
  readonly culprit: { readonly key: string; readonly runMs: number; readonly syncMs: number } | undefined;
}

export interface SchedulerEvents {
  timeout(key: string, timeoutMs: number): void;
  error(key: string, err: Error): void;
  skipped(key: string, count: number, why: 'stuck' | LateCause, detail?: LateDetail): void;
}

/** Points in each window where jobs may start; jobs in one slot share a single wake-up. */
export const OFFSET_SLOTS = 4;

/**
 * Slots closer than this are not worth their wake-ups: each costs the agent about 0.15 ms of
 * CPU (timers and caches gone cold since the last one), a quarter more at a 1 s interval, while
 * spreading a few milliseconds of collection by 125 ms spreads nothing.
 */
export const MIN_SLOT_MS = 1000;

/**
 * The fixed offset of a job inside its window: a hash of its key picks one of OFFSET_SLOTS
 * points spread over the first half of the window (at most 5 s in), at least MIN_SLOT_MS apart;
 * shorter intervals (under 8 s) start all their jobs at the window's start. Load is spread, and
 * the jobs that share a point fire from one timer pass instead of one wake-up each.
 */
export function offsetFor(key: string, interval: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  const span = Math.min(Math.floor(interval / 2), 5000);
  const slot = Math.floor(span / OFFSET_SLOTS);
  return slot >= MIN_SLOT_MS ? (h % OFFSET_SLOTS) * slot : 0;
}

/** The start of the window that `now` falls in, for a job at `offset`. */
export function windowAt(now: number, interval: number, offset: number): number {
  return Math.floor((now - offset) / interval) * interval;
}

interface Entry {
  readonly job: Job;
  readonly offset: number;
  readonly stats: JobStats;
  timer: NodeJS.Timeout | undefined;
  /** Set while a run has not returned (including an abandoned one). */
  running: Promise<void> | undefined;
  abort: AbortController | undefined;
  /** Reused while not aborted: creating an AbortSignal per run is a large part of a run's cost. */
  spare: AbortController | undefined;
  /** The current run's timeout. */
  timeoutTimer: NodeJS.Timeout | undefined;
  timedOut: boolean;
  lastWindow: number | undefined;
  expectedWindow: number | undefined;
  /** When the timer was armed (wall and monotonic ms) and its delay. */
  armedWall: number;
  armedMono: number;
  armedDelay: number;
  /** The last run, on the monotonic clock: start, end (undefined while it runs), and the time its first synchronous part took. */
  runStart: number | undefined;
  runEnd: number | undefined;
  runSyncMs: number;
  stopped: boolean;
}

export class Scheduler {
  private readonly entries = new Map<string, Entry>();
  /** Suspended time (ms since boot) at the last look, and the last late timer's reading of it. */
  private suspendedBase: number | undefined;
  private lastLate: { mono: number; suspendedMs: number | undefined } | undefined;

  constructor(
    private readonly events: SchedulerEvents,
    private readonly clocks: Clocks = systemClocks,
  ) {}

  add(job: Job): void {
    if (this.entries.has(job.key)) throw new Error(`job ${job.key} is already scheduled`);
    const entry: Entry = {
      job,
      offset: offsetFor(job.key, job.interval),
      stats: { runs: 0, timeouts: 0, errors: 0, skipped: 0, lastDurationMs: 0 },
      timer: undefined,
      running: undefined,
      abort: undefined,
      spare: undefined,
      timeoutTimer: undefined,
      timedOut: false,
      lastWindow: undefined,
      expectedWindow: undefined,
      armedWall: 0,
      armedMono: 0,
      armedDelay: 0,
      runStart: undefined,
      runEnd: undefined,
      runSyncMs: 0,
      stopped: false,
    };
    if (this.entries.size === 0 && this.suspendedBase === undefined) this.suspendedBase = this.clocks.suspended();
    this.entries.set(job.key, entry);
    this.arm(entry);
  }

  /** Stops scheduling a job; resolves when its current run (if any, and not stuck) has returned. */
  async remove(key: string, waitMs = 0): Promise<void> {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    e.stopped = true;
    this.disarm(e);
    if (e.running && waitMs > 0) await Promise.race([e.running, sleep(waitMs)]);
  }

  stats(key: string): JobStats | undefined {
    return this.entries.get(key)?.stats;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** Stops every job; waits up to `waitMs` for runs in progress, then aborts what is left. */
  async stop(waitMs: number): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    for (const e of entries) {
      e.stopped = true;
      this.disarm(e);
    }
    const running = entries.flatMap((e) => (e.running ? [e.running] : []));
    if (running.length > 0 && waitMs > 0) await Promise.race([Promise.allSettled(running), sleep(waitMs)]);
    for (const e of entries) e.abort?.abort(new Error('sonde is stopping'));
  }

  private arm(e: Entry): void {
    if (e.stopped) return;
    const now = this.clocks.wall();
    const { interval } = e.job;
    let next = windowAt(now, interval, e.offset) + interval;
    if (e.lastWindow !== undefined && next <= e.lastWindow) next = e.lastWindow + interval;
    e.expectedWindow = next;
    const delay = Math.max(0, next + e.offset - now);
    e.armedWall = now;
    e.armedMono = this.clocks.mono();
    e.armedDelay = delay;
    // Referenced on purpose: the scheduled windows are what keeps `sonde run` alive.
    e.timer = setTimeout(() => this.fire(e), delay);
  }

  private fire(e: Entry): void {
    if (e.stopped) return;
    const { interval } = e.job;
    const now = this.clocks.wall();
    const window = windowAt(now, interval, e.offset);
    if ((e.lastWindow !== undefined && window === e.lastWindow) || (e.expectedWindow !== undefined && window < e.expectedWindow && e.expectedWindow - window <= interval)) {
      // The timer fired a little before the wall clock reached its window (node counts a delay
      // from the loop's cached time; NTP slews the clock): wait for it, even on a job's first run,
      // or two runs get one window and the next gets none. (Further back is a clock step back.)
      this.arm(e);
      return;
    }
    if (e.expectedWindow !== undefined && window > e.expectedWindow) {
      const missed = Math.round((window - e.expectedWindow) / interval);
      e.stats.skipped += missed;
      this.late(e, now, missed);
    }
    if (e.running) {
      // An abandoned run has still not returned: never start a second one beside it.
      e.stats.skipped++;
      e.lastWindow = window;
      this.events.skipped(e.job.key, 1, 'stuck');
      this.arm(e);
      return;
    }
    e.lastWindow = window;
    this.start(e, window);
    this.arm(e);
  }

  private start(e: Entry, window: number): void {
    const ctrl = e.spare && !e.spare.signal.aborted ? e.spare : new AbortController();
    e.spare = ctrl;
    e.abort = ctrl;
    e.timedOut = false;
    const started = this.clocks.mono();
    e.runStart = started;
    e.runEnd = undefined;
    e.timeoutTimer = setTimeout(() => {
      if (!e.running || !e.abort) return;
      e.timedOut = true;
      e.stats.timeouts++;
      e.abort.abort(new Error(`timed out after ${e.job.timeout} ms`));
      this.events.timeout(e.job.key, e.job.timeout);
    }, e.job.timeout);

    const run = (async () => {
      try {
        const p = e.job.run(window, ctrl.signal);
        // The part before the run's first await: a collector computing without yielding shows here.
        e.runSyncMs = this.clocks.mono() - started;
        await p;
      } catch (err) {
        if (!e.timedOut) {
          e.stats.errors++;
          this.events.error(e.job.key, err instanceof Error ? err : new Error(String(err)));
        }
      } finally {
        clearTimeout(e.timeoutTimer);
        e.stats.runs++;
        const ended = this.clocks.mono();
        e.stats.lastDurationMs = ended - started;
        e.runEnd = ended;
        e.running = undefined;
        e.abort = undefined;
      }
    })();
    e.running = run;
  }

  /** Says why `e`'s timer fired `missed` windows late: blocked (and by what), a clock jump, a suspend. */
  private late(e: Entry, wallNow: number, missed: number): void {
    const monoNow = this.clocks.mono();
    const due = e.armedMono + e.armedDelay;
    const wallLate = wallNow - (e.armedWall + e.armedDelay);
    const monoLate = monoNow - due;
    // One look at the boot clock per event: every job's timer that the same suspend delayed fires
    // within moments of the others and shares it.
    if (this.lastLate === undefined || monoNow - this.lastLate.mono > 1000) {
      const s = this.clocks.suspended();
      const during = s === undefined || this.suspendedBase === undefined ? undefined : s - this.suspendedBase;
      this.suspendedBase = s;
      this.lastLate = { mono: monoNow, suspendedMs: during };
    }
    const cause = lateCause(wallLate, monoLate, this.lastLate.suspendedMs);
    const culprit = cause === 'blocked' ? this.blame(due, monoNow, monoLate) : undefined;
    this.events.skipped(e.job.key, missed, cause, { lateMs: wallLate, culprit });
  }

  /**
   * The run most likely to have blocked the event loop between `from` and `to` (monotonic ms): one
   * that spent most of that time before its first await, else the one that overlapped it longest.
   */
  private blame(from: number, to: number, lateMs: number): LateDetail['culprit'] {
    let best: Entry | undefined;
    let bestScore = 0;
    for (const c of this.entries.values()) {
      if (c.runStart === undefined || c.runStart > to) continue;
      const end = c.runEnd ?? to;
      const overlap = Math.min(end, to) - Math.max(c.runStart, from);
      if (overlap < lateMs / 2) continue;
      const score = c.runSyncMs >= lateMs / 2 ? 1e15 + c.runSyncMs : overlap;
      if (score > bestScore) {
        best = c;
        bestScore = score;
      }
    }
    if (best === undefined || best.runStart === undefined) return undefined;
    return { key: best.job.key, runMs: (best.runEnd ?? to) - best.runStart, syncMs: best.runSyncMs };
  }

  private disarm(e: Entry): void {
    clearTimeout(e.timer);
    clearTimeout(e.timeoutTimer);
    e.timeoutTimer = undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref?.());
}
