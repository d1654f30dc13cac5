// The long-running agent: collectors on the scheduler feeding the pipeline, self-metrics, SIGHUP
// reloads and a flushing shutdown.
import { ConfigError } from '../config/read-files.js';
import { loadConfig, type LoadedConfig } from '../config/load-config.js';
import type { AgentConfig, CollectorSection } from '../config/types.js';
import { YamlSyntaxError } from '../config/yaml-source.js';
import { noHandlerHint } from '../config/issue-wording.js';
import type { HandlerSlot } from '../delivery/handler-slot.js';
import type { Logger } from '../logging/logger.js';
import { pluginFilesOf, StrayErrors } from '../logging/stray-errors.js';
import type { Sample } from '../model/sample.js';
import type { CollectorRunner } from './collector-runner.js';
import { reportLoad } from './load-report.js';
import { Pipeline } from './pipeline.js';
import { Scheduler, type LateDetail } from './scheduler.js';
import { collectGarbage, SettleAfterFirstRuns } from './settle-heap.js';
import { SelfMetrics } from './self-metrics.js';

/** The self-metrics job's key: no collector section can be named so. */
const SELF_JOB = '\u0000sonde';

/** How a job is named to an operator: `collector cpu`, or `self-metrics` for sonde's own figures. */
function jobName(key: string): string {
  return key === SELF_JOB ? 'self-metrics' : `collector ${key}`;
}

/** The log fields naming a job. */
function jobFields(key: string): Record<string, string> {
  return key === SELF_JOB ? { job: 'self-metrics' } : { collector: key };
}

interface CollectorSlot {
  readonly runner: CollectorRunner;
  lastSamples: number;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

export class Agent {
  private config!: AgentConfig;
  private readonly scheduler: Scheduler;
  private readonly pipeline: Pipeline;
  private readonly collectors = new Map<string, CollectorSlot>();
  private readonly selfMetrics = new SelfMetrics();
  private reloading: Promise<boolean> | undefined;
  private stopping = false;
  /** Exceptions and rejections no caller caught, by plugin where it can be told (see commands.ts). */
  readonly strayErrors = new StrayErrors();
  /** One full garbage collection when the collectors' first runs after a start or reload are over (see settle-heap.ts). */
  private readonly settler: SettleAfterFirstRuns;

  /**
   * `adjust` is applied to every config loaded on SIGHUP (the command line's --only, --state-dir); it throws to refuse one.
   * `settleHeap` runs once the first runs after a start or a reload are over (a full garbage collection).
   */
  constructor(
    private readonly configPath: string,
    private readonly log: Logger,
    private readonly adjust: (loaded: LoadedConfig) => LoadedConfig = (l) => l,
    settleHeap: () => void = () => settle(log),
  ) {
    this.pipeline = new Pipeline(log);
    this.settler = new SettleAfterFirstRuns(settleHeap);
    const throttle = this.pipeline.throttle;
    this.scheduler = new Scheduler({
      timeout: (key, ms) => {
        this.settler.ran(key);
        const t = throttle.check(`timeout:${key}`);
        if (t.log) log.warn({ ...jobFields(key), held_back: t.suppressed }, `${jobName(key)}: run abandoned after its timeout of ${ms} ms; its samples for this window are lost. Raise timeout or find what it waits on`);
      },
      error: (key, err) => {
        const t = throttle.check(`error:${key}`);
        if (t.log) log.error({ ...jobFields(key), held_back: t.suppressed, err }, `${jobName(key)}: ${err.message}`);
      },
      skipped: (key, count, why, detail) => {
        if (why === 'stuck') {
          const t = throttle.check(`skip:${key}:stuck`);
          if (t.log) log.warn({ ...jobFields(key), held_back: t.suppressed }, `${jobName(key)}: previous run has still not returned after its timeout; skipping this window rather than starting a second run`);
          return;
        }
        // One event delays every job: said once per cause (and culprit), not once per job.
        const t = throttle.check(`skip:${why}:${detail?.culprit?.key ?? ''}`);
        if (!t.log) return;
        const fields = { ...jobFields(key), windows: count, late_ms: Math.round(detail?.lateMs ?? 0), cause: why, held_back: t.suppressed };
        const skipped = `${jobName(key)}: skipped ${count} window(s)`;
        const late = seconds(detail?.lateMs ?? 0);
        switch (why) {
          case 'blocked':
            log.warn({ ...fields, culprit: detail?.culprit?.key === undefined ? undefined : jobName(detail.culprit.key) }, `${skipped}: sonde's event loop was blocked and its timers fired ${late} late; this was not a clock jump or a suspend (the monotonic clock moved as much as the wall clock). ${this.blamed(detail)} Every collector was held up and the missed windows have no samples`);
            break;
          case 'clock':
            log.warn(fields, `${skipped}: the system clock jumped ${late} forward (an NTP step or a manual change) while the monotonic clock did not; the windows it passed over are not replayed. If this recurs, check the host's time synchronisation`);
            break;
          case 'suspend':
            log.warn(fields, `${skipped}: the host was suspended (or its VM paused) for about ${late}; nothing was collected meanwhile and the missed windows are not replayed. Nothing to do unless the host should not sleep`);
            break;
          default:
            log.warn(fields, `${skipped}: the wall clock moved ${late} further than the monotonic clock: the clock jumped or the host was suspended (this host has no /proc/uptime to tell which). The missed windows are not replayed`);
        }
      },
    });
  }

