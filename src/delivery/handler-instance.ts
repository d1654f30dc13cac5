// A handler plugin at work: its config, the state its `init` returned (initialised lazily, so an
// upstream that is down at start-up is just a failed send to retry) and the context it gets.
import type { HandlerContext, PluginLogger, SendResult } from '../plugin-api.js';
import type { HandlerSection } from '../config/types.js';
import { inScopeOf, type PluginScope } from '../logging/plugin-scope.js';
import type { MetricName, Sample } from '../model/sample.js';

/** Renders a sample's name as its dotted path (prefix, host, suffix and the name's segments). */
export interface PathSource {
  render(name: MetricName): string;
  hostSegment?(): string | undefined;
}

export class HandlerInstance {
  private state: unknown = undefined;
  private initialised: Promise<void> | undefined;
  /** The handler context's `path`, made once. */
  private readonly path = (name: MetricName): string => this.paths.render(name);
  /** Timers and callbacks the plugin creates inherit it, so a stray error names the handler. */
  private readonly scope: PluginScope;

  constructor(
    readonly section: HandlerSection,
    private readonly paths: PathSource,
    private readonly log: PluginLogger,
    /** `<state_dir>/handlers/<key>`: the handler's own files; undefined without a state dir. */
    private readonly stateDir?: string,
  ) {
    this.scope = { plugin: section.plugin.name };
  }

  private ctx(signal: AbortSignal): HandlerContext<Record<string, unknown>, unknown> {
    return { config: this.section.config, state: this.state, path: this.path, signal, log: this.log, stateDir: this.stateDir, host: this.paths.hostSegment?.() };
  }

  /** Sends one batch through the plugin, initialising it first if it has not been. */
  async send(batch: readonly Sample[], signal: AbortSignal): Promise<SendResult> {
    const plugin = this.section.plugin;
    if (plugin.init && this.initialised === undefined) {
      this.initialised = (async () => {
        this.state = await inScopeOf(plugin, this.scope, () => plugin.init!({ ...this.ctx(signal), state: undefined }));
      })();
      // A failed init is tried again with the next send.
      this.initialised.catch(() => (this.initialised = undefined));
    }
    if (this.initialised) await this.initialised;
    return inScopeOf(plugin, this.scope, () => plugin.send(batch, this.ctx(signal)));
  }

  async close(): Promise<void> {
    if (!this.section.plugin.close) return;
    if (this.section.plugin.init && this.initialised === undefined) return;
    try {
      await this.initialised;
    } catch {
      return;
    }
    const plugin = this.section.plugin;
    await inScopeOf(plugin, this.scope, () => plugin.close!(this.ctx(new AbortController().signal)));
  }
}
