// METRIC_COUNT / METRIC_TIME lines: Logster's MetricLogster.
import { defineParser, mean, percentile, pyFloat, sortNumbers, z, type ParsedMetric } from '../src/plugin-api.js';

// Logster's patterns. Its lines still end in "\n", which satisfies the `[^0-9.]` after a count's
// value at the end of a line; here lines come without it, so the end of the line does the same.
const COUNT = /^.*METRIC_COUNT\smetric=(\S+)\s+value=([0-9.]+)(?:[^0-9.]|$)/;
const TIME = /^.*METRIC_TIME\smetric=(\S+)\s+value=([0-9.]+)\s*([^\s$]*)/;

export default defineParser({
  name: 'metric',
  aliases: ['MetricLogster'],
  description:
    'Application metric lines: `METRIC_COUNT metric=<name> value=<n>` as a per-second rate of the sum, `METRIC_TIME metric=<name> value=<n><unit>` as mean, median and percentiles (Logster\'s MetricLogster)',
  schema: () => z.strictObject({
    percentiles: z
      .string()
      .regex(/^\d+(,\d+)*$/, 'expected comma-separated whole numbers such as 90 or 50,90,99')
      .default('90')
      .describe('Comma-separated percentiles reported for each timer (`-p`/`--percentiles`)'),
  }),
  flags: [{ long: '--percentiles', short: '-p', key: 'percentiles' }],
  create(options) {
    const pcts = options.percentiles.split(',');
    const counts = new Map<string, number>();
    const times = new Map<string, { unit: string; values: number[] }>();
    return {
      needles: ['METRIC_'],
      parseLine(line: string) {
        const c = COUNT.exec(line);
        if (c !== null) {
          const v = pyFloat(c[2]!);
          if (v !== undefined) counts.set(c[1]!, (counts.get(c[1]!) ?? 0) + v);
        }
        const t = TIME.exec(line);
        if (t !== null) {
          const v = pyFloat(t[2]!);
          if (v === undefined) return;
          let entry = times.get(t[1]!);
          if (entry === undefined) times.set(t[1]!, (entry = { unit: t[3]!, values: [] }));
          entry.values.push(v);
        }
      },
      report(duration: number): ParsedMetric[] {
        const out: ParsedMetric[] = [];
        // Logster leaves the counts out when the duration is 0 (a run in the same second as the last),
        // and they are lost: sonde divides by 1 s instead, as the other rate parsers do.
        const d = duration > 0 ? duration : 1;
        for (const [name, sum] of counts) out.push({ name, value: sum / d, float: true });
        for (const [name, { unit, values }] of times) {
          // Logster sums for the mean in arrival order, then sorts for the percentiles.
          out.push({ name: `${name}.mean`, value: mean(values)!, float: true, units: unit });
          const sorted = sortNumbers(values);
          out.push({ name: `${name}.median`, value: percentile(sorted, 50)!, float: true, units: unit });
          for (const p of pcts) out.push({ name: `${name}.${p}th_percentile`, value: percentile(sorted, Number(p))!, float: true, units: unit });
        }
        counts.clear();
        times.clear();
        return out;
      },
    };
  },
});
