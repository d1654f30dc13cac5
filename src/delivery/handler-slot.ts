// A running handler: the plugin at work and the outbox that feeds it. The outbox calls the
// plugin's send; nothing calls back into the outbox from the plugin's side.
import type { HandlerSection } from '../config/types.js';
import type { PluginLogger } from '../plugin-api.js';
import { HandlerInstance, type PathSource } from './handler-instance.js';
import { Outbox, type Backlog, type OutboxEvents } from './outbox.js';

export type { PathSource } from './handler-instance.js';

export class HandlerSlot {
  readonly outbox: Outbox;
  private readonly handler: HandlerInstance;

  constructor(
    readonly section: HandlerSection,
    paths: PathSource,
    log: PluginLogger,
    /** What the outbox reports; the router reports a fault while routing to this slot here too. */
    readonly events: OutboxEvents,
    spool?: Backlog,
    stateDir?: string,
  ) {
    this.handler = new HandlerInstance(section, paths, log, stateDir);
    this.outbox = new Outbox(section.key, section.outbox, (batch, signal) => this.handler.send(batch, signal), events, spool);
  }

  /** Closes the plugin (its connections); the outbox must have been drained or detached first. */
  close(): Promise<void> {
    return this.handler.close();
  }
}
