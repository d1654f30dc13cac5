// Turning structured names into safe path segments and dotted Graphite paths.
import type { MetricName } from './sample.js';

// Letters, digits and a few punctuation marks that mean nothing to Graphite, StatsD or a shell.
// Everything else, including `.`, whitespace, `;`, `/`, `*`, `{`, `}`, `[`, `]`, `(`, `)` and
// non-ASCII, becomes `_` so that a name can never split into two metrics or a glob on the wire.
const SAFE_SEGMENT = /^[A-Za-z0-9_\-:@+=~]+$/;
const UNSAFE_CHAR = /[^A-Za-z0-9_\-:@+=~]/g;

/** Makes one path segment safe; an empty segment becomes `_`. */
export function sanitizeSegment(raw: string): string {
  if (SAFE_SEGMENT.test(raw)) return raw;
  if (raw.length === 0) return '_';
  return raw.replace(UNSAFE_CHAR, '_');
}

/**
 * Splits a dotted name (`total.user`) into sanitised segments. Empty parts (`a..b`, a trailing
 * dot) are dropped rather than kept as empty segments; a name with no parts at all becomes `_`.
 */
export function splitDotted(name: string): string[] {
  const parts = name.split('.');
  const out: string[] = [];
  for (const p of parts) {
    if (p.length > 0) out.push(sanitizeSegment(p));
  }
  if (out.length === 0) out.push('_');
  return out;
}

/** Sanitises a dotted prefix such as `servers` or `servers.dc1`, keeping its dots as separators. */
export function sanitizeDottedPrefix(prefix: string): string {
  return splitDotted(prefix).join('.');
}

export interface PathOptions {
  /** e.g. `servers`; may itself contain dots. Empty string for none. */
  readonly prefix: string;
  /** The host segment; undefined when hostname_method is `none`. */
  readonly host: string | undefined;
  /** Inserted after the host, e.g. `prod`; empty for none. */
  readonly suffix: string;
}

/**
 * Renders metric names as dotted Graphite paths, Diamond's layout:
 * `<prefix>.<host>[.<suffix>].<collector>[.<instance>].<segments...>`.
 * A cache keyed by the interned name object keeps the hot path free of string building.
 */
export class PathRenderer {
  private readonly head: string;
  private readonly cache = new WeakMap<MetricName, string>();

  constructor(opts: PathOptions) {
    const parts: string[] = [];
    if (opts.prefix) parts.push(sanitizeDottedPrefix(opts.prefix));
    if (opts.host !== undefined) parts.push(sanitizeSegment(opts.host));
    if (opts.suffix) parts.push(sanitizeDottedPrefix(opts.suffix));
    this.head = parts.join('.');
  }

  render(name: MetricName): string {
    let path = this.cache.get(name);
    if (path === undefined) {
      path = this.head.length > 0 ? `${this.head}.${relativePath(name)}` : relativePath(name);
      this.cache.set(name, path);
    }
    return path;
  }
}

/** The part of a path below host and suffix: `cpu.total.user`, `mysql.m1.Threads_connected`. */
export function relativePath(name: MetricName): string {
  const head = name.instance === undefined ? name.collector : name.collector === '' ? name.instance : `${name.collector}.${name.instance}`;
  // An empty collector path (the logs collector: each file's own name is the path) adds nothing.
  if (head === '') return name.segments.join('.');
  return name.segments.length > 0 ? `${head}.${name.segments.join('.')}` : head;
}

/** Interns names: the same (collector, instance, name) gives the same object every time. */
export class NameTable {
  // Names emitted without an instance (most) are found without building a key string:
  // dotted names by the string itself, one- and two-segment arrays through nested maps.
  private readonly dotted = new Map<string, MetricName>();
  private readonly bySegments = new Map<string, { one?: MetricName; two: Map<string, MetricName> }>();
  private readonly byKey = new Map<string, MetricName>();
  private readonly collectorPath: string;
  private count = 0;

  constructor(
    collector: string,
    private readonly instance: string | undefined = undefined,
  ) {
    // An empty path (the logs collector, whose entries name their own) stays empty.
    this.collectorPath = collector === '' ? '' : sanitizeDottedPrefix(collector);
  }

  /** A dotted string is split on its dots; an array is taken as literal segments. */
  get(name: string | readonly string[], instance: string | undefined = this.instance): MetricName {
    if (instance === undefined) {
      if (typeof name === 'string') {
        let n = this.dotted.get(name);
        if (n === undefined) this.dotted.set(name, (n = this.make(splitDotted(name), undefined)));
        return n;
      }
      if (name.length === 1 || name.length === 2) {
        let level = this.bySegments.get(name[0]!);
        if (level === undefined) this.bySegments.set(name[0]!, (level = { two: new Map() }));
        if (name.length === 1) return (level.one ??= this.make(name.map(sanitizeSegment), undefined));
        let n = level.two.get(name[1]!);
        if (n === undefined) level.two.set(name[1]!, (n = this.make(name.map(sanitizeSegment), undefined)));
        return n;
      }
    }
    const key = typeof name === 'string' ? `${instance ?? ''}\u0000${name}` : `${instance ?? ''}\u0001${name.join('\u0000')}`;
    let interned = this.byKey.get(key);
    if (interned === undefined) {
      const segments = typeof name === 'string' ? splitDotted(name) : name.map(sanitizeSegment);
      this.byKey.set(key, (interned = this.make(segments, instance === undefined ? undefined : sanitizeSegment(instance))));
    }
    return interned;
  }

  private make(segments: string[], instance: string | undefined): MetricName {
    this.count++;
    return Object.freeze({ collector: this.collectorPath, instance, segments: Object.freeze(segments) });
  }

  get size(): number {
    return this.count;
  }
}
