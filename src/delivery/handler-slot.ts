// A running handler: its plugin instance (initialised lazily, so an upstream that is down at
// start-up is just a failed send to retry) and its outbox.
import type { HandlerContext, PluginLogger } from '../plugin-api.js';
import type { HandlerSection } from '../config/types.js';
import type { MetricName, Sample } from '../model/sample.js';
import { Outbox, type Backlog, type OutboxEvents } from './outbox.js';

export class HandlerSlot {
  readonly outbox: Outbox;
  private state: unknown = undefined;
  private initialised: Promise<void> | undefined;

  constructor(
    readonly section: HandlerSection,
    private readonly path: (name: MetricName) => string,
    private readonly log: PluginLogger,
    events: OutboxEvents,
    spool?: Backlog,
  ) {
    this.outbox = new Outbox(section.key, section.outbox, (batch, signal) => this.send(batch, signal), events, spool);
  }

  private ctx(signal: AbortSignal): HandlerContext<Record<string, unknown>, unknown> {
    return { config: this.section.config, state: this.state, path: this.path, signal, log: this.log };
  }

  private async send(batch: readonly Sample[], signal: AbortSignal): Promise<void> {
    const plugin = this.section.plugin;
    if (plugin.init && this.initialised === undefined) {
      this.initialised = (async () => {
        this.state = await plugin.init!({ ...this.ctx(signal), state: undefined });
      })();
      // A failed init is tried again with the next send.
      this.initialised.catch(() => (this.initialised = undefined));
    }
    if (this.initialised) await this.initialised;
    await plugin.send(batch, this.ctx(signal));
  }

  async close(): Promise<void> {
    if (!this.section.plugin.close) return;
    if (this.section.plugin.init && this.initialised === undefined) return;
    try {
      await this.initialised;
    } catch {
      return;
    }
    await this.section.plugin.close(this.ctx(new AbortController().signal));
  }
}
