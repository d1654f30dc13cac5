// Durations (`500ms`, `10s`, `5m`, `1h`, `7d`) as written in config.

/** Milliseconds. */
export type Duration = number;

const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/;
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration. A bare number means seconds (as Diamond's `interval: 10`).
 * Returns undefined for anything else, so callers can name the key in their message.
 */
export function parseDuration(input: string | number): Duration | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? input * 1000 : undefined;
  const m = DURATION.exec(input);
  if (!m) return undefined;
  const n = Number(m[1]);
  return Math.round(n * DURATION_UNITS[m[2] ?? 's']!);
}

export function formatDuration(ms: Duration): string {
  if (ms % 86_400_000 === 0 && ms > 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
