// vmstat: paging and swapping from /proc/vmstat, per second, as Diamond's VMStatCollector.
import { defineCollector, z } from '../src/plugin-api.js';

export const VMSTAT_FIELDS = ['pgfault', 'pgmajfault', 'pgpgin', 'pgpgout', 'pswpin', 'pswpout'] as const;

/**
 * The values of `fields` in /proc/vmstat's text, found by search instead of parsing the ~190
 * other lines; undefined for a field that is missing or not a number.
 */
export function vmstatFields(text: string, fields: readonly string[]): (number | undefined)[] {
  return fields.map((f) => {
    let at = text.startsWith(`${f} `) ? 0 : text.indexOf(`\n${f} `);
    if (at < 0) return undefined;
    if (at > 0) at++;
    const from = at + f.length + 1;
    const nl = text.indexOf('\n', from);
    const v = Number(text.slice(from, nl < 0 ? text.length : nl));
    return Number.isFinite(v) ? v : undefined;
  });
}

export default defineCollector({
  name: 'vmstat',
  description: 'Page faults, paging and swapping per second from /proc/vmstat.',
  schema: z.object({}),
  async collect(ctx) {
    const values = vmstatFields(await ctx.proc.read('vmstat'), VMSTAT_FIELDS);
    const p2 = { precision: 2 };
    for (let i = 0; i < VMSTAT_FIELDS.length; i++) {
      const v = values[i];
      if (v !== undefined) ctx.rate(VMSTAT_FIELDS[i]!, v, p2);
    }
  },
});
