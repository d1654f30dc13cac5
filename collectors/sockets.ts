// sockets: socket counts from /proc/net/sockstat and sockstat6 (IPv4 and IPv6 summed), as Diamond's
// SockstatCollector.
import { defineCollector, z } from '../src/plugin-api.js';

/** `TCP: inuse 5 orphan 0 tw 2` -> { 'TCP.inuse': 5, 'TCP.orphan': 0, 'TCP.tw': 2 }. */
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

/** Leaf name -> the sockstat fields summed into it (sockstat6 fields when IPv6 is present). */
const LEAVES: Record<string, readonly string[]> = {
  used: ['sockets.used'],
  tcp_inuse: ['TCP.inuse', 'TCP6.inuse'],
  tcp_orphan: ['TCP.orphan'],
  tcp_tw: ['TCP.tw'],
  tcp_alloc: ['TCP.alloc'],
  tcp_mem: ['TCP.mem'],
  udp_inuse: ['UDP.inuse', 'UDP6.inuse'],
  udp_mem: ['UDP.mem'],
};

export default defineCollector({
  name: 'sockets',
  description: 'Sockets in use, TCP states and socket memory from /proc/net/sockstat and sockstat6.',
  schema: z.object({}),
  async collect(ctx) {
    const v4 = parseSockstat(await ctx.proc.read('net/sockstat'));
    // A kernel without IPv6 has no sockstat6: the IPv4 figures are then the whole story.
    const v6 = await ctx.proc.read('net/sockstat6').then(parseSockstat, () => new Map<string, number>());
    for (const [leaf, fields] of Object.entries(LEAVES)) {
      let sum = 0;
      let seen = false;
      for (const f of fields) {
        const v = v4.get(f) ?? v6.get(f);
        if (v !== undefined) {
          sum += v;
          seen = true;
        }
      }
      if (seen) ctx.emit(leaf, sum, { precision: 0 });
    }
  },
});
