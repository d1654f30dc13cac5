// The long-running agent: collectors on the scheduler, samples through the router to one outbox
// per handler, self-metrics, SIGHUP reloads and a flushing shutdown.
import { CollectorRunner } from './collector-runner.js';
import { ConfigError } from '../config/read-files.js';
import { DEFAULT_PLUGIN_PATHS, loadConfig, type LoadedConfig } from '../config/load-config.js';
import type { AgentConfig, CollectorSection, HandlerSection } from '../config/types.js';
import { fileReader } from './file-reader.js';
import { HandlerSlot } from '../delivery/handler-slot.js';
import { resolveHostname } from '../model/hostname.js';
import { LogThrottle } from '../logging/throttle.js';
import { pluginLogger, type Logger } from '../logging/logger.js';
import { PathRenderer } from '../model/naming.js';
import type { OutboxEvents } from '../delivery/outbox.js';
import type { ParserDefinition } from '../plugin-api.js';
import type { Sample } from '../model/sample.js';
import { Scheduler } from './scheduler.js';
import { SelfMetrics } from './self-metrics.js';
import { YamlSyntaxError } from '../config/yaml-source.js';
import { openSpool } from '../delivery/open-spool.js';
import type { Spool } from '../delivery/spool.js';
import { resolveStateDir } from './state-dir.js';
import { Router } from './router.js';

const SELF_JOB = '\u0000sonde';

interface CollectorSlot {
  readonly runner: CollectorRunner;
  lastSamples: number;
  invalidValues: number;
}

/** Logs what loading found that does not stop the agent. */
export function reportLoad(loaded: LoadedConfig, log: Logger): void {
  for (const f of loaded.registry.failures) log.error({ file: f.file }, `plugin not loaded: ${f.file}: ${f.reason}`);
  for (const p of loaded.plugins.loaded) log.info({ file: p.file }, `loaded ${p.kind} plugin "${p.name}" from ${p.file}`);
  if (loaded.pluginPathsConfigured) {
    // The default directory may well not exist; only a directory the operator named is worth a warning.
    for (const d of loaded.plugins.missingDirs) if (!DEFAULT_PLUGIN_PATHS.includes(d)) log.warn(`plugin directory ${d} (plugin_paths) does not exist or is not readable; no plugins loaded from it`);
  }
  for (const w of loaded.config.warnings) log.warn(w);
}

export function outboxEvents(key: string, log: Logger, throttle: LogThrottle): OutboxEvents {
  return {
    sendFailed(err, attempt, retryInMs) {
      const t = throttle.check(`send:${key}`);
      if (!t.log) return;
      log.error(
        { handler: key, attempt, retry_in_ms: retryInMs, held_back: t.suppressed },
        `handler ${key}: send failed: ${err.message}; samples stay queued and are retried (attempt ${attempt}, next in ${Math.round(retryInMs / 100) / 10} s)`,
      );
    },
    recovered(afterAttempts) {
      throttle.clear(`send:${key}`);
      log.info({ handler: key }, `handler ${key}: sending again after ${afterAttempts} failed attempts`);
    },
    resending(count, windowMs) {
      const t = throttle.check(`resend:${key}`);
      if (t.log) log.warn({ handler: key, resending: count }, `handler ${key}: the connection broke; the ${count} samples written in the ${Math.round(windowMs / 100) / 10} s before it are sent again (the upstream acknowledges nothing and may not have stored them)`);
    },
    spooled(count, why) {
      const t = throttle.check(`spool:${key}:${why}`);
      if (t.log) log.warn({ handler: key, spooled: count }, why === 'full' ? `handler ${key}: outbox full; ${count} samples written to the disk spool (sent first once the upstream accepts again)` : `handler ${key}: ${count} samples not sent by shutdown were written to the disk spool; they are sent first on the next start`);
    },
    torn(file, bytes) {
      log.warn({ handler: key, file, bytes }, `handler ${key}: spool file ${file} ended in a torn record (${bytes} bytes, a crash while writing); the whole records before it are sent`);
    },
    spoolDropped(d) {
      log.error({ handler: key, dropped: d.samples, reason: d.reason }, `handler ${key}: spool ${d.reason === 'size' ? 'full (spool_max_bytes)' : 'too old (spool_max_age)'}; dropped its ${d.samples} oldest samples`);
    },
    dropped(count, total) {
      const t = throttle.check(`drop:${key}`);
      if (!t.log) return;
      log.error(
        { handler: key, dropped: count, dropped_total: total },
        `handler ${key}: outbox full; dropped the ${count} oldest samples (${total} since start). The upstream is down or slower than collection: fix it or raise queue_size`,
      );
    },
  };
}

