// /proc/diskstats: `   8       0 sda 1000 100 80000 ...`, one block device a line.

/** The counters of one device, in /proc/diskstats column order (after major, minor, name). */
export interface DiskCounters {
  readonly reads: number;
  readonly reads_merged: number;
  readonly reads_sectors: number;
  readonly reads_milliseconds: number;
  readonly writes: number;
  readonly writes_merged: number;
  readonly writes_sectors: number;
  readonly writes_milliseconds: number;
  readonly io_in_progress: number;
  readonly io_milliseconds: number;
  readonly io_milliseconds_weighted: number;
}

/** The keys of DiskCounters, in column order. */
export const DISK_COUNTERS = [
  'reads', 'reads_merged', 'reads_sectors', 'reads_milliseconds',
  'writes', 'writes_merged', 'writes_sectors', 'writes_milliseconds',
  'io_in_progress', 'io_milliseconds', 'io_milliseconds_weighted',
] as const satisfies readonly (keyof DiskCounters)[];

/**
 * Parses /proc/diskstats into counters per device name. Columns after the eleventh (discards,
 * flushes on newer kernels) are ignored; a line with fewer, or one that is not a number, is left out.
 */
export function parseDiskstats(text: string): Map<string, DiskCounters> {
  const out = new Map<string, DiskCounters>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 14) continue;
    const values = f.slice(3, 14).map(Number);
    if (values.some((v) => !Number.isFinite(v))) continue;
    const c = {} as Record<(typeof DISK_COUNTERS)[number], number>;
    DISK_COUNTERS.forEach((k, i) => (c[k] = values[i]!));
    out.set(f[2]!, c);
  }
  return out;
}
