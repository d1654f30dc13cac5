// cpu: time spent per CPU state from /proc/stat, as Diamond's CPUCollector publishes it.
import { defineCollector, procfs, SOURCES, z, type CollectorContext } from '../src/plugin-api.js';

const { CPU_FIELDS } = procfs;

interface CpuConfig {
  readonly percore: boolean;
  readonly normalize: boolean;
}

interface CpuState {
  /** The CPUs present last time, to tell when one appeared or went away. */
  lastSet: string;
  /** systeminformation calls so far (its first answer covers the time since boot). */
  fallbackCalls: number;
}

/** Without /proc: percent of one CPU per state since the previous call (systeminformation keeps that state). */
async function collectFallback(ctx: CollectorContext<CpuConfig, unknown>, first: boolean): Promise<void> {
  const load = await (await ctx.fallback.systeminformation()).currentLoad();
  ctx.emit('cpu_count', load.cpus.length, { precision: 0 });
  if (first) return; // the first call measures since boot, not over an interval
  const states = [['user', 'loadUser'], ['nice', 'loadNice'], ['system', 'loadSystem'], ['idle', 'loadIdle'], ['irq', 'loadIrq'], ['steal', 'loadSteal']] as const;
  const opts = { kind: 'rate', precision: 2 } as const;
  for (const [leaf, field] of states) {
    let total = 0;
    load.cpus.forEach((c, i) => {
      total += c[field];
      if (ctx.config.percore) ctx.emit([`cpu${i}`, leaf], c[field], opts);
    });
    ctx.emit(['total', leaf], ctx.config.normalize && load.cpus.length > 0 ? total / load.cpus.length : total, opts);
  }
}

/** Jiffies are 1/100 s (USER_HZ), so jiffies per second is percent of one CPU. */
function publish(ctx: CollectorContext<CpuConfig, CpuState>, stat: procfs.ProcStat): void {
  const nfields = Math.min(stat.total.length, CPU_FIELDS.length);
  const opts = { kind: 'rate', precision: 2 } as const;
  ctx.emit('cpu_count', stat.cpus.size, { precision: 0 });

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
}

export default defineCollector({
  name: 'cpu',
  description: 'CPU time per state (user, system, iowait, ...) from /proc/stat, in percent of one CPU, total and per core.',
  schema: () => z.object({
    percore: z.boolean().default(true).describe('Also publish cpu<N>.<state> for every core.'),
    source: z.enum(SOURCES).default('auto').describe('auto: /proc where it exists, systeminformation elsewhere (macOS); or force one.'),
    normalize: z.boolean().default(false).describe('Divide the totals by the number of CPUs, so total.idle tops out at 100 instead of 100 x CPUs.'),
  }),
  init: (): CpuState => ({ lastSet: '', fallbackCalls: 0 }),
  async collect(ctx) {
    if (await ctx.fallback.use(ctx.config.source, 'stat')) return collectFallback(ctx, ctx.state.fallbackCalls++ === 0);
    const stat = procfs.parseStat(await ctx.proc.read('stat'));
    if (stat.total.length === 0) throw new Error('/proc/stat has no aggregate "cpu" line');
    publish(ctx, stat);
  },
});
