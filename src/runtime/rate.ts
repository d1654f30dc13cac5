// Per-second rates from running counters, on measured elapsed time.
import { readFileSync } from 'node:fs';

/** Milliseconds on a clock that never goes backwards (fractional). */
export type MonotonicClock = () => number;

/**
 * CLOCK_MONOTONIC in ms. Node's hrtime reads the system-wide monotonic clock on Linux, so values
 * taken by two processes in the same boot can be compared: that is what lets two `sonde once`
 * runs from cron produce a rate.
 */
export const monotonicMs: MonotonicClock = () => Number(process.hrtime.bigint()) / 1e6;

interface Last {
  value: number;
  at: number;
  /** The budget the key was counted against, given back when the key is pruned. */
  budget: KeyBudget | undefined;
}

/**
 * How many keys one owner (a collector) may hold in a shared tracker. A new key past `max` is
 * refused: it gets no baseline and its call returns undefined, counted in `refused`.
 */
export interface KeyBudget {
  readonly max: number;
  used: number;
  refused: number;
}

export function keyBudget(max: number): KeyBudget {
  return { max, used: 0, refused: 0 };
}

export interface RateState {
  readonly version: 1;
  /** The boot the monotonic readings belong to; state from another boot is discarded. */
  readonly boot: string;
  readonly counters: Record<string, [value: number, atMs: number]>;
}

/** One owner's baselines in a tracker (a collector's), by keys that do not repeat the owner's name. */
export interface RateScope {
  /** As RateTracker.derive, for the key `prefix + key`. */
  derive(key: string, counter: number, now: number, budget?: KeyBudget): number | undefined;
  /** As RateTracker.delta, for the key `prefix + key`. */
  delta(key: string, counter: number, now: number, budget?: KeyBudget): { delta: number; seconds: number } | undefined;
}

/**
 * Derives rates. The first value for a key only sets the baseline; a value lower than the last
 * one is a reset (or a 32/64-bit wrap) and also only sets the baseline, so a restart of the thing
 * being counted never shows as a 2^64 spike.
 */
export class RateTracker {
  /** Made first and kept: baselines then hold the run's one time and small counters as they are, not in boxes of their own. */
  static readonly lastShape: object = { value: undefined, at: undefined, budget: undefined };
  /** Keys given whole, and baselines restored from disk until the scope they belong to asks for them. */
  private readonly last = new Map<string, Last>();
  /**
   * Baselines by owner prefix, then by the owner's key: a derive() of a collector finds its
   * baseline by the string the collector passed, without building `prefix + key` for every counter.
   */
  private readonly scopes = new Map<string, Map<string, Last>>();

  constructor(private readonly clock: MonotonicClock = monotonicMs) {}

  /** Milliseconds between the last two readings seen by advance(). */
  private elapsedMs = 0;

  /**
   * The per-second rate of `counter` since the last call for `key`, or undefined. A new key is
   * counted against `budget` (and refused when it is spent).
   */
  derive(key: string, counter: number, now: number = this.clock(), budget?: KeyBudget): number | undefined {
    // No result object: this runs for most samples of every collection.
    const d = this.advance(this.last, undefined, key, counter, now, budget);
    return d === undefined ? undefined : d / (this.elapsedMs / 1000);
  }

  /**
   * How much `counter` grew since the last call for `key`, and over how many seconds; undefined
   * on the first call, after a reset (the counter went down) and when no time has passed.
   */
  delta(key: string, counter: number, now: number = this.clock(), budget?: KeyBudget): { delta: number; seconds: number } | undefined {
    const d = this.advance(this.last, undefined, key, counter, now, budget);
    return d === undefined ? undefined : { delta: d, seconds: this.elapsedMs / 1000 };
  }

  /**
   * The keys that start with `prefix`, for one owner: the same baselines as derive(prefix + key),
   * saved and restored under those keys. The same prefix gives the same baselines.
   */
  scope(prefix: string): RateScope {
    let map = this.scopes.get(prefix);
    if (map === undefined) this.scopes.set(prefix, (map = new Map()));
    const held = map;
    return {
      derive: (key, counter, now, budget) => {
        const d = this.advance(held, prefix, key, counter, now, budget);
        return d === undefined ? undefined : d / (this.elapsedMs / 1000);
      },
      delta: (key, counter, now, budget) => {
        const d = this.advance(held, prefix, key, counter, now, budget);
        return d === undefined ? undefined : { delta: d, seconds: this.elapsedMs / 1000 };
      },
    };
  }

  /** Moves `key`'s baseline to `counter` and returns its growth (elapsed time in elapsedMs). */
  private advance(map: Map<string, Last>, prefix: string | undefined, key: string, counter: number, now: number, budget: KeyBudget | undefined): number | undefined {
    if (!Number.isFinite(counter)) return undefined;
    let prev = map.get(key);
    if (prev === undefined && prefix !== undefined && this.last.size > 0) {
      // Restored from disk (sonde once) under its whole key: from now on it lives in its scope.
      const whole = prefix + key;
      prev = this.last.get(whole);
      if (prev !== undefined) {
        this.last.delete(whole);
        map.set(key, prev);
      }
    }
    if (prev === undefined) {
      if (budget !== undefined) {
        if (budget.used >= budget.max) {
          budget.refused++;
          return undefined;
        }
        budget.used++;
      }
      map.set(key, { value: counter, at: now, budget });
      return undefined;
    }
    if (prev.budget === undefined && budget !== undefined) {
      // Restored from disk (sonde once): counted from its owner's first use on.
      prev.budget = budget;
      budget.used++;
    }
    const elapsed = now - prev.at;
    const delta = counter - prev.value;
    prev.value = counter;
    prev.at = now;
    if (delta < 0 || elapsed <= 0) return undefined;
    this.elapsedMs = elapsed;
    return delta;
  }

  prune(before: number): void {
    const pruneIn = (map: Map<string, Last>): void => {
      for (const [k, v] of map) {
        if (v.at >= before) continue;
        map.delete(k);
        if (v.budget !== undefined) v.budget.used--;
      }
    };
    pruneIn(this.last);
    for (const map of this.scopes.values()) pruneIn(map);
  }

  get size(): number {
    let n = this.last.size;
    for (const map of this.scopes.values()) n += map.size;
    return n;
  }

  toJSON(boot: string): RateState {
    const counters: Record<string, [number, number]> = {};
    for (const [k, v] of this.last) counters[k] = [v.value, v.at];
    for (const [prefix, map] of this.scopes) for (const [k, v] of map) counters[prefix + k] = [v.value, v.at];
    return { version: 1, boot, counters };
  }

  /** Restores saved baselines; returns false (and keeps nothing) when they are from another boot. */
  restore(state: unknown, boot: string): boolean {
    const s = state as Partial<RateState> | null;
    if (!s || s.version !== 1 || s.boot !== boot || typeof s.counters !== 'object' || s.counters === null) return false;
    for (const [k, v] of Object.entries(s.counters)) {
      if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'number') this.last.set(k, { value: v[0], at: v[1], budget: undefined });
    }
    return true;
  }
}

/** Identifies this boot (Linux); elsewhere the monotonic clock cannot be trusted across runs. */
export function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}
