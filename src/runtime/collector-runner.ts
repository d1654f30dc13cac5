// Runs one configured collector: builds its context for each run, interns its names, derives its
// rates, and hands back the samples of the run, all with the run's one timestamp.
import { statfsSync as fsStatfsSync } from 'node:fs';
import { statfs as fsStatfs } from 'node:fs/promises';
import path from 'node:path';
import type { CollectorContext, EmitOptions, FileReader, LogService, ParserDefinition, PluginLogger, SampleKind, StatFs } from '../plugin-api.js';
import { logService } from '../logread/followed-logs.js';
import type { MetricName, Sample } from '../model/sample.js';
import type { CollectorSection } from '../config/types.js';
import { NameTable } from '../model/naming.js';
import { RateTracker, type MonotonicClock, monotonicMs } from './rate.js';
import { systemFallback } from './fallback.js';

export interface RunnerDeps {
  readonly proc: FileReader;
  readonly sys: FileReader;
  readonly log: PluginLogger;
  readonly clock?: MonotonicClock;
  /** statfs(2); tests replay recorded results instead. */
  readonly statfs?: (path: string) => Promise<StatFs>;
  /** Shared rate state (sonde once restores it from disk); a fresh one by default. */
  readonly rates?: RateTracker;
  /**
   * Forget rate baselines not updated for this long (ms), so devices and interfaces that come
   * and go do not pile up. The agent sets it; `sonde once` keeps baselines between cron runs.
   */
  readonly forgetAfter?: number;
  /** The agent's state directory; collectors get `<dir>/collectors/<key>`. None: state stays in memory. */
  readonly stateDir?: string;
  /** Parsers by name and alias, for the logs collector. */
  readonly parsers?: ReadonlyMap<string, ParserDefinition>;
}

export interface RunResult {
  readonly samples: Sample[];
  /** Set when the collector threw; samples emitted before the throw are still returned. */
  readonly error: Error | undefined;
  /** Names emitted with NaN or an infinite value: skipped, so no handler ever sees them. */
  readonly invalid: readonly string[];
}

export class CollectorRunner {
  readonly key: string;
  readonly names: NameTable;
  private readonly healthNames = new NameTable('sonde');
  readonly rates: RateTracker;
  private state: unknown = undefined;
  private initialised = false;
  private readonly clock: MonotonicClock;
  private readonly stateDir: string | undefined;
  private readonly parser: (name: string) => ParserDefinition | undefined;
  private readonly fallback: ReturnType<typeof systemFallback>;
  /** ctx.logs: one per runner, so the collector's followed files and offsets outlive its runs. */
  private readonly logs: LogService;
  /** Rate baseline keys by interned name. */
  private readonly rateKeys = new Map<MetricName, string>();
  private lastPrune = -Infinity;

  constructor(
    readonly section: CollectorSection,
    private readonly deps: RunnerDeps,
  ) {
    this.key = section.key;
    this.names = new NameTable(section.path);
    this.clock = deps.clock ?? monotonicMs;
    this.rates = deps.rates ?? new RateTracker(this.clock);
    this.stateDir = deps.stateDir === undefined ? undefined : path.join(deps.stateDir, 'collectors', section.key);
    const parsers = deps.parsers;
    this.parser = (name) => parsers?.get(name);
    this.fallback = systemFallback(deps.proc);
    this.logs = logService({ stateDir: this.stateDir, log: deps.log, label: section.plugin.name });
  }

