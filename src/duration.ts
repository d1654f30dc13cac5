// Durations (`500ms`, `10s`, `5m`, `1h`, `7d`) and byte sizes (`64MiB`, `1GiB`) as written in config.

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

const BYTES = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB|k|K|M|G|T)?\s*$/;
const BYTE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12,
  k: 1024, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4,
  KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4,
};

/** Parses a byte size; a bare number is bytes. */
export function parseBytes(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? Math.floor(input) : undefined;
  const m = BYTES.exec(input);
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * BYTE_UNITS[m[2] ?? 'B']!);
}
