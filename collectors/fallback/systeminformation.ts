// Where /proc is missing (macOS, BSD), cpu, memory, loadavg, diskspace and network read the
// system through systeminformation instead. It is loaded only then: on Linux its calls spawn
// processes and sum devices together, which is why /proc is read directly there.
import os from 'node:os';
import type { CollectorContext } from '../../src/plugin-api.js';

type Si = typeof import('systeminformation');
let si: Promise<Si> | undefined;
export const systeminformation = (): Promise<Si> => (si ??= import('systeminformation'));

export type Source = 'auto' | 'proc' | 'systeminformation';
export const SOURCES = ['auto', 'proc', 'systeminformation'] as const;

/** True when this run should use systeminformation: forced, or `auto` on a host without /proc. */
export async function useFallback(ctx: CollectorContext<{ source: Source }, unknown>, probe: string): Promise<boolean> {
  if (ctx.config.source === 'systeminformation') return true;
  if (ctx.config.source === 'proc') return false;
  // On Linux, auto means /proc: no probe, no second read of the file every run.
  if (process.platform === 'linux') return false;
  try {
    await ctx.proc.read(probe);
    return false;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR';
  }
}

/** Abandons a probe that takes longer than `ms` (df on a dead mount hangs), leaving it pending. */
export async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** cpu: percent of one CPU per state, since the previous call (systeminformation keeps that state). */
export async function cpuFallback(ctx: CollectorContext<{ percore: boolean; normalize: boolean }, unknown>, first: boolean): Promise<void> {
  const load = await (await systeminformation()).currentLoad();
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

export async function memoryFallback(ctx: CollectorContext<unknown, unknown>): Promise<void> {
  const m = await (await systeminformation()).mem();
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

/** Load averages come from the OS directly (os.loadavg works wherever Node does). */
export function loadavgFallback(ctx: CollectorContext<unknown, unknown>): void {
  const [l1, l5, l15] = os.loadavg() as [number, number, number];
  const n = os.cpus().length;
  const p2 = { precision: 2 };
  ctx.emit('01', l1, p2);
  ctx.emit('05', l5, p2);
  ctx.emit('15', l15, p2);
  if (n > 0) {
    ctx.emit('01_normalized', l1 / n, p2);
    ctx.emit('05_normalized', l5 / n, p2);
    ctx.emit('15_normalized', l15 / n, p2);
  }
}

export async function diskspaceFallback(
  ctx: CollectorContext<{ filesystems: string[]; byte_unit: string[]; statfs_timeout: number }, unknown>,
  excluded: (mount: string) => boolean,
  name: (mount: string) => string,
): Promise<void> {
  const fss = await bounded((await systeminformation()).fsSize(), ctx.config.statfs_timeout * 1000 * 5, 'df (systeminformation fsSize)');
  const units: Record<string, number> = { byte: 1, kilobyte: 1024, megabyte: 1024 ** 2, gigabyte: 1024 ** 3, terabyte: 1024 ** 4 };
  const seen = new Set<string>();
  for (const f of fss) {
    if (!ctx.config.filesystems.includes(f.type) || excluded(f.mount) || seen.has(f.fs)) continue;
    seen.add(f.fs);
    const free = f.size - f.used;
    for (const unit of ctx.config.byte_unit) {
      const u = units[unit] ?? 1;
      if (f.size > 0) ctx.emit([name(f.mount), `${unit}_percentfree`], (100 * free) / f.size, { precision: 2 });
      ctx.emit([name(f.mount), `${unit}_used`], f.used / u, { precision: 2 });
      ctx.emit([name(f.mount), `${unit}_free`], free / u, { precision: 2 });
      ctx.emit([name(f.mount), `${unit}_avail`], f.available / u, { precision: 2 });
    }
  }
}

export async function networkFallback(ctx: CollectorContext<{ interfaces: string[]; byte_unit: string[] }, unknown>): Promise<void> {
  const stats = await (await systeminformation()).networkStats('*');
  const p2 = { precision: 2 };
  for (const s of stats) {
    if (!ctx.config.interfaces.some((p) => s.iface.startsWith(p))) continue;
    for (const dir of ['rx', 'tx'] as const) {
      const bytes = ctx.derive(`${s.iface}.${dir}_byte`, s[`${dir}_bytes`]);
      if (bytes !== undefined) {
        if (ctx.config.byte_unit.includes('bit')) ctx.emit([s.iface, `${dir}_bit`], bytes * 8, { kind: 'rate', ...p2 });
        if (ctx.config.byte_unit.includes('byte')) ctx.emit([s.iface, `${dir}_byte`], bytes, { kind: 'rate', ...p2 });
      }
      ctx.rate([s.iface, `${dir}_errors`], s[`${dir}_errors`], p2);
      ctx.rate([s.iface, `${dir}_drop`], s[`${dir}_dropped`], p2);
    }
  }
}
