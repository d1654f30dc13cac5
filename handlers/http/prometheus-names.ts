// Prometheus' naming rules: a metric name matches [a-zA-Z_:][a-zA-Z0-9_:]*, a label name
// [a-zA-Z_][a-zA-Z0-9_]*, and label names that begin with `__` are reserved for Prometheus itself.
// `:` is left to recording rules, so sonde writes `_` for it and for every other character.
import type { MetricName } from '../../src/plugin-api.js';

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const UNSAFE = /[^a-zA-Z0-9_]/g;

/** `cpu.total.user` → `cpu_total_user`; the collector and the path below it, the instance left for its label. */
export function promMetricName(name: MetricName): string {
  const parts = name.collector !== '' ? [name.collector, ...name.segments] : [...name.segments];
  const joined = parts.join('_').replace(UNSAFE, '_');
  if (joined === '') return '_';
  const c = joined.charCodeAt(0);
  return c >= 48 && c <= 57 ? `_${joined}` : joined;
}

/**
 * Why `label` cannot carry sonde's instance, or undefined when it can. `instance` and `job` are the
 * ones Prometheus sets on what it scrapes; a remote-write sender that used them would be mistaken
 * for a scrape target (and `host` is sonde's own).
 */
export function instanceLabelProblem(label: string): string | undefined {
  if (!LABEL_NAME.test(label)) return `"${label}" is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)`;
  if (label.startsWith('__')) return `"${label}" begins with "__", which Prometheus reserves for itself`;
  if (label === 'instance' || label === 'job') return `"${label}" is what Prometheus sets on its scrape targets; choose another name, such as sonde_instance`;
  if (label === 'host') return '"host" already carries the host name';
  return undefined;
}
