// vmstat: paging and swapping from /proc/vmstat, per second, as Diamond's VMStatCollector.
import { defineCollector, procfs, z } from '../src/plugin-api.js';

export const VMSTAT_FIELDS = ['pgfault', 'pgmajfault', 'pgpgin', 'pgpgout', 'pswpin', 'pswpout'] as const;

export default defineCollector({
  name: 'vmstat',
  description: 'Page faults, paging and swapping per second from /proc/vmstat.',
  schema: () => z.object({}),
  async collect(ctx) {
    const values = procfs.vmstatFields(await ctx.proc.read('vmstat'), VMSTAT_FIELDS);
    const p2 = { precision: 2 };
    for (let i = 0; i < VMSTAT_FIELDS.length; i++) {
      const v = values[i];
      if (v !== undefined) ctx.rate(VMSTAT_FIELDS[i]!, v, p2);
    }
  },
});
