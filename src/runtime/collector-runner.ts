// Runs one configured collector: builds its context for each run, checks and interns what it
// emits, derives its rates, and hands back the samples of the run, all with the run's one timestamp.
import { statfsSync as fsStatfsSync } from 'node:fs';
import { statfs as fsStatfs } from 'node:fs/promises';
import path from 'node:path';
import type { CollectorContext, EmitOptions, FileReader, LogService, ParserDefinition, PluginLogger, SampleKind, StatFs } from '../plugin-api.js';
import { logService } from '../logread/followed-logs.js';
import { inScopeOf, type PluginScope } from '../logging/plugin-scope.js';
import { LogThrottle } from '../logging/throttle.js';
import type { MetricName, Sample } from '../model/sample.js';
import type { CollectorSection } from '../config/types.js';
import { NameTable, type NameRefusal } from '../model/naming.js';
import { keyBudget, RateTracker, type KeyBudget, type MonotonicClock, monotonicMs, type RateScope } from './rate.js';
import { systemFallback } from './fallback.js';

/** New names a collector may make when neither max_names_per_collector nor its max_names says. */
export const DEFAULT_MAX_NAMES = 10_000;
/** Decimal places a sample may ask for; more than a double holds is a bug, not a wish. */
export const MAX_PRECISION = 20;

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
  /**
   * New metric names (and derive/delta keys) the collector may make: max_names_per_collector.
   * The section's own `max_names` wins. DEFAULT_MAX_NAMES when neither is given.
   */
  readonly maxNames?: number;
  /** Holds back the runner's repeated warnings (refused emits and names); a fresh one by default. */
  readonly throttle?: LogThrottle;
}

export interface RunResult {
  readonly samples: Sample[];
  /** Set when the collector threw; samples emitted before the throw are still returned. */
  readonly error: Error | undefined;
  /**
   * Emits refused this run: a value that is not a finite number, a name with no segment, a kind,
   * precision, instance or options object that is wrong. None of them reaches a handler.
   */
  readonly invalid: number;
  /** The first few of them as `name: why`, for messages. */
  readonly invalidExamples: readonly string[];
  /** New names (and derive/delta keys) refused this run: the collector holds its max_names. */
  readonly namesRefused: number;
}

/** Running totals since the runner was made, for sonde's self-metrics. */
export interface RunnerTotals {
  invalidValues: number;
  namesRefused: number;
}

const EXAMPLES = 3;
/** A run is given at most this many places ahead (0.5 MB): one huge run must not cost every later one. */
const PRESIZE_MAX = 65_536;

// Made first and kept: V8 then stores a sample's numbers as they are (one timestamp per run, small
// integers in place) instead of a 16-byte box each per sample; graphite keeps 10 s of samples.
const SAMPLE_SHAPE = { name: undefined, value: undefined, kind: undefined, timestamp: undefined, precision: undefined };

export class CollectorRunner {
  readonly key: string;
  readonly names: NameTable;
  private readonly healthNames: NameTable;
  readonly rates: RateTracker;
  /** The most new names the collector may make. */
  readonly maxNames: number;
  readonly totals: RunnerTotals = { invalidValues: 0, namesRefused: 0 };
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
  /** Baselines of rate(), derive() and delta(), each in its own part of the tracker. */
  private readonly rateScope: RateScope;
  private readonly deriveScope: RateScope;
  private readonly deltaScope: RateScope;
  /** Keeps the shape of samples alive (see SAMPLE_SHAPE). */
  static readonly sampleShape: object = SAMPLE_SHAPE;
  /** derive() and delta() keys the collector holds in the rate tracker, against maxNames. */
  private readonly stateKeys: KeyBudget;
  private readonly throttle: LogThrottle;
  /** Plugin code runs in this scope, so its stray errors can be put down to it. */
  private readonly scope: PluginScope;
  private lastPrune = -Infinity;
  /** Samples of the last run that was not abandoned. */
  private lastCount = 0;
  /** Names were refused since the last prune: the table is full. */
  private fullSincePrune = false;

