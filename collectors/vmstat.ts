// vmstat: paging and swapping from /proc/vmstat, per second, as Diamond's VMStatCollector.
import { defineCollector, z } from '../src/plugin-api.js';

export const VMSTAT_FIELDS = ['pgfault', 'pgmajfault', 'pgpgin', 'pgpgout', 'pswpin', 'pswpout'] as const;

/** Parses `name value` lines. */
export function parseVmstat(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp <= 0) continue;
    const v = Number(line.slice(sp + 1));
    if (Number.isFinite(v)) out.set(line.slice(0, sp), v);
  }
  return out;
}

export default defineCollector({
  name: 'vmstat',
  description: 'Page faults, paging and swapping per second from /proc/vmstat.',
  schema: z.object({}),
  async collect(ctx) {
    const stats = parseVmstat(await ctx.proc.read('vmstat'));
    for (const f of VMSTAT_FIELDS) {
      const v = stats.get(f);
      if (v !== undefined) ctx.rate(f, v, { precision: 2 });
    }
  },
});
