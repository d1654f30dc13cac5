// What every format of the http handler is: a batch in, one request body out.
import type { MetricName, Sample } from '../../src/plugin-api.js';

export interface BodyEncoder {
  readonly contentType: string;
  /**
   * The body for `batch`. Throws a RejectedSamplesError, before anything is sent, for a sample
   * the format cannot carry (a value JSON or line protocol has no word for).
   */
  encode(batch: readonly Sample[]): string | Uint8Array;
}

/** What an encoder needs to name a sample: sonde's rendered path and the host it belongs to. */
export interface Naming {
  path(name: MetricName): string;
  /** The host tag and label: the handler's `host` option, else the agent's host ('' with none). */
  readonly host: string | undefined;
}