  constructor(
    readonly section: CollectorSection,
    private readonly deps: RunnerDeps,
  ) {
    this.key = section.key;
    // The section carries its cap (max_names, else max_names_per_collector) once validated.
    this.maxNames = section.maxNames ?? deps.maxNames ?? DEFAULT_MAX_NAMES;
    const onCollision = (first: string, second: string, at: string): void => {
      deps.log.warn(
        `collector ${this.key}: names ${first} and ${second} both become ${at} once the characters a metric path cannot hold are replaced with _; their samples land on one metric and overwrite each other. Rename one of them in plugin ${section.plugin.name}`,
        { names: [first, second], path: at },
      );
    };
    this.names = new NameTable(section.path, undefined, { maxNames: this.maxNames, onCollision });
    this.healthNames = new NameTable('sonde', undefined, { maxNames: this.maxNames });
    this.stateKeys = keyBudget(this.maxNames);
    this.throttle = deps.throttle ?? new LogThrottle();
    this.scope = { plugin: section.plugin.name, collector: section.key };
    this.clock = deps.clock ?? monotonicMs;
    this.rates = deps.rates ?? new RateTracker(this.clock);
    // The keys they are saved under (sonde once) are the scope's prefix and the key.
    this.rateScope = this.rates.scope(`${this.key}\u0000`);
    this.deriveScope = this.rates.scope(`${this.key}\u0000\u0001`);
    this.deltaScope = this.rates.scope(`${this.key}\u0000\u0002`);
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
    // As many places as the last run filled: grown by push, a run's array of thousands of samples
    // is copied a dozen times. `made` says how many hold a sample.
    const samples: Sample[] = new Array<Sample>(Math.min(this.lastCount, PRESIZE_MAX));
    let made = 0;
    /** The run's samples, the places it did not fill let go. */
    const done = (): Sample[] => {
      if (samples.length !== made) samples.length = made;
      return samples;
    };
    let invalid = 0;
    const examples: string[] = [];
    let namesRefused = 0;
    let refusedExample: string | undefined;
    const now = this.clock();
    const names = this.names;
    const healthNames = this.healthNames;
    const rateScope = this.rateScope;
    const deriveScope = this.deriveScope;
    const deltaScope = this.deltaScope;
    const stateKeys = this.stateKeys;
    const stateRefusedBefore = stateKeys.refused;
    const healthPrefix = ['collector', this.key];

    /** Counts an emit that never reaches a handler, with why. Returns undefined for the caller to return. */
    const refuse = (name: unknown, why: string): undefined => {
      if (signal.aborted) return undefined;
      invalid++;
      if (examples.length < EXAMPLES) examples.push(`${shown(name)}: ${why}`);
      return undefined;
    };
    const intern = (table: NameTable, name: string | readonly string[], instance: string | undefined): MetricName | undefined => {
      const n = table.intern(name, instance);
      if (typeof n !== 'string') return n;
      if (n === 'full') {
        if (!signal.aborted) {
          namesRefused++;
          refusedExample ??= shown(name);
        }
        return undefined;
      }
      return refuse(name, refusalText(n, instance));
    };
    const push = (name: MetricName, value: number, kind: SampleKind, precision: number | undefined): void => {
      if (!signal.aborted) samples[made++] = { name, value, kind, timestamp, precision };
    };
    const rateKeys = this.rateKeys;
    const ctx: CollectorContext<Record<string, unknown>, unknown> = {
      config: this.section.config,
      state: this.state,
      emit(name, value, opts) {
        let kind: SampleKind = 'gauge';
        let o: EmitOptions | undefined;
        if (typeof opts === 'string') {
          if (!isKind(opts)) return refuse(name, `the kind ${shown(opts)} is not "gauge", "counter" or "rate"`);
          kind = opts;
        } else if (opts !== undefined) {
          const problem = optionsProblem(opts);
          if (problem !== undefined) return refuse(name, problem);
          o = opts;
          kind = opts.kind ?? 'gauge';
        }
        if (!Number.isFinite(value)) return refuse(name, valueProblem(value));
        const n = intern(names, name, o?.instance);
        if (n !== undefined) push(n, value, kind, o?.precision);
      },
      rate(name, counter, opts) {
        if (opts !== undefined) {
          const problem = typeof opts === 'object' ? optionsProblem(opts) : `the options ${shown(opts)} are not an object such as { precision: 2 }`;
          if (problem !== undefined) return refuse(name, problem);
        }
        if (!Number.isFinite(counter)) return refuse(name, valueProblem(counter));
        const interned = intern(names, name, opts?.instance);
        if (interned === undefined) return undefined;
        // The baseline's key, built once per name: the interned name finds it without joining
        // and hashing a new string for every counter of every run.
        let key = rateKeys.get(interned);
        if (key === undefined) {
          key = (opts?.instance ?? '') + '\u0000' + (typeof name === 'string' ? name : name.join('\u0000'));
          rateKeys.set(interned, key);
        }
        const r = rateScope.derive(key, counter, now);
        if (r !== undefined) push(interned, r, 'rate', opts?.precision);
        return r;
      },
      derive(key, counter) {
        if (typeof key !== 'string' || key.length === 0) return refuse(key, 'the key of derive() is not a non-empty string');
        if (!Number.isFinite(counter)) return refuse(key, valueProblem(counter));
        return deriveScope.derive(key, counter, now, stateKeys);
      },
      delta(key, counter) {
        if (typeof key !== 'string' || key.length === 0) return refuse(key, 'the key of delta() is not a non-empty string');
        if (!Number.isFinite(counter)) return refuse(key, valueProblem(counter));
        return deltaScope.delta(key, counter, now, stateKeys);
      },
      now,
      health: (name, value) => {
        if (typeof name !== 'string' || name.length === 0) return refuse(name, 'the name of health() is not a non-empty string');
        if (!Number.isFinite(value)) return refuse(name, valueProblem(value));
        const n = intern(healthNames, [...healthPrefix, name], undefined);
        if (n !== undefined) push(n, value, 'gauge', undefined);
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

    const plugin = this.section.plugin;
    let pruned = false;
    const finish = (error: Error | undefined): RunResult => {
      namesRefused += stateKeys.refused - stateRefusedBefore;
      // Refusals of a run that pruned were dealt with by its trim; the others wait for the next.
      if (namesRefused > 0 && !pruned) this.fullSincePrune = true;
      if (!signal.aborted) this.lastCount = made;
      const result: RunResult = { samples: signal.aborted ? [] : done(), error, invalid, invalidExamples: examples, namesRefused };
      this.report(result, refusedExample);
      return result;
    };
    try {
      if (!this.initialised && plugin.init) {
        const init = plugin.init;
        this.state = await inScopeOf(plugin, this.scope, () => init({ ...ctx, state: undefined }));
        (ctx as { state: unknown }).state = this.state;
      }
      this.initialised = true;
      await inScopeOf(plugin, this.scope, () => plugin.collect(ctx));
      // Baselines not updated for forgetAfter go; looking for them every run would cost more
      // than the collection, so about ten times per forgetAfter.
      const forget = this.deps.forgetAfter;
      if (forget !== undefined && now - this.lastPrune >= forget / 10) {
        this.rates.prune(now - forget);
        const full = this.fullSincePrune || namesRefused > 0 || stateKeys.refused > stateRefusedBefore;
        if (full && !signal.aborted) this.keepOnly(done());
        this.fullSincePrune = false;
        this.lastPrune = now;
        pruned = true;
      }
      return finish(undefined);
    } catch (err) {
      return finish(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * One collection that gives up after `timeoutMs`: its signal aborts, and 'timeout' comes back
   * even when the collector never returns.
   */
  async runWithin(timestamp: number, timeoutMs: number): Promise<RunResult | 'timeout'> {
    const ctrl = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        ctrl.abort(new Error(`timed out after ${timeoutMs} ms`));
        resolve('timeout');
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.run(timestamp, ctrl.signal), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The name table is full: forget the names this run did not emit (devices, processes that are
   * gone), so they stop holding places; names still in use keep theirs.
   */
  private keepOnly(samples: readonly Sample[]): void {
    const live = new Set<MetricName>();
    for (const s of samples) live.add(s.name);
    const keep = (n: MetricName) => live.has(n);
    this.names.retain(keep);
    this.healthNames.retain(keep);
    for (const n of this.rateKeys.keys()) if (!live.has(n)) this.rateKeys.delete(n);
  }

  /** Counts the run's refusals and says so, once per throttle window for each kind. */
  private report(r: RunResult, refusedExample: string | undefined): void {
    const key = this.key;
    const plugin = this.section.plugin.name;
    if (r.invalid > 0) {
      this.totals.invalidValues += r.invalid;
      const t = this.throttle.check(`invalid:${key}`);
      if (t.log) {
        this.deps.log.warn(
          `collector ${key}: refused ${r.invalid} emit(s) this run, e.g. ${r.invalidExamples.join('; ')}; they are not sent (counted in sonde.collector.${key}.invalid_values). Fix these calls in plugin ${plugin}`,
          { refused: r.invalid, examples: r.invalidExamples, held_back: t.suppressed },
        );
      }
    }
    if (r.namesRefused > 0) {
      this.totals.namesRefused += r.namesRefused;
      const t = this.throttle.check(`names:${key}`);
      if (t.log) {
        this.deps.log.warn(
          `collector ${key}: refused ${r.namesRefused} new metric name(s) or counter key(s) this run${refusedExample ? `, e.g. ${refusedExample}` : ''}: it holds ${this.maxNames}, its cap (max_names_per_collector, or max_names in its section). Its names so far keep working; the new ones are not sent (counted in sonde.collector.${key}.names_refused). Plugin ${plugin} likely puts something that changes (an id, a time) into its names: fix that, or raise the cap if it really has this many metrics`,
          { refused: r.namesRefused, max_names: this.maxNames, held_back: t.suppressed },
        );
      }
    }
  }

  async close(): Promise<void> {
    const close = this.section.plugin.close;
    if (!this.initialised || !close) return;
    const ctrl = new AbortController();
    const ctx: CollectorContext<Record<string, unknown>, unknown> = {
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
    };
    await inScopeOf(this.section.plugin, this.scope, () => close(ctx));
  }
}

function isKind(k: unknown): k is SampleKind {
  return k === 'gauge' || k === 'counter' || k === 'rate';
}

/** What is wrong with an emit's options object, or undefined. */
function optionsProblem(o: unknown): string | undefined {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return `the options ${shown(o)} are not a kind ("gauge", "counter", "rate") or an object such as { precision: 2 }`;
  const { kind, precision, instance } = o as Record<string, unknown>;
  if (kind !== undefined && !isKind(kind)) return `the kind ${shown(kind)} is not "gauge", "counter" or "rate"`;
  if (precision !== undefined && !(Number.isInteger(precision) && (precision as number) >= 0 && (precision as number) <= MAX_PRECISION)) {
    return `the precision ${shown(precision)} is not a whole number from 0 to ${MAX_PRECISION}`;
  }
  if (instance !== undefined && (typeof instance !== 'string' || instance.length === 0)) return `the instance ${shown(instance)} is not a non-empty string`;
  return undefined;
}

function valueProblem(v: unknown): string {
  if (typeof v === 'number') return Number.isNaN(v) ? 'the value is NaN' : 'the value is infinite';
  if (typeof v === 'bigint') return `the value ${v}n is a bigint, not a number: convert it with Number()`;
  if (typeof v === 'string') return `the value ${shown(v)} is a string, not a number: convert it with Number() and check the result`;
  return `the value is ${shown(v)}, not a number`;
}

function refusalText(r: Exclude<NameRefusal, 'full'>, instance: unknown): string {
  switch (r) {
    case 'empty':
      return 'the name has no segment to make a path of (it is empty or only dots)';
    case 'not-text':
      return 'the name is not a string or an array of strings';
    case 'bad-instance':
      return `the instance ${shown(instance)} is not a non-empty string`;
  }
}

/** Anything a plugin passed, short and safe to put in a message. */
function shown(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);
    case 'bigint':
      return `${v}n`;
    case 'symbol':
      return v.toString();
    case 'function':
      return 'a function';
    case 'object':
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        try {
          const j = JSON.stringify(v);
          return j.length > 100 ? `${j.slice(0, 100)}…` : j;
        } catch {
          return 'an array';
        }
      }
      return 'an object';
    default:
      return String(v);
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
