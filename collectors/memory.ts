// memory: /proc/meminfo in bytes, with Diamond's leaf names.
import { defineCollector, procfs, SOURCES, z, type CollectorContext } from '../src/plugin-api.js';

/** The fields Diamond's MemoryCollector publishes, in its order. */
export const MEMORY_FIELDS = [
  'MemTotal', 'MemFree', 'MemAvailable', 'Buffers', 'Cached', 'Active', 'Dirty', 'Inactive', 'Shmem',
  'SwapTotal', 'SwapFree', 'SwapCached', 'VmallocTotal', 'VmallocUsed', 'VmallocChunk', 'Committed_AS',
] as const;

/** Without /proc: the fields systeminformation knows, under the same names. */
async function collectFallback(ctx: CollectorContext<unknown, unknown>): Promise<void> {
  const m = await (await ctx.fallback.systeminformation()).mem();
  const p0 = { precision: 0 };
  ctx.emit('MemTotal', m.total, p0);
  ctx.emit('MemFree', m.free, p0);
  ctx.emit('MemAvailable', m.available, p0);
  ctx.emit('Buffers', m.buffers, p0);
  ctx.emit('Cached', m.cached, p0);
  ctx.emit('Active', m.active, p0);
  ctx.emit('SwapTotal', m.swaptotal, p0);
  ctx.emit('SwapFree', m.swapfree, p0);
  if (m.total > 0) ctx.emit('MemUsedPercentage', (100 * (m.total - m.available)) / m.total, { precision: 2 });
}

function publish(ctx: CollectorContext<{ readonly detailed: boolean }, unknown>, info: ReadonlyMap<string, number>): void {
  const names: readonly string[] = ctx.config.detailed ? [...info.keys()] : MEMORY_FIELDS;
  for (const name of names) {
    const v = info.get(name);
    if (v !== undefined) ctx.emit([name], v, { precision: 0 });
  }
  const total = info.get('MemTotal');
  const avail = info.get('MemAvailable');
  if (total !== undefined && avail !== undefined && total > 0) {
    ctx.emit('MemUsedPercentage', (100 * (total - avail)) / total, { precision: 2 });
  }
}

export default defineCollector({
  name: 'memory',
  description: 'Memory and swap from /proc/meminfo in bytes, plus MemUsedPercentage.',
  schema: () => z.object({
    source: z.enum(SOURCES).default('auto').describe('auto: /proc where it exists, systeminformation elsewhere (macOS); or force one.'),
    detailed: z.boolean().default(false).describe('Publish every /proc/meminfo field, not only Diamond\'s list.'),
  }),
  async collect(ctx) {
    if (await ctx.fallback.use(ctx.config.source, 'meminfo')) return collectFallback(ctx);
    publish(ctx, procfs.parseMeminfo(await ctx.proc.read('meminfo')));
  },
});
