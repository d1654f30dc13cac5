// loadavg: /proc/loadavg, with Diamond's leaf names.
import { defineCollector, z } from '../src/plugin-api.js';
import { loadavgFallback, SOURCES, useFallback } from './fallback/systeminformation.js';

export interface LoadAvg {
  readonly load1: number;
  readonly load5: number;
  readonly load15: number;
  readonly running: number;
  readonly total: number;
}

/** Parses `0.41 0.32 0.29 2/1234 56789`. */
export function parseLoadavg(text: string): LoadAvg {
  const [a, b, c, procs] = text.trim().split(/\s+/);
  const [running, total] = (procs ?? '').split('/').map(Number);
  const out = { load1: Number(a), load5: Number(b), load15: Number(c), running: running ?? NaN, total: total ?? NaN };
  if (![out.load1, out.load5, out.load15, out.running, out.total].every(Number.isFinite)) {
    throw new Error(`cannot parse /proc/loadavg: ${JSON.stringify(text.slice(0, 80))}`);
  }
  return out;
}

/** Online CPUs, counted from /proc/stat's cpuN lines. */
export function countCpus(stat: string): number {
  let n = 0;
  for (const line of stat.split('\n')) if (/^cpu\d+\s/.test(line)) n++;
  return n;
}

export default defineCollector({
  name: 'loadavg',
  description: 'Load averages (1, 5, 15 minutes), normalised by CPU count, and process counts from /proc/loadavg.',
  schema: z.object({
    source: z.enum(SOURCES).default('auto').describe('auto: /proc where it exists, systeminformation elsewhere (macOS); or force one.'),
  }),
  async collect(ctx) {
    if (await useFallback(ctx, 'loadavg')) return loadavgFallback(ctx);
    const [load, stat] = await Promise.all([ctx.proc.read('loadavg'), ctx.proc.read('stat').catch(() => '')]);
    const l = parseLoadavg(load);
    const p2 = { precision: 2 };
    ctx.emit('01', l.load1, p2);
    ctx.emit('05', l.load5, p2);
    ctx.emit('15', l.load15, p2);
    const cpus = countCpus(stat);
    if (cpus > 0) {
      ctx.emit('01_normalized', l.load1 / cpus, p2);
      ctx.emit('05_normalized', l.load5 / cpus, p2);
      ctx.emit('15_normalized', l.load15 / cpus, p2);
    }
    ctx.emit('processes_running', l.running, { precision: 0 });
    ctx.emit('processes_total', l.total, { precision: 0 });
  },
});
