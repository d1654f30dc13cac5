// A handler run as the core runs it: its real outbox (and a spool when given one) around its
// send, its context as the core builds it, and what it logs, fails and has refused kept for the
// test. The statsd, http and memcached_queue test helpers are thin layers over this.
import type { OutboxSettings } from '../../src/config/types.js';
import { Outbox, type OutboxEvents } from '../../src/delivery/outbox.js';
import type { Spool } from '../../src/delivery/spool.js';
import type { Sample } from '../../src/model/sample.js';
import type { ConfigSchema, HandlerContext, HandlerDefinition, PluginLogger } from '../../src/plugin-api.js';
import { recordingLog } from './plugin-log.js';

export interface HarnessedHandler {
  push(samples: Sample[]): void;
  readonly outbox: Outbox;
  readonly failures: Error[];
  readonly said: string[];
  /** Samples the outbox dropped as rejected (RejectedSamplesError), with the reason. */
  readonly rejected: { count: number; first: Sample; reason: Error }[];
  /** Sends what is queued (waiting up to `ms`), closes the handler; returns what was left. */
  stop(ms: number): Promise<Sample[]>;
}

export interface HarnessOptions {
  readonly settings: OutboxSettings;
  /** The context members beside config, state, signal and log (path, host, stateDir). */
  readonly context: { path: (n: Sample['name']) => string; host?: string; stateDir?: string };
  readonly spool?: Spool;
}

export function harness<S extends ConfigSchema, State>(def: HandlerDefinition<S, State>, config: Record<string, unknown>, opts: HarnessOptions): HarnessedHandler {
  const cfg = def.schema.parse(config);
  const { log, said } = recordingLog();
  const failures: Error[] = [];
  const rejected: HarnessedHandler['rejected'] = [];
  let state: unknown;
  const ctx = (signal: AbortSignal) => ({ ...opts.context, config: cfg, state, signal, log: log as PluginLogger }) as HandlerContext<typeof cfg, never>;
  const events: OutboxEvents = { sendFailed: (err) => void failures.push(err), recovered() {}, dropped() {}, rejected: (count, first, reason) => void rejected.push({ count, first, reason }) };
  const ob = new Outbox(
    def.name,
    opts.settings,
    async (batch, signal) => {
      state ??= await def.init?.(ctx(signal) as never);
      return def.send(batch, ctx(signal));
    },
    events,
    opts.spool,
  );
  ob.start();
  return {
    push: (s) => ob.push(s),
    outbox: ob,
    failures,
    said,
    rejected,
    async stop(ms) {
      const left = await ob.drain(performance.now() + ms);
      if (state !== undefined) await def.close?.(ctx(new AbortController().signal));
      return left;
    },
  };
}
