// loadavg: /proc/loadavg, with Diamond's leaf names.
import os from 'node:os';
import { defineCollector, procfs, SOURCES, z, type CollectorContext } from '../src/plugin-api.js';

const p2 = { precision: 2 };

/** Load averages and, when the CPUs were counted, the same per CPU. */
function publishLoad(ctx: CollectorContext<unknown, unknown>, l1: number, l5: number, l15: number, cpus: number): void {
  ctx.emit('01', l1, p2);
  ctx.emit('05', l5, p2);
  ctx.emit('15', l15, p2);
  if (cpus > 0) {
    ctx.emit('01_normalized', l1 / cpus, p2);
    ctx.emit('05_normalized', l5 / cpus, p2);
    ctx.emit('15_normalized', l15 / cpus, p2);
  }
}

export default defineCollector({
  name: 'loadavg',
  description: 'Load averages (1, 5, 15 minutes), normalised by CPU count, and process counts from /proc/loadavg.',
  schema: () => z.object({
    source: z.enum(SOURCES).default('auto').describe('auto: /proc where it exists, systeminformation elsewhere (macOS); or force one.'),
  }),
  async collect(ctx) {
    if (await ctx.fallback.use(ctx.config.source, 'loadavg')) {
      // Without /proc, the OS answers directly: os.loadavg works wherever Node does.
      const [l1, l5, l15] = os.loadavg() as [number, number, number];
      return publishLoad(ctx, l1, l5, l15, os.cpus().length);
    }
    // Without a readable /proc/stat the loads are still worth publishing, just not per CPU.
    const [load, cpus] = await Promise.all([
      ctx.proc.read('loadavg'),
      ctx.proc.read('stat').then((text) => procfs.parseStat(text).cpus.size, () => 0),
    ]);
    const l = procfs.parseLoadavg(load);
    publishLoad(ctx, l.load1, l.load5, l.load15, cpus);
    ctx.emit('processes_running', l.running, { precision: 0 });
    ctx.emit('processes_total', l.total, { precision: 0 });
  },
});
