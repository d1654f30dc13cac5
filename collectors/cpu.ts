// cpu: time spent per CPU state from /proc/stat, as Diamond's CPUCollector publishes it.
import { defineCollector, z } from '../src/plugin-api.js';
import { cpuFallback, SOURCES, useFallback } from './fallback/systeminformation.js';

/** The states /proc/stat lists, in its column order; older kernels show fewer. */
export const CPU_FIELDS = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal', 'guest', 'guest_nice'] as const;

export interface ProcStat {
  /** The aggregate `cpu` line: jiffies per state. */
  readonly total: readonly number[];
  /** `cpu0`, `cpu1`, ...: jiffies per state, in file order. */
  readonly cpus: ReadonlyMap<string, readonly number[]>;
}

/** Parses /proc/stat's cpu lines. Pure: a function of the text. */
export function parseProcStat(text: string): ProcStat {
  let total: number[] = [];
  const cpus = new Map<string, number[]>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('cpu')) continue;
    const parts = line.trim().split(/\s+/);
    const label = parts[0]!;
    const values = parts.slice(1, 1 + CPU_FIELDS.length).map(Number);
    if (values.some((v) => !Number.isFinite(v))) continue;
    if (label === 'cpu') total = values;
    else if (/^cpu\d+$/.test(label)) cpus.set(label, values);
  }
  if (total.length === 0) throw new Error('/proc/stat has no aggregate "cpu" line');
  return { total, cpus };
}

interface CpuState {
  /** The CPUs present last time, to tell when one appeared or went away. */
  lastSet: string;
  /** systeminformation calls so far (its first answer covers the time since boot). */
  fallbackCalls: number;
}

export default defineCollector({
  name: 'cpu',
  description: 'CPU time per state (user, system, iowait, ...) from /proc/stat, in percent of one CPU, total and per core.',
  schema: z.object({
    percore: z.boolean().default(true).describe('Also publish cpu<N>.<state> for every core.'),
    source: z.enum(SOURCES).default('auto').describe('auto: /proc where it exists, systeminformation elsewhere (macOS); or force one.'),
    normalize: z.boolean().default(false).describe('Divide the totals by the number of CPUs, so total.idle tops out at 100 instead of 100 x CPUs.'),
  }),
  init: (): CpuState => ({ lastSet: '', fallbackCalls: 0 }),
  async collect(ctx) {
    if (await useFallback(ctx, 'stat')) return cpuFallback(ctx, ctx.state.fallbackCalls++ === 0);
    const stat = parseProcStat(await ctx.proc.read('stat'));
    const nfields = Math.min(stat.total.length, CPU_FIELDS.length);
    const opts = { kind: 'rate', precision: 2 } as const;
    ctx.emit('cpu_count', stat.cpus.size, { precision: 0 });

    // Jiffies are 1/100 s (USER_HZ), so jiffies per second is percent of one CPU.
    const sums = new Array<number>(nfields).fill(0);
    const counted = new Array<number>(nfields).fill(0);
    for (const [label, values] of stat.cpus) {
      for (let f = 0; f < nfields && f < values.length; f++) {
        const r = ctx.derive(`${label}.${CPU_FIELDS[f]}`, values[f]!);
        if (r === undefined) continue;
        sums[f]! += r;
        counted[f]!++;
        if (ctx.config.percore) ctx.emit([label, CPU_FIELDS[f]!], r, opts);
      }
    }

    // When a CPU comes online, the aggregate line jumps by all the time it ever had; when one goes
    // offline, it falls. Then the total is the sum over the CPUs seen both times, not the aggregate.
    const set = [...stat.cpus.keys()].join(',');
    const changed = ctx.state.lastSet !== '' && ctx.state.lastSet !== set;
    ctx.state.lastSet = set;
    const n = stat.cpus.size > 0 ? stat.cpus.size : 1;
    for (let f = 0; f < nfields; f++) {
      const agg = ctx.derive(`total.${CPU_FIELDS[f]}`, stat.total[f]!);
      const r = changed ? (counted[f]! > 0 ? sums[f] : undefined) : agg;
      if (r === undefined) continue;
      ctx.emit(['total', CPU_FIELDS[f]!], ctx.config.normalize ? r / n : r, opts);
    }
  },
});
