// Runs one configured collector: builds its context for each run, interns its names, derives its
// rates, and hands back the samples of the run, all with the run's one timestamp.
import type { CollectorContext, EmitOptions, FileReader, PluginLogger, SampleKind } from './plugin-api.js';
import type { Sample } from './sample.js';
import type { CollectorSection } from './config-validate.js';
import { NameTable } from './naming.js';
import { RateTracker, type MonotonicClock, monotonicMs } from './rate.js';

export interface RunnerDeps {
  readonly proc: FileReader;
  readonly sys: FileReader;
  readonly log: PluginLogger;
  readonly clock?: MonotonicClock;
  /** Shared rate state (sonde once restores it from disk); a fresh one by default. */
  readonly rates?: RateTracker;
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
  readonly rates: RateTracker;
  private state: unknown = undefined;
  private initialised = false;
  private readonly clock: MonotonicClock;

  constructor(
    readonly section: CollectorSection,
    private readonly deps: RunnerDeps,
  ) {
    this.key = section.key;
    this.names = new NameTable(section.path);
    this.clock = deps.clock ?? monotonicMs;
    this.rates = deps.rates ?? new RateTracker(this.clock);
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
    const ctx: CollectorContext<Record<string, unknown>, unknown> = {
      config: this.section.config,
      state: this.state,
      emit(name, value, opts) {
        const o = typeof opts === 'string' ? { kind: opts } : opts;
        push(name, value, o?.kind ?? 'gauge', o);
      },
      rate(name, counter, opts) {
        const key = rateKeyPrefix + (opts?.instance ?? '') + '\u0000' + (typeof name === 'string' ? name : name.join('\u0000'));
        const r = rates.derive(key, counter, now);
        if (r !== undefined) push(name, r, 'rate', opts);
        return r;
      },
      derive(key, counter) {
        return rates.derive(rateKeyPrefix + '\u0001' + key, counter, now);
      },
      proc: this.deps.proc,
      sys: this.deps.sys,
      signal,
      log: this.deps.log,
    };

    try {
      if (!this.initialised && this.section.plugin.init) {
        this.state = await this.section.plugin.init({ ...ctx, state: undefined });
        (ctx as { state: unknown }).state = this.state;
      }
      this.initialised = true;
      await this.section.plugin.collect(ctx);
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
      proc: this.deps.proc,
      sys: this.deps.sys,
      signal: ctrl.signal,
      log: this.deps.log,
    });
  }
}