  /**
   * One collection. `timestamp` is the run's wall-clock time in ms, shared by all its samples.
   * Emits after `signal` aborts are discarded: an abandoned run can never add late samples.
   */
  async run(timestamp: number, signal: AbortSignal): Promise<RunResult> {
    const samples: Sample[] = [];
    const invalid: string[] = [];
    const now = this.clock();
    const names = this.names;
    const rates = this.rates;
    const rateKeyPrefix = `${this.key}\u0000`;

    const push = (name: string | readonly string[], value: number, kind: SampleKind, opts: EmitOptions | undefined): void => {
      if (signal.aborted) return;
      if (!Number.isFinite(value)) {
        invalid.push(typeof name === 'string' ? name : name.join('.'));
        return;
      }
      samples.push({ name: names.get(name, opts?.instance), value, kind, timestamp, precision: opts?.precision });
    };
    const rateKeys = this.rateKeys;
    const ctx: CollectorContext<Record<string, unknown>, unknown> = {
      config: this.section.config,
      state: this.state,
      emit(name, value, opts) {
        const o = typeof opts === 'string' ? { kind: opts } : opts;
        push(name, value, o?.kind ?? 'gauge', o);
      },
      rate(name, counter, opts) {
        // The baseline's key, built once per name: the interned name finds it without joining
        // and hashing a new string for every counter of every run.
        const interned = names.get(name, opts?.instance);
        let key = rateKeys.get(interned);
        if (key === undefined) {
          key = rateKeyPrefix + (opts?.instance ?? '') + '\u0000' + (typeof name === 'string' ? name : name.join('\u0000'));
          rateKeys.set(interned, key);
        }
        const r = rates.derive(key, counter, now);
        if (r !== undefined) push(name, r, 'rate', opts);
        return r;
      },
      derive(key, counter) {
        return rates.derive(rateKeyPrefix + '\u0001' + key, counter, now);
      },
      delta(key, counter) {
        return rates.delta(rateKeyPrefix + '\u0002' + key, counter, now);
      },
      now,
      health: (name, value) => {
        if (signal.aborted || !Number.isFinite(value)) return;
        samples.push({ name: this.healthNames.get(['collector', this.key, name]), value, kind: 'gauge', timestamp, precision: undefined });
      },
      proc: this.deps.proc,
      sys: this.deps.sys,
      statfs: this.deps.statfs ?? defaultStatfs,
      statfsSync: this.deps.statfs ? undefined : defaultStatfsSync,
      fallback: this.fallback,
      signal,
      log: this.deps.log,
      stateDir: this.stateDir,
      parser: this.parser,
      logs: this.logs,
    };

    try {
      if (!this.initialised && this.section.plugin.init) {
        this.state = await this.section.plugin.init({ ...ctx, state: undefined });
        (ctx as { state: unknown }).state = this.state;
      }
      this.initialised = true;
      await this.section.plugin.collect(ctx);
      // Baselines not updated for forgetAfter go; looking for them every run would cost more
      // than the collection, so about ten times per forgetAfter.
      const forget = this.deps.forgetAfter;
      if (forget !== undefined && now - this.lastPrune >= forget / 10) {
        this.rates.prune(now - forget);
        this.lastPrune = now;
      }
      return { samples: signal.aborted ? [] : samples, error: undefined, invalid };
    } catch (err) {
      return { samples: signal.aborted ? [] : samples, error: err instanceof Error ? err : new Error(String(err)), invalid };
    }
  }

  async close(): Promise<void> {
    if (!this.initialised || !this.section.plugin.close) return;
    const ctrl = new AbortController();
    await this.section.plugin.close({
      config: this.section.config,
      state: this.state,
      emit: () => undefined,
      rate: () => undefined,
      derive: () => undefined,
      delta: () => undefined,
      now: this.clock(),
      health: () => undefined,
      proc: this.deps.proc,
      sys: this.deps.sys,
      statfs: this.deps.statfs ?? defaultStatfs,
      fallback: this.fallback,
      signal: ctrl.signal,
      log: this.deps.log,
      stateDir: this.stateDir,
      parser: this.parser,
      logs: this.logs,
    });
  }
}

async function defaultStatfs(path: string): Promise<StatFs> {
  const s = await fsStatfs(path);
  return { bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree };
}

function defaultStatfsSync(path: string): StatFs {
  const s = fsStatfsSync(path);
  return { bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree };
}
