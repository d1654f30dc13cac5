// sockets: socket counts from /proc/net/sockstat and sockstat6 (IPv4 and IPv6 summed), as Diamond's
// SockstatCollector.
import { defineCollector, procfs, z } from '../src/plugin-api.js';

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
  schema: () => z.object({}),
  async collect(ctx) {
    const v4 = procfs.parseSockstat(await ctx.proc.read('net/sockstat'));
    // A kernel without IPv6 has no sockstat6: the IPv4 figures are then the whole story.
    const v6 = await ctx.proc.read('net/sockstat6').then(procfs.parseSockstat, () => new Map<string, number>());
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
