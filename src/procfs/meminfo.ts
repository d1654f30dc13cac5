// /proc/meminfo: `MemTotal:       16000000 kB`, one field a line.

/** Parses /proc/meminfo into bytes per field, in file order (values in kB are multiplied by 1024). */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const rest = line.slice(colon + 1).trim().split(/\s+/);
    const n = Number(rest[0]);
    if (!Number.isFinite(n)) continue;
    out.set(line.slice(0, colon), rest[1] === 'kB' ? n * 1024 : n);
  }
  return out;
}
