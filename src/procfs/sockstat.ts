// /proc/net/sockstat and sockstat6: `TCP: inuse 5 orphan 0 tw 2`, one protocol a line.

/** Parses sockstat or sockstat6: `TCP: inuse 5 orphan 0 tw 2` -> { 'TCP.inuse': 5, 'TCP.orphan': 0, 'TCP.tw': 2 }. */
export function parseSockstat(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const proto = line.slice(0, colon);
    const parts = line.slice(colon + 1).trim().split(/\s+/);
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const v = Number(parts[i + 1]);
      if (Number.isFinite(v)) out.set(`${proto}.${parts[i]}`, v);
    }
  }
  return out;
}
