// Figures from any log with no code: patterns with named captures, configured in YAML.
import { closest, defineParser, mean, percentile, pyFloat, regex, sortNumbers, z, type ParsedMetric } from '../src/plugin-api.js';

/** One entry of `patterns`: built with the parser's schema, when a config uses the parser. */
function patternSchema() {
  const valueRef = z.strictObject({
    name: z.string().min(1).describe('Metric name; `{capture}` is replaced by that capture'),
    value: z.string().min(1).describe('The named capture holding the number'),
  });

  return z.strictObject({
    match: regex().describe('A JavaScript regular expression with named captures, e.g. `status=(?<status>\\d{3}) time=(?<ms>\\d+)`'),
    contains: z.string().min(1).optional().describe('Text every matching line contains; lines without it are skipped before the regex runs (speed)'),
    counter: z.string().min(1).optional().describe('Counts matching lines per interval under this name (`{capture}` allowed)'),
    sum: valueRef.optional().describe('Sums a capture per interval'),
    gauge: valueRef.optional().describe('Reports the last value of a capture'),
    timer: valueRef
      .extend({ percentiles: z.array(z.number().min(0).max(100)).default([50, 90, 99]).describe('Percentiles to report') })
      .optional()
      .describe('Summarises a capture per interval: count, min, max, mean, median and percentiles (`<name>.90th_percentile`)'),
  }).superRefine((p, ctx) => {
    // A name's `{capture}` or a value that the pattern does not capture would be written as
    // "unknown" (or never seen) at run time: refuse it when the config is loaded.
    const have = captureNames(p.match);
    if (have === undefined) return; // not a valid regex: match's own check says so
    const list = have.length > 0 ? `its captures: ${have.join(', ')}` : 'it has no named captures such as (?<status>\\d+)';
    const missing = (name: string, what: string, path: (string | number)[], unfilled: string) => {
      const near = closest(name, have);
      ctx.addIssue({ code: 'custom', path, message: `${what}, which match does not have${near ? `; did you mean "${near}"?` : ''} (${list}). ${unfilled}` });
    };
    const template = (t: string | undefined, path: (string | number)[]) => {
      if (t === undefined) return;
      for (const m of t.matchAll(PLACEHOLDER)) {
        const name = m[1]!;
        if (!have.includes(name)) missing(name, `${JSON.stringify(t)} names the capture "${name}"`, path, `At run time it would be sent as ${JSON.stringify(fill(t, Object.fromEntries(have.map((n) => [n, `{${n}}`]))))}`);
      }
    };
    template(p.counter, ['counter']);
    for (const key of ['sum', 'gauge', 'timer'] as const) {
      const ref = p[key];
      if (ref === undefined) continue;
      template(ref.name, [key, 'name']);
      if (!have.includes(ref.value)) missing(ref.value, `names the capture "${ref.value}"`, [key, 'value'], `The ${key} would never get a figure`);
    }
  });
}

/** The named captures of a regular expression's source, or undefined when it is not one. */
function captureNames(source: string): string[] | undefined {
  try {
    // The empty alternative matches '', and exec's groups then lists every named capture.
    return Object.keys(new RegExp(`(?:${source})|`).exec('')?.groups ?? {});
  } catch {
    return undefined;
  }
}

const PLACEHOLDER = /\{(\w+)\}/g;

/** Fills `{capture}` in a name; a capture's dots become `_` so a value never adds path segments. */
function fill(template: string, groups: Record<string, string | undefined> | undefined): string {
  if (!template.includes('{')) return template;
  return template.replace(PLACEHOLDER, (_, k: string) => (groups?.[k] ?? 'unknown').replaceAll('.', '_') || 'empty');
}

export default defineParser({
  name: 'regex',
  aliases: [],
  description: 'Any log, configured without code: each pattern\'s named captures become counters, sums, gauges or timer summaries',
  schema: () => z.strictObject({
    patterns: z.array(patternSchema()).min(1).describe('Patterns tried on every line; every pattern that matches counts'),
  }),
  create(options) {
    const patterns = options.patterns.map((p) => ({ ...p, re: new RegExp(p.match) }));
    const counters = new Map<string, number>();
    const sums = new Map<string, number>();
    const gauges = new Map<string, number>();
    const timers = new Map<string, { values: number[]; pcts: readonly number[] }>();
    const num = (groups: Record<string, string | undefined> | undefined, key: string) => {
      const raw = groups?.[key];
      return raw === undefined ? undefined : pyFloat(raw);
    };
    const needles = patterns.every((p) => p.contains !== undefined) ? patterns.map((p) => p.contains!) : undefined;
    return {
      needles,
      parseLine(line: string) {
        for (const p of patterns) {
          if (p.contains !== undefined && !line.includes(p.contains)) continue;
          const m = p.re.exec(line);
          if (m === null) continue;
          const g = m.groups;
          if (p.counter !== undefined) {
            const k = fill(p.counter, g);
            counters.set(k, (counters.get(k) ?? 0) + 1);
          }
          if (p.sum !== undefined) {
            const v = num(g, p.sum.value);
            if (v !== undefined) {
              const k = fill(p.sum.name, g);
              sums.set(k, (sums.get(k) ?? 0) + v);
            }
          }
          if (p.gauge !== undefined) {
            const v = num(g, p.gauge.value);
            if (v !== undefined) gauges.set(fill(p.gauge.name, g), v);
          }
          if (p.timer !== undefined) {
            const v = num(g, p.timer.value);
            if (v !== undefined) {
              const k = fill(p.timer.name, g);
              let t = timers.get(k);
              if (t === undefined) timers.set(k, (t = { values: [], pcts: p.timer.percentiles }));
              t.values.push(v);
            }
          }
        }
      },
      report(): ParsedMetric[] {
        const out: ParsedMetric[] = [];
        for (const [name, n] of counters) out.push({ name, value: n });
        for (const [name, v] of sums) out.push({ name, value: v, float: !Number.isInteger(v) });
        for (const [name, v] of gauges) out.push({ name, value: v, float: !Number.isInteger(v) });
        for (const [name, { values, pcts }] of timers) {
          const avg = mean(values)!;
          const sorted = sortNumbers(values);
          out.push({ name: `${name}.count`, value: sorted.length });
          out.push({ name: `${name}.min`, value: sorted[0]!, float: true });
          out.push({ name: `${name}.max`, value: sorted[sorted.length - 1]!, float: true });
          out.push({ name: `${name}.mean`, value: avg, float: true });
          out.push({ name: `${name}.median`, value: percentile(sorted, 50)!, float: true });
          for (const p of pcts) out.push({ name: `${name}.${p}th_percentile`, value: percentile(sorted, p)!, float: true });
        }
        // Counters of names seen before report 0 when quiet, so a graph shows a zero, not a gap.
        for (const k of counters.keys()) counters.set(k, 0);
        sums.clear();
        timers.clear();
        return out;
      },
    };
  },
});
