// /proc/net/dev: `  eth0: 1234 5 0 0 0 0 0 0  5678 6 0 0 0 0 0 0`, below two header lines.

export interface InterfaceCounters {
  /** Receive: bytes, packets, errs, drop, fifo, frame, compressed, multicast. */
  readonly rx: readonly number[];
  /** Transmit: bytes, packets, errs, drop, fifo, colls, carrier, compressed. */
  readonly tx: readonly number[];
}

/** Parses /proc/net/dev into counters per interface name, in file order. */
export function parseNetDev(text: string): Map<string, InterfaceCounters> {
  const out = new Map<string, InterfaceCounters>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0 || line.includes('|')) continue;
    const name = line.slice(0, colon).trim();
    const v = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (v.length < 16 || v.some((n) => !Number.isFinite(n))) continue;
    out.set(name, { rx: v.slice(0, 8), tx: v.slice(8, 16) });
  }
  return out;
}
