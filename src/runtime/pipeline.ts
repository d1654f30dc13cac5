// The one wiring of collectors to handlers, shared by `sonde run`, `sonde once` and `sonde
// collect`: the state directory, the metric path renderer, a runner per collector, a slot (outbox
// and spool) per handler, and the router between them. Each command decides only when to run the
// collectors and when to stop.
import path from 'node:path';
import type { AgentConfig, CollectorSection, HandlerSection } from '../config/types.js';
import type { GlobalConfig } from '../config/global-schema.js';
import { HandlerSlot } from '../delivery/handler-slot.js';
import { openSpool } from '../delivery/open-spool.js';
import type { Spool } from '../delivery/spool.js';
import { pluginLogger, pluginThrottle, type Logger } from '../logging/logger.js';
import { LogThrottle } from '../logging/throttle.js';
import { resolveHostname, type ResolvedHostname } from '../model/hostname.js';
import { PathRenderer } from '../model/naming.js';
import type { MetricName, Sample } from '../model/sample.js';
import type { FileReader, ParserDefinition, PluginLogger } from '../plugin-api.js';
import { CollectorRunner } from './collector-runner.js';
import { fileReader } from './file-reader.js';
import { outboxEvents } from './outbox-log.js';
import type { RateTracker } from './rate.js';
import { Router } from './router.js';
import { resolveStateDir } from './state-dir.js';

export type NamingSettings = Pick<GlobalConfig, 'path_prefix' | 'path_suffix' | 'hostname' | 'hostname_method'>;

/**
 * The dotted path of every sample, for the router and for every handler. One object for the life
 * of the pipeline: a reload that changes the naming swaps what it renders with, not the object.
 */
export class MetricPaths {
  private renderer: PathRenderer | undefined;

  render(name: MetricName): string {
    if (this.renderer === undefined) throw new Error('metric paths rendered before the host name was resolved');
    return this.renderer.render(name);
  }

  /** The host segment of every path (undefined with hostname_method: none, or before it is resolved). */
  hostSegment(): string | undefined {
    return this.renderer?.host;
  }

  use(renderer: PathRenderer): void {
    this.renderer = renderer;
  }
}

export interface RunnerOptions {
  /** Rate state shared across runs (`sonde once` restores it from disk); a fresh one by default. */
  readonly rates?: RateTracker;
  /** Forget rate baselines not updated for this long (ms); the agent sets it. */
  readonly forgetAfter?: number;
  /** Keep collector state (log offsets) in the state directory; false for previews. */
  readonly persistent?: boolean;
}

export interface PipelineOptions {
  /**
   * How long a repeated warning is held back (ms); 5 minutes by default. `sonde collect`, a
   * preview watched by a person, uses 0: every run says what is wrong with it.
   */
  readonly throttleMs?: number;
}

export class Pipeline {
  readonly paths = new MetricPaths();
  readonly handlers = new Map<string, HandlerSlot>();
  readonly throttle: LogThrottle;
  private readonly router = new Router(this.paths);
  /** One spool per handler name, kept across reloads so a replaced handler finds its backlog. */
  private readonly spools = new Map<string, Spool | undefined>();
  private naming = '';
  private readonly readers = new Map<string, FileReader>();
  /** Where collectors keep offsets and handlers their spools; '' when there is none. */
  stateDir = '';
  parsers: ReadonlyMap<string, ParserDefinition> = new Map();

  constructor(
    private readonly log: Logger,
    private readonly opts: PipelineOptions = {},
  ) {
    this.throttle = new LogThrottle(opts.throttleMs);
  }

  /** A plugin's own logger: its repeated warnings are held back as the agent's are. */
  private pluginLog(fields: Record<string, string>): PluginLogger {
    return pluginLogger(this.log.child(fields), pluginThrottle(this.opts.throttleMs));
  }

  /** Uses the configured state directory, or the per-user fallback (logged). Throws when neither is writable. */
  openStateDir(configured: string): string {
    const sd = resolveStateDir(configured);
    if (sd.notice) this.log.info(sd.notice);
    this.stateDir = sd.dir;
    return sd.dir;
  }

