// The sample model: one number at one time under one structured name.

/** `gauge`: a level. `counter`: a running total. `rate`: per second, derived from a counter. */
export type SampleKind = 'gauge' | 'counter' | 'rate';

export const SAMPLE_KINDS: readonly SampleKind[] = ['gauge', 'counter', 'rate'];

/**
 * A structured metric name. Segments are already sanitised (see naming.ts), so no segment holds a
 * dot, whitespace or `;`. Names are interned by the collector context: the same object comes back
 * for the same name on every run, which lets handlers cache what they render from it.
 */
export interface MetricName {
  /** The collector's path, e.g. `cpu`, `diskspace`, `sonde`. */
  readonly collector: string;
  /** The instance, e.g. a MySQL instance name; absent for single-instance collectors. */
  readonly instance: string | undefined;
  /** The metric's own path below the collector (and instance), e.g. ['total', 'user']. */
  readonly segments: readonly string[];
}

export interface Sample {
  readonly name: MetricName;
  readonly value: number;
  readonly kind: SampleKind;
  /** Unix time in milliseconds. Every sample of one collector run carries the same timestamp. */
  readonly timestamp: number;
  /** Decimal places on the wire (Diamond's precision); undefined means the shortest exact form. */
  readonly precision: number | undefined;
}
