// /proc/loadavg: `0.41 0.32 0.29 2/1234 56789`.

export interface LoadAvg {
  readonly load1: number;
  readonly load5: number;
  readonly load15: number;
  /** Runnable tasks now. */
  readonly running: number;
  /** Tasks that exist. */
  readonly total: number;
}

/** Parses /proc/loadavg; throws when a figure is missing or not a number. */
export function parseLoadavg(text: string): LoadAvg {
  const [a, b, c, procs] = text.trim().split(/\s+/);
  const [running, total] = (procs ?? '').split('/').map(Number);
  const out = { load1: Number(a), load5: Number(b), load15: Number(c), running: running ?? NaN, total: total ?? NaN };
  if (![out.load1, out.load5, out.load15, out.running, out.total].every(Number.isFinite)) {
    throw new Error(`cannot parse /proc/loadavg: ${JSON.stringify(text.slice(0, 80))}`);
  }
  return out;
}
