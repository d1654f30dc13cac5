// The long-running agent: collectors on the scheduler feeding the pipeline, self-metrics, SIGHUP
// reloads and a flushing shutdown.
import { ConfigError } from '../config/read-files.js';
import { loadConfig, type LoadedConfig } from '../config/load-config.js';
import type { AgentConfig, CollectorSection } from '../config/types.js';
import { YamlSyntaxError } from '../config/yaml-source.js';
import type { HandlerSlot } from '../delivery/handler-slot.js';
import type { Logger } from '../logging/logger.js';
import type { Sample } from '../model/sample.js';
import type { CollectorRunner } from './collector-runner.js';
import { reportLoad } from './load-report.js';
import { Pipeline } from './pipeline.js';
import { Scheduler } from './scheduler.js';
import { SelfMetrics } from './self-metrics.js';

const SELF_JOB = '\u0000sonde';

interface CollectorSlot {
  readonly runner: CollectorRunner;
  lastSamples: number;
  invalidValues: number;
}

export class Agent {
  private config!: AgentConfig;
  private readonly scheduler: Scheduler;
  private readonly pipeline: Pipeline;
  private readonly collectors = new Map<string, CollectorSlot>();
  private readonly selfMetrics = new SelfMetrics();
  private reloading: Promise<boolean> | undefined;
  private stopping = false;

  constructor(
    private readonly configPath: string,
    private readonly log: Logger,
  ) {
    this.pipeline = new Pipeline(log);
    const throttle = this.pipeline.throttle;
    this.scheduler = new Scheduler({
      timeout: (key, ms) => {
        const t = throttle.check(`timeout:${key}`);
        if (t.log) log.warn({ collector: key, held_back: t.suppressed }, `collector ${key}: run abandoned after its timeout of ${ms} ms; its samples for this window are lost. Raise timeout or find what it waits on`);
      },
      error: (key, err) => {
        const t = throttle.check(`error:${key}`);
        if (t.log) log.error({ collector: key, held_back: t.suppressed, err }, `collector ${key}: ${err.message}`);
      },
      skipped: (key, count, why) => {
        const t = throttle.check(`skip:${key}:${why}`);
        if (!t.log) return;
        if (why === 'stuck') log.warn({ collector: key, held_back: t.suppressed }, `collector ${key}: previous run has still not returned after its timeout; skipping this window rather than starting a second run`);
        else log.warn({ collector: key, windows: count }, `collector ${key}: skipped ${count} window(s): the clock jumped or the host was suspended`);
      },
    });
  }

  get current(): AgentConfig {
    return this.config;
  }

  async start(loaded: LoadedConfig): Promise<void> {
    this.config = loaded.config;
    this.pipeline.parsers = loaded.registry.parsers;
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
    const handlers = loaded.config.handlers.filter((h) => h.enabled).map((h) => h.key);
    this.log.info({ collectors: enabled, handlers, config: loaded.config.files }, `sonde started: collectors ${enabled.join(', ') || 'none'}; handlers ${handlers.join(', ') || 'none'}`);
    if (handlers.length === 0) this.log.warn('no handler is enabled: samples are collected and thrown away. Enable one under handlers: (stdout, graphite, ...)');
  }

  private addCollector(section: CollectorSection): void {
    const log = this.log.child({ collector: section.key });
    const throttle = this.pipeline.throttle;
    const runner = this.pipeline.runner(section, this.config, { forgetAfter: Math.max(10 * section.interval, 300_000) });
    const slot: CollectorSlot = { runner, lastSamples: 0, invalidValues: 0 };
    this.collectors.set(section.key, slot);
    this.scheduler.add({
      key: section.key,
      interval: section.interval,
      timeout: section.timeout,
      run: async (window, signal) => {
        const r = await runner.run(window, signal);
        slot.lastSamples = r.samples.length;
        if (r.invalid.length > 0) {
          slot.invalidValues += r.invalid.length;
          const t = throttle.check(`invalid:${section.key}`);
          if (t.log) log.warn({ names: r.invalid.slice(0, 10) }, `collector ${section.key}: skipped ${r.invalid.length} NaN or infinite value(s), e.g. ${r.invalid[0]}`);
        }
        this.pipeline.route(r.samples);
        if (r.error) throw r.error;
        throttle.clear(`error:${section.key}`);
      },
    });
  }

  private addSelfMetrics(): void {
    const sm = this.config.self_metrics;
    if (!sm.enabled) return;
    const interval = sm.interval ?? this.config.interval;
    this.scheduler.add({
      key: SELF_JOB,
      interval,
      timeout: interval,
      run: async (window) => {
        const collectors = [...this.collectors.entries()].map(([key, s]) => ({
          key,
          stats: this.scheduler.stats(key) ?? { runs: 0, timeouts: 0, errors: 0, skipped: 0, lastDurationMs: 0 },
          lastSamples: s.lastSamples,
          invalidValues: s.invalidValues,
        }));
        const handlers = [...this.pipeline.handlers.entries()].map(([key, h]) => ({ key, depth: h.outbox.depth, spooled: h.outbox.spooled, stats: h.outbox.stats }));
        this.pipeline.route(this.selfMetrics.collect(window, collectors, handlers));
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
    reportLoad(loaded, this.log);
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
    for (const [key, section] of wantedC) if (!this.collectors.has(key)) this.addCollector(section);

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
