// One full garbage collection once start-up (or a reload) has settled. Loading the config, building
// its schemas, compiling the plugins and each collector's first run (MySQL connections, first
// results) allocate several MB that die within seconds; V8's scavenger promotes much of it to the
// old generation, where it stays until the old generation reaches its first limit. The agent's
// peak RSS is reached then, a few seconds after start, ~2 MB above where it runs afterwards (10
// MySQL instances: 65 MB at start against 59-63 MB later). One full collection when the first
// runs are over removes it while it is still small. It costs a few ms, once per start or reload.
import v8 from 'node:v8';
import vm from 'node:vm';

/** V8's full collection: `gc` when node was started with --expose-gc, else one made for this call. */
function gcFunction(): (() => void) | undefined {
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') return own as () => void;
  // --expose-gc at run time puts gc() only into contexts created afterwards: one is made for it,
  // then the flag is turned off again (nothing else in sonde creates contexts). The context is
  // garbage as soon as this call returns.
  v8.setFlagsFromString('--expose-gc');
  try {
    const made = vm.runInNewContext('gc') as unknown;
    return typeof made === 'function' ? (made as () => void) : undefined;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}

/** Runs one full garbage collection; false when this node offers none (nothing else happens then). */
export function collectGarbage(): boolean {
  let gc: (() => void) | undefined;
  try {
    gc = gcFunction();
  } catch {
    return false;
  }
  if (gc === undefined) return false;
  gc();
  return true;
}

/**
 * Calls `settle` once every key it was told to wait for has reported its first run, in the
 * next turn of the event loop (after the run's samples were routed), or `maxWaitMs` after the
 * round began when a collector's first window is further away than that (an hourly one).
 * `expect` starts a new round (start-up, a reload); a round with no keys settles at once.
 */
export class SettleAfterFirstRuns {
  private pending = new Set<string>();
  private armed = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly settle: () => void,
    private readonly maxWaitMs = 60_000,
  ) {}

  expect(keys: Iterable<string>): void {
    this.pending = new Set(keys);
    this.armed = true;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.pending.clear();
      this.check();
    }, this.maxWaitMs);
    this.timer.unref();
    this.check();
  }

  /** A run of `key` has returned (or was abandoned at its timeout). */
  ran(key: string): void {
    if (!this.armed || !this.pending.delete(key)) return;
    this.check();
  }

  /** Nothing more is awaited (the agent stops). */
  cancel(): void {
    this.armed = false;
    this.pending.clear();
    clearTimeout(this.timer);
  }

  private check(): void {
    if (!this.armed || this.pending.size > 0) return;
    this.armed = false;
    clearTimeout(this.timer);
    setImmediate(() => this.settle()).unref();
  }
}
