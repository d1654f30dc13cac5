// Byte sizes (`64MiB`, `1GiB`, `500KB`) as written in config.

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