export class Agent {
  private config!: AgentConfig;
  private renderer!: PathRenderer;
  private readonly scheduler: Scheduler;
  private readonly handlers = new Map<string, HandlerSlot>();
  private readonly collectors = new Map<string, CollectorSlot>();
  private readonly throttle = new LogThrottle();
  private readonly selfMetrics = new SelfMetrics();
  /** One spool per handler name, kept across reloads so a replaced handler finds its backlog. */
  private readonly spools = new Map<string, Spool | undefined>();
  private stateDir = '';
  private parsers: ReadonlyMap<string, ParserDefinition> = new Map();
  private readonly router = new Router((name) => this.renderer.render(name));
  private reloading: Promise<boolean> | undefined;
  private stopping = false;

  constructor(
    private readonly configPath: string,
    private readonly log: Logger,
  ) {
    this.scheduler = new Scheduler({
      timeout: (key, ms) => {
        const t = this.throttle.check(`timeout:${key}`);
        if (t.log) log.warn({ collector: key, held_back: t.suppressed }, `collector ${key}: run abandoned after its timeout of ${ms} ms; its samples for this window are lost. Raise timeout or find what it waits on`);
      },
      error: (key, err) => {
        const t = this.throttle.check(`error:${key}`);
        if (t.log) log.error({ collector: key, held_back: t.suppressed, err }, `collector ${key}: ${err.message}`);
      },
      skipped: (key, count, why) => {
        const t = this.throttle.check(`skip:${key}:${why}`);
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
    this.parsers = loaded.registry.parsers;
    reportLoad(loaded, this.log);
    try {
      const sd = resolveStateDir(loaded.config.state_dir);
      if (sd.notice) this.log.info(sd.notice);
      this.stateDir = sd.dir;
    } catch (err) {
      this.log.error(`${(err as Error).message}; running without a disk spool`);
    }
    this.renderer = await this.buildRenderer(loaded.config);
    for (const h of loaded.config.handlers) if (h.enabled) this.addHandler(h);
    for (const c of loaded.config.collectors) if (c.enabled) this.addCollector(c);
    this.addSelfMetrics();
    const enabled = loaded.config.collectors.filter((c) => c.enabled).map((c) => c.key);
    const handlers = loaded.config.handlers.filter((h) => h.enabled).map((h) => h.key);
    this.log.info({ collectors: enabled, handlers, config: loaded.config.files }, `sonde started: collectors ${enabled.join(', ') || 'none'}; handlers ${handlers.join(', ') || 'none'}`);
    if (handlers.length === 0) this.log.warn('no handler is enabled: samples are collected and thrown away. Enable one under handlers: (stdout, graphite, ...)');
  }

  private async buildRenderer(cfg: AgentConfig): Promise<PathRenderer> {
    const h = await resolveHostname({ hostname: cfg.hostname, method: cfg.hostname_method, timeoutMs: 2000 });
    if (h.warning) this.log.warn(h.warning);
    return new PathRenderer({ prefix: cfg.path_prefix, host: h.host, suffix: cfg.path_suffix });
  }

  private route(samples: readonly Sample[]): void {
    this.router.route(samples, this.handlers.values());
  }

  private spoolFor(section: HandlerSection): Spool | undefined {
    if (!this.stateDir || !section.outbox.spool) return undefined;
    if (!this.spools.has(section.key)) this.spools.set(section.key, openSpool(this.stateDir, section, this.log));
    const spool = this.spools.get(section.key);
    spool?.setLimits({ maxBytes: section.outbox.spoolMaxBytes, maxAge: section.outbox.spoolMaxAge });
    return spool;
  }

  private addHandler(section: HandlerSection): HandlerSlot {
    const log = this.log.child({ handler: section.key });
    const slot = new HandlerSlot(section, (name) => this.renderer.render(name), pluginLogger(log), outboxEvents(section.key, this.log, this.throttle), this.spoolFor(section));
    this.handlers.set(section.key, slot);
    slot.outbox.start();
    return slot;
  }

  private addCollector(section: CollectorSection): void {
    const log = this.log.child({ collector: section.key });
    const runner = new CollectorRunner(section, {
      proc: fileReader(this.config.proc_root),
      sys: fileReader(this.config.sys_root),
      log: pluginLogger(log),
      forgetAfter: Math.max(10 * section.interval, 300_000),
      stateDir: this.stateDir || undefined,
      parsers: this.parsers,
    });
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
          const t = this.throttle.check(`invalid:${section.key}`);
          if (t.log) log.warn({ names: r.invalid.slice(0, 10) }, `collector ${section.key}: skipped ${r.invalid.length} NaN or infinite value(s), e.g. ${r.invalid[0]}`);
        }
        this.route(r.samples);
        if (r.error) throw r.error;
        this.throttle.clear(`error:${section.key}`);
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
        const handlers = [...this.handlers.entries()].map(([key, h]) => ({ key, depth: h.outbox.depth, spooled: h.outbox.spooled, stats: h.outbox.stats }));
        this.route(this.selfMetrics.collect(window, collectors, handlers));
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
    this.router.reset();
    const old = this.config;
    const cfg = loaded.config;
    this.config = cfg;
    this.parsers = loaded.registry.parsers;
    this.log.level = cfg.log_level;

    const naming = (c: AgentConfig) => JSON.stringify([c.path_prefix, c.path_suffix, c.hostname, c.hostname_method]);
    if (naming(old) !== naming(cfg)) this.renderer = await this.buildRenderer(cfg);
    const rootsChanged = old.proc_root !== cfg.proc_root || old.sys_root !== cfg.sys_root;

    // Handlers: keep unchanged ones; a changed one gets a new instance that inherits the old queue.
    const wanted = new Map(cfg.handlers.filter((h) => h.enabled).map((h) => [h.key, h]));
    for (const [key, slot] of [...this.handlers]) {
      const next = wanted.get(key);
      if (next && next.fingerprint === slot.section.fingerprint) continue;
      this.handlers.delete(key);
      const replacement = next ? this.addHandler(next) : undefined;
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
    for (const [key, section] of wanted) if (!this.handlers.has(key)) this.addHandler(section);

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
    const temp = new HandlerSlot(slot.section, (name) => this.renderer.render(name), pluginLogger(this.log.child({ handler: key })), outboxEvents(key, this.log, this.throttle), this.spoolFor(slot.section));
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
    await Promise.all(
      [...this.handlers.values()].map(async (slot) => {
        const unsent = await slot.outbox.drain(deadline);
        if (unsent.length > 0) {
          this.log.error({ handler: slot.section.key, lost: unsent.length }, `handler ${slot.section.key}: ${unsent.length} samples could not be sent before shutdown_timeout and are lost (its spool is off or unusable)`);
        }
        await slot.close().catch((err: Error) => this.log.warn(`handler ${slot.section.key}: close failed: ${err.message}`));
      }),
    );
    await Promise.all([...this.collectors.values()].map((s) => s.runner.close().catch(() => undefined)));
    for (const spool of this.spools.values()) spool?.close();
    this.log.info('stopped');
  }
}
