// The parts of a sample's name that the structured formats carry: the rendered path, the host and
// the path below it. Built once per name (names are interned) and kept in a WeakMap.
import type { MetricName } from '../../src/plugin-api.js';

/** `cpu.total.user`, `mysql.m1.Threads_connected`: the path below the host, as sonde renders it. */
export function relativePath(name: MetricName): string {
  const head = name.instance === undefined ? name.collector : name.collector === '' ? name.instance : `${name.collector}.${name.instance}`;
  if (head === '') return name.segments.join('.');
  return name.segments.length > 0 ? `${head}.${name.segments.join('.')}` : head;
}

/**
 * The host of a sample: `known` (the handler's `host` option, or the agent's own host, which the
 * core passes as ctx.host). Only a context without one falls back to reading the rendered path:
 * the segment after path_prefix's first one (`servers.<host>.cpu…`, as Diamond's
 * Metric.getPathPrefix assumes), or the first one when the path has no prefix.
 */
export function hostOf(path: string, name: MetricName, known: string | undefined): string {
  if (known !== undefined) return known;
  const rel = relativePath(name);
  const head = path.length > rel.length && path.endsWith(rel) ? path.slice(0, path.length - rel.length - 1) : '';
  if (head === '') return '';
  const parts = head.split('.');
  return parts.length >= 2 ? parts[1]! : parts[0]!;
}
