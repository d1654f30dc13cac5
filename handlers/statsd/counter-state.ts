// The last total this handler sent for each counter, so that it sends StatsD the growth since
// then: nothing the first time a name is seen (never the whole total), nothing when the counter
// went down (a reset). A send's new totals count only once the send succeeded, so a batch that is
// sent again computes the same growth. Kept in the state directory (written atomically, read at
// start) so a restart is no spike; totals from another boot are dropped, as the kernel's counters
// started again. Bounded: a name not sent for `ttlMs` is forgotten, and past `maxNames` the least
// recently sent are.
import { readFileSync } from 'node:fs';
import { readStateFile, writeStateFile, writeStateFileSync } from './state-file.js';

export interface CounterEntry {
  /** The total last sent (or first seen) for this name; NaN until one was. */
  base: number;
  /** The total the send in progress leaves as `base`, while `epoch` is that send's. */
  next: number;
  epoch: number;
  /** Date.now() of the last send that carried the name. */
  at: number;
  /** Set once the entry was forgotten: whoever still holds it must look the name up again. */
  gone: boolean;
}

/** The state file: `counters` maps each StatsD name to its last sent total and when it was sent. */
interface SavedState {
  readonly version: 1;
  readonly boot: string | null;
  readonly counters: Record<string, [total: number, atMs: number]>;
}

export const STATE_FILE = 'counters.json';

/** Identifies this boot (Linux), so totals from before a reboot are not taken as baselines. */
export function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

export class CounterState {
  private readonly map = new Map<string, CounterEntry>();
  private epoch = 0;
  private readonly touched: CounterEntry[] = [];
  /** Totals changed since the last save. */
  dirty = false;

  constructor(private readonly boot: string | null = bootId()) {}

  get size(): number {
    return this.map.size;
  }

  /** Starts a send: totals recorded from now on are pending until `commit`. */
  begin(): void {
    this.epoch++;
    this.touched.length = 0;
  }

  /** The entry of a StatsD name, made (with no total yet) when there is none. */
  entry(name: string, now: number): CounterEntry {
    let e = this.map.get(name);
    if (e === undefined) this.map.set(name, (e = { base: NaN, next: NaN, epoch: 0, at: now, gone: false }));
    return e;
  }

  /**
   * The growth to send for a counter now at `total`: undefined the first time (no total yet) and
   * when it went down. `total` is pending as the new last-sent total until `commit`.
   */
  growth(e: CounterEntry, total: number): number | undefined {
    let base: number;
    if (e.epoch === this.epoch) base = e.next;
    else {
      base = e.base;
      e.epoch = this.epoch;
      this.touched.push(e);
    }
    e.next = total;
    // NaN (no total yet) compares false too.
    return total >= base ? total - base : undefined;
  }

  /** The send succeeded: its totals are the last sent ones. */
  commit(now: number): void {
    const t = this.touched;
    for (let i = 0; i < t.length; i++) {
      const e = t[i]!;
      e.base = e.next;
      e.at = now;
    }
    if (t.length > 0) this.dirty = true;
    t.length = 0;
  }

  /**
   * Forgets names not sent since `now - ttlMs`, then the least recently sent past `maxNames`.
   * Returns how many were forgotten for the bound alone (the operator should hear of those).
   */
  sweep(now: number, ttlMs: number, maxNames: number): number {
    const before = now - ttlMs;
    for (const [k, e] of this.map) {
      if (e.at < before) this.forget(k, e);
    }
    if (this.map.size <= maxNames) return 0;
    // Least recently sent first; of those sent together, the newest names (last in the map's
    // insertion order) first, so a long-lived name outlives a wave of new ones.
    const byAge = [...this.map].reverse().sort((a, b) => a[1].at - b[1].at);
    const drop = this.map.size - Math.floor(maxNames * 0.9);
    for (let i = 0; i < drop; i++) this.forget(byAge[i]![0], byAge[i]![1]);
    return drop;
  }

  private forget(name: string, e: CounterEntry): void {
    e.gone = true;
    this.map.delete(name);
    this.dirty = true;
  }

  toJSON(): SavedState {
    const counters: Record<string, [number, number]> = {};
    for (const [k, e] of this.map) if (Number.isFinite(e.base)) counters[k] = [e.base, e.at];
    return { version: 1, boot: this.boot, counters };
  }

  /**
   * Reads a saved state. Returns what became of it: `loaded` (with the count of totals),
   * `other-boot` (dropped: the host restarted since), `missing`; throws when it cannot be read.
   */
  load(file: string, now: number, ttlMs: number): { result: 'loaded'; totals: number } | { result: 'other-boot' | 'missing' } {
    let text: string;
    try {
      text = readStateFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { result: 'missing' };
      throw err;
    }
    const s = JSON.parse(text) as Partial<SavedState> | null;
    if (s === null || typeof s !== 'object' || s.version !== 1 || typeof s.counters !== 'object' || s.counters === null) {
      throw new Error('it is not a statsd counter state (version 1)');
    }
    if (this.boot !== null && s.boot !== this.boot) return { result: 'other-boot' };
    let totals = 0;
    for (const [k, v] of Object.entries(s.counters)) {
      if (!Array.isArray(v) || typeof v[0] !== 'number' || !Number.isFinite(v[0]) || typeof v[1] !== 'number' || v[1] < now - ttlMs) continue;
      this.map.set(k, { base: v[0], next: NaN, epoch: 0, at: v[1], gone: false });
      totals++;
    }
    return { result: 'loaded', totals };
  }

  /** Writes the state to `file` atomically (a temporary file, synced, renamed), blocking: for close. */
  saveSync(file: string): void {
    const data = JSON.stringify(this.toJSON());
    this.dirty = false;
    writeStateFileSync(file, data);
  }

  /** The same without blocking the agent's thread: for the saves after sends. */
  async save(file: string): Promise<void> {
    const data = JSON.stringify(this.toJSON());
    this.dirty = false;
    await writeStateFile(file, data);
  }
}
