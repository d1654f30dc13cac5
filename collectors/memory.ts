// memory: /proc/meminfo in bytes, with Diamond's leaf names.
import { defineCollector, z } from '../src/plugin-api.js';
import { memoryFallback, SOURCES, useFallback } from './fallback/systeminformation.js';

/** The fields Diamond's MemoryCollector publishes, in its order. */
export const MEMORY_FIELDS = [
  'MemTotal', 'MemFree', 'MemAvailable', 'Buffers', 'Cached', 'Active', 'Dirty', 'Inactive', 'Shmem',
  'SwapTotal', 'SwapFree', 'SwapCached', 'VmallocTotal', 'VmallocUsed', 'VmallocChunk', 'Committed_AS',
] as const;

/** Parses /proc/meminfo into bytes per field (lines in kB are multiplied by 1024). */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const rest = line.slice(colon + 1).trim().split(/\s+/);
    const n = Number(rest[0]);
    if (!Number.isFinite(n)) continue;
    out.set(line.slice(0, colon), rest[1] === 'kB' ? n * 1024 : n);
  }
  return out;
}

export default defineCollector({
  name: 'memory',
  description: 'Memory and swap from /proc/meminfo in bytes, plus MemUsedPercentage.',
  schema: z.object({
    source: z.enum(SOURCES).default('auto').describe('auto: /proc where it exists, systeminformation elsewhere (macOS); or force one.'),
    detailed: z.boolean().default(false).describe('Publish every /proc/meminfo field, not only Diamond\'s list.'),
  }),
  async collect(ctx) {
    if (await useFallback(ctx, 'meminfo')) return memoryFallback(ctx);
    const info = parseMeminfo(await ctx.proc.read('meminfo'));
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
  },
});