  /** Names the likely cause of a blocked event loop, for an operator. */
  private blamed(detail: LateDetail | undefined): string {
    const c = detail?.culprit;
    if (c === undefined) return 'No collector run was going on then: sonde\'s own work (a large flush, a reload) or the host starving it of CPU blocked it.';
    const plugin = this.collectors.get(c.key)?.runner.section.plugin.name;
    const who = `${jobName(c.key)}${plugin !== undefined && plugin !== c.key ? ` (plugin ${plugin})` : ''}`;
    const how = c.syncMs >= 1 ? `${Math.round(c.syncMs)} ms of its ${Math.round(c.runMs)} ms run went by before it first waited on anything` : `its run took ${Math.round(c.runMs)} ms`;
    return `Likely cause: ${who}, whose run was going on then (${how}); a collector must await its I/O and split long work, not compute or read synchronously for that long.`;
  }

  get current(): AgentConfig {
    return this.config;
  }

  /** Where state is kept: state_dir, or the per-user directory when that was not writable. */
  get stateDir(): string {
    return this.pipeline.stateDir;
  }

  async start(loaded: LoadedConfig): Promise<void> {
    this.config = loaded.config;
    this.pipeline.parsers = loaded.registry.parsers;
    this.strayErrors.setPluginFiles(pluginFilesOf(loaded.registry.sources));
    reportLoad(loaded, this.log);
    try {
      this.pipeline.openStateDir(loaded.config.state_dir);
    } catch (err) {
      this.log.error(`${(err as Error).message}; running without a disk spool`);
    }
    await this.pipeline.setNaming(loaded.config);
    for (const h of loaded.config.handlers) if (h.enabled) this.pipeline.addHandler(h);
    for (const c of loaded.config.collectors) if (c.enabled) this.addCollector(c);
    this.addSelfMetrics();
    const enabled = loaded.config.collectors.filter((c) => c.enabled).map((c) => c.key);
    this.settler.expect(enabled);
    const handlers = loaded.config.handlers.filter((h) => h.enabled).map((h) => h.key);
    this.log.info({ collectors: enabled, handlers, config: loaded.config.files }, `sonde started: collectors ${enabled.join(', ') || 'none'}; handlers ${handlers.join(', ') || 'none'}`);
    if (handlers.length === 0) this.log.warn(noHandlerHint(loaded.config.files, 'agent'));
  }

  private addCollector(section: CollectorSection): void {
    const throttle = this.pipeline.throttle;
    const runner = this.pipeline.runner(section, this.config, { forgetAfter: Math.max(10 * section.interval, 300_000) });
    const slot: CollectorSlot = { runner, lastSamples: 0 };
    this.collectors.set(section.key, slot);
    this.scheduler.add({
      key: section.key,
      interval: section.interval,
      timeout: section.timeout,
      run: async (window, signal) => {
        try {
          // The runner counts and reports what it refused (invalid emits, names past the cap).
          const r = await runner.run(window, signal);
          slot.lastSamples = r.samples.length;
          this.pipeline.route(r.samples);
          if (r.error) throw r.error;
          throttle.clear(`error:${section.key}`);
        } finally {
          this.settler.ran(section.key);
        }
      },
    });
  }

  private addSelfMetrics(): void {
    const sm = this.config.self_metrics;
    if (!sm.enabled) return;
    const interval = sm.interval;
    this.scheduler.add({
      key: SELF_JOB,
      interval,
      timeout: interval,
      run: async (window) => {
        const collectors = [...this.collectors.entries()].map(([key, s]) => ({
          key,
          stats: this.scheduler.stats(key) ?? { runs: 0, timeouts: 0, errors: 0, skipped: 0, lastDurationMs: 0 },
          lastSamples: s.lastSamples,
          invalidValues: s.runner.totals.invalidValues,
          namesRefused: s.runner.totals.namesRefused,
          uncaughtErrors: this.strayErrors.byCollector.get(key) ?? 0,
        }));
        const handlers = [...this.pipeline.handlers.entries()].map(([key, h]) => ({ key, depth: h.outbox.depth, spooled: h.outbox.spooled, stats: h.outbox.stats }));
        this.pipeline.route(this.selfMetrics.collect(window, collectors, handlers, { uncaughtErrors: this.strayErrors.total }));
      },
    });
  }

  /** Reloads the config (SIGHUP). An invalid config is logged and the running one kept. */
  reload(): Promise<boolean> {
    // Reloads run one at a time; a SIGHUP during a reload waits for it.
    const next = (this.reloading ?? Promise.resolve(true)).then(() => this.doReload());
    this.reloading = next;
    return next;
  }

