// What `sonde run` tells a person at a terminal (npm start in a checkout) once it has started:
// where its config and state are, when the first samples are due, and how to stop it. Under a
// supervisor (no terminal) the log's "sonde started" line is all there is.
import path from 'node:path';
import type { AgentConfig } from '../config/types.js';
import { offsetFor, windowAt } from '../runtime/scheduler.js';

/** The wall-clock time (ms) of a job's first run when it is scheduled at `now` (see Scheduler.arm). */
export function firstRunAt(key: string, interval: number, now: number): number {
  const offset = offsetFor(key, interval);
  return windowAt(now, interval, offset) + interval + offset;
}

const clock = (ms: number): string => new Date(ms).toTimeString().slice(0, 8);
const every = (ms: number): string => (ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`);

export function startBanner(cfg: AgentConfig, stateDir: string, now: number): string {
  const lines = [`sonde is running in the foreground with ${cfg.files.map((f) => path.resolve(f)).join(', ')}`, `  state (counters, log offsets, spools): ${stateDir || 'none (not writable; see the log above)'}`];
  const collectors = cfg.collectors.filter((c) => c.enabled);
  if (collectors.length === 0) {
    lines.push('  no collector is enabled: nothing will be collected. Enable one under collectors: in the config');
  } else {
    const first = Math.min(...collectors.map((c) => firstRunAt(c.key, c.interval, now)));
    const byInterval = new Map<number, string[]>();
    for (const c of collectors) byInterval.set(c.interval, [...(byInterval.get(c.interval) ?? []), c.key]);
    const schedule = [...byInterval].sort((a, b) => a[0] - b[0]).map(([iv, keys]) => `${keys.join(', ')} every ${every(iv)}`);
    lines.push(
      `  first samples due at ${clock(first)} (in about ${Math.max(1, Math.round((first - now) / 1000))} s): ${schedule.join('; ')}`,
      '  figures that are rates (cpu, iostat, network, ...) need two runs: they come one interval later',
    );
  }
  if (cfg.self_metrics.enabled) lines.push(`  sonde's own figures (<prefix>.<host>.sonde.*) every ${every(cfg.self_metrics.interval)}`);
  const handlers = cfg.handlers.filter((h) => h.enabled).map((h) => h.key);
  lines.push(`  samples go to: ${handlers.join(', ') || 'nowhere (no handler is enabled)'}`, 'Press Ctrl-C to stop (it flushes what is queued first; a second Ctrl-C exits at once).');
  return `${lines.join('\n')}\n`;
}