  /**
   * Resolves the host name (DNS for `smart` and `fqdn`, bounded to 2 s) and renders paths with
   * it from then on. Does nothing when the naming settings did not change.
   */
  /**
   * Sets the path prefix, host and suffix. `knownFqdn` is an FQDN resolved a moment ago (sonde
   * once keeps one): used instead of DNS when the kernel host name is still the same. Returns the
   * FQDN that the fqdn methods used, when they were followed.
   */
  async setNaming(cfg: NamingSettings, knownFqdn?: ResolvedHostname['fqdn']): Promise<ResolvedHostname['fqdn']> {
    const key = JSON.stringify([cfg.path_prefix, cfg.path_suffix, cfg.hostname, cfg.hostname_method]);
    if (key === this.naming) return undefined;
    const h = await resolveHostname({ hostname: cfg.hostname, method: cfg.hostname_method, timeoutMs: 2000, knownFqdn });
    if (h.warning) this.log.warn(h.warning);
    this.paths.use(new PathRenderer({ prefix: cfg.path_prefix, host: h.host, suffix: cfg.path_suffix }));
    this.naming = key;
    this.router.reset();
    return h.fqdn;
  }

  /** One reader per root for every collector: it keeps /proc files open, one descriptor per file. */
  private reader(root: string): FileReader {
    let r = this.readers.get(root);
    if (r === undefined) this.readers.set(root, (r = fileReader(root)));
    return r;
  }

  runner(section: CollectorSection, roots: Pick<AgentConfig, 'proc_root' | 'sys_root'> & Partial<Pick<AgentConfig, 'max_names_per_collector'>>, opts: RunnerOptions = {}): CollectorRunner {
    return new CollectorRunner(section, {
      proc: this.reader(roots.proc_root),
      sys: this.reader(roots.sys_root),
      log: this.pluginLog({ collector: section.key }),
      maxNames: roots.max_names_per_collector,
      throttle: this.throttle,
      rates: opts.rates,
      forgetAfter: opts.forgetAfter,
      stateDir: opts.persistent === false ? undefined : this.stateDir || undefined,
      parsers: this.parsers,
    });
  }

  private spoolFor(section: HandlerSection): Spool | undefined {
    if (!this.stateDir || !section.outbox.spool) return undefined;
    if (!this.spools.has(section.key)) this.spools.set(section.key, openSpool(this.stateDir, section, this.log));
    const spool = this.spools.get(section.key);
    spool?.setLimits({ maxBytes: section.outbox.spoolMaxBytes, maxAge: section.outbox.spoolMaxAge });
    return spool;
  }

  /** A slot for the section, not routed to (a removed handler finishing its backlog). */
  slot(section: HandlerSection): HandlerSlot {
    const stateDir = this.stateDir ? path.join(this.stateDir, 'handlers', section.key) : undefined;
    return new HandlerSlot(section, this.paths, this.pluginLog({ handler: section.key }), outboxEvents(section.key, this.log, this.throttle), this.spoolFor(section), stateDir);
  }

  /** Adds a handler that the router sends to; `start` begins its send loop now (else at drain). */
  addHandler(section: HandlerSection, start = true): HandlerSlot {
    const slot = this.slot(section);
    this.handlers.set(section.key, slot);
    if (start) slot.outbox.start();
    return slot;
  }

  /** Stops routing to a handler; the caller owns the slot from here (detach, drain, close). */
  removeHandler(key: string): HandlerSlot | undefined {
    const slot = this.handlers.get(key);
    this.handlers.delete(key);
    return slot;
  }

  route(samples: readonly Sample[]): void {
    this.router.route(samples, this.handlers.values());
  }

  /** Forget routing choices (the destinations changed). */
  resetRouting(): void {
    this.router.reset();
  }

  /**
   * Sends what every handler holds until `deadline` (performance.now() ms), then closes them.
   * `drained` hears of each handler, with the samples it could neither send nor spool.
   */
  async drain(deadline: number, drained: (slot: HandlerSlot, lost: number) => void): Promise<void> {
    await Promise.all(
      [...this.handlers.values()].map(async (slot) => {
        const left = await slot.outbox.drain(deadline);
        drained(slot, left.length);
        await slot.close().catch((err: Error) => this.log.warn({ handler: slot.section.key }, `handler ${slot.section.key}: close failed: ${err.message}`));
      }),
    );
    for (const spool of this.spools.values()) spool?.close();
  }
}
