// sonde's own figures, published under <prefix>.<host>.sonde. like any collector's.
import type { Sample } from '../model/sample.js';
import { NameTable } from '../model/naming.js';
import type { JobStats } from './scheduler.js';
import type { OutboxStats } from '../delivery/outbox.js';

export interface CollectorFigures {
  readonly key: string;
  readonly stats: JobStats;
  /** Samples the last run emitted. */
  readonly lastSamples: number;
  readonly invalidValues: number;
  /** New names (and derive/delta keys) refused past the collector's max_names. */
  readonly namesRefused: number;
  /** Stray exceptions and rejections put down to this collector. */
  readonly uncaughtErrors: number;
}

export interface AgentFigures {
  /** Stray exceptions and rejections, all plugins (and sonde's own rejections) together. */
  readonly uncaughtErrors: number;
}

export interface HandlerFigures {
  readonly key: string;
  readonly depth: number;
  /** Samples waiting in the disk spool. */
  readonly spooled: number;
  readonly stats: OutboxStats;
}

export class SelfMetrics {
  private readonly names = new NameTable('sonde');

  /** One sample set; counters are running totals since the agent started. */
  collect(timestamp: number, collectors: readonly CollectorFigures[], handlers: readonly HandlerFigures[], agent: AgentFigures = { uncaughtErrors: 0 }): Sample[] {
    const out: Sample[] = [];
    const g = (segments: readonly string[], value: number, precision?: number): void => {
      out.push({ name: this.names.get(segments), value, kind: 'gauge', timestamp, precision });
    };
    const c = (segments: readonly string[], value: number): void => {
      out.push({ name: this.names.get(segments), value, kind: 'counter', timestamp, precision: 0 });
    };
    for (const col of collectors) {
      const k = col.key;
      g(['collector', k, 'run_time_ms'], col.stats.lastDurationMs, 2);
      g(['collector', k, 'samples'], col.lastSamples, 0);
      c(['collector', k, 'runs'], col.stats.runs);
      c(['collector', k, 'errors'], col.stats.errors);
      c(['collector', k, 'timeouts'], col.stats.timeouts);
      c(['collector', k, 'skipped'], col.stats.skipped);
      c(['collector', k, 'invalid_values'], col.invalidValues);
      c(['collector', k, 'names_refused'], col.namesRefused);
      c(['collector', k, 'uncaught_errors'], col.uncaughtErrors);
    }
    for (const h of handlers) {
      const k = h.key;
      g(['handler', k, 'queue_depth'], h.depth, 0);
      g(['handler', k, 'spooled'], h.spooled, 0);
      c(['handler', k, 'sent'], h.stats.sent);
      c(['handler', k, 'send_errors'], h.stats.sendErrors);
      c(['handler', k, 'dropped'], h.stats.dropped);
      c(['handler', k, 'rejected'], h.stats.rejected);
      c(['handler', k, 'resent'], h.stats.resent);
      c(['handler', k, 'refused'], h.stats.refused);
    }
    c(['agent', 'uncaught_errors'], agent.uncaughtErrors);
    const cpu = process.cpuUsage();
    c(['process', 'cpu_ms'], Math.round((cpu.user + cpu.system) / 1000));
    g(['process', 'rss_bytes'], process.memoryUsage.rss(), 0);
    return out;
  }
}