  private async doReload(): Promise<boolean> {
    if (this.stopping) return false;
    let loaded: LoadedConfig;
    try {
      loaded = await loadConfig(this.configPath);
    } catch (err) {
      if (err instanceof ConfigError || err instanceof YamlSyntaxError) {
        for (const line of err.message.split('\n')) this.log.error(line);
        this.log.error(`config reload rejected: ${this.configPath} has errors (above); still running the previous config`);
        return false;
      }
      throw err;
    }
    try {
      loaded = this.adjust(loaded);
    } catch (err) {
      this.log.error(`config reload rejected: ${(err as Error).message}; still running the previous config`);
      return false;
    }
    reportLoad(loaded, this.log);
    this.strayErrors.setPluginFiles(pluginFilesOf(loaded.registry.sources));
    this.pipeline.resetRouting();
    const old = this.config;
    const cfg = loaded.config;
    this.config = cfg;
    this.pipeline.parsers = loaded.registry.parsers;
    this.log.level = cfg.log_level;
    await this.pipeline.setNaming(cfg);
    const rootsChanged = old.proc_root !== cfg.proc_root || old.sys_root !== cfg.sys_root;

    // Handlers: keep unchanged ones; a changed one gets a new instance that inherits the old queue.
    const wanted = new Map(cfg.handlers.filter((h) => h.enabled).map((h) => [h.key, h]));
    for (const [key, slot] of [...this.pipeline.handlers]) {
      const next = wanted.get(key);
      if (next && next.fingerprint === slot.section.fingerprint) continue;
      this.pipeline.removeHandler(key);
      const replacement = next ? this.pipeline.addHandler(next) : undefined;
      const backlog = await slot.outbox.detach();
      if (replacement) {
        replacement.outbox.prepend(backlog);
        this.log.info({ handler: key, carried: backlog.length }, `handler ${key}: config changed; restarted with its ${backlog.length} queued samples`);
      } else if (backlog.length > 0) {
        // Removed: give it the shutdown deadline to send what it holds.
        void this.retire(slot, backlog);
      } else {
        this.log.info({ handler: key }, `handler ${key}: removed`);
      }
      await slot.close().catch((err: Error) => this.log.warn({ handler: key }, `handler ${key}: close failed: ${err.message}`));
    }
    for (const [key, section] of wanted) if (!this.pipeline.handlers.has(key)) this.pipeline.addHandler(section);

    // Collectors: restart changed ones (their rate baselines start over), keep the others running.
    const wantedC = new Map(cfg.collectors.filter((c) => c.enabled).map((c) => [c.key, c]));
    for (const [key, slot] of [...this.collectors]) {
      const next = wantedC.get(key);
      if (next && next.fingerprint === slot.runner.section.fingerprint && !rootsChanged) continue;
      await this.scheduler.remove(key, next?.timeout ?? 1000);
      this.collectors.delete(key);
      await slot.runner.close().catch((err: Error) => this.log.warn({ collector: key }, `collector ${key}: close failed: ${err.message}`));
      this.log.info({ collector: key }, next ? `collector ${key}: config changed; restarted` : `collector ${key}: removed`);
    }
    const started = [...wantedC.keys()].filter((key) => !this.collectors.has(key));
    for (const key of started) this.addCollector(wantedC.get(key)!);
    this.settler.expect(started);

    await this.scheduler.remove(SELF_JOB);
    this.addSelfMetrics();
    this.log.info({ config: cfg.files }, 'config reloaded');
    return true;
  }

  private async retire(slot: HandlerSlot, backlog: Sample[]): Promise<void> {
    const key = slot.section.key;
    const temp = this.pipeline.slot(slot.section);
    temp.outbox.push(backlog);
    const unsent = await temp.outbox.drain(performance.now() + this.config.shutdown_timeout);
    if (unsent.length > 0) this.log.error({ handler: key, lost: unsent.length }, `handler ${key}: removed from the config with ${unsent.length} samples it could not send in time; they are lost`);
    await temp.close().catch(() => undefined);
  }

  /** Stops collecting, flushes every outbox until shutdown_timeout, closes plugins. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.settler.cancel();
    await this.reloading?.catch(() => undefined);
    const deadline = performance.now() + this.config.shutdown_timeout;
    this.log.info(`stopping: flushing outboxes for up to ${this.config.shutdown_timeout} ms`);
    await this.scheduler.stop(Math.min(2000, this.config.shutdown_timeout / 2));
    await this.pipeline.drain(deadline, (slot, lost) => {
      if (lost > 0) this.log.error({ handler: slot.section.key, lost }, `handler ${slot.section.key}: ${lost} samples could not be sent before shutdown_timeout and are lost (its spool is off or unusable)`);
    });
    await Promise.all([...this.collectors.values()].map((s) => s.runner.close().catch(() => undefined)));
    this.log.info('stopped');
  }
}

/** The default `settleHeap`: one full garbage collection, its time at debug level. */
function settle(log: Logger): void {
  const t0 = performance.now();
  if (collectGarbage()) log.debug(`start-up settled: one full garbage collection (${(performance.now() - t0).toFixed(1)} ms) frees what loading the config and the first runs left`);
}
