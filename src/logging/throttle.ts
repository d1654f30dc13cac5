// Keeps a repeating error from flooding the log: the first one is logged, then at most one line
// per window saying how many were held back.

export interface ThrottleDecision {
  readonly log: boolean;
  /** How many of the same were held back since the last logged one. */
  readonly suppressed: number;
}

export interface ThrottleOptions {
  /** Keys remembered at most; past it the oldest are forgotten (keys can come from plugin messages). */
  readonly maxKeys?: number;
}

export class LogThrottle {
  private readonly seen = new Map<string, { lastLogged: number; suppressed: number }>();
  private readonly maxKeys: number;

  constructor(
    private readonly windowMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
    opts: ThrottleOptions = {},
  ) {
    this.maxKeys = opts.maxKeys ?? 10_000;
  }

  check(key: string): ThrottleDecision {
    const t = this.now();
    const s = this.seen.get(key);
    if (s === undefined || t - s.lastLogged >= this.windowMs) {
      const suppressed = s?.suppressed ?? 0;
      if (s === undefined) {
        // Insertion order is age order: the first key is the one logged longest ago.
        if (this.seen.size >= this.maxKeys) this.seen.delete(this.seen.keys().next().value!);
        this.seen.set(key, { lastLogged: t, suppressed: 0 });
      } else {
        this.seen.delete(key);
        this.seen.set(key, { lastLogged: t, suppressed: 0 });
      }
      return { log: true, suppressed };
    }
    s.suppressed++;
    return { log: false, suppressed: s.suppressed };
  }

  /** Forget a key, so the next occurrence (after recovery) is logged at once. */
  clear(key: string): void {
    this.seen.delete(key);
  }
}
