// Turning structured names into safe path segments and dotted Graphite paths.
import type { MetricName } from './sample.js';

/**
 * The characters a name segment keeps; every other one becomes `_`. One set per wire: the agent's
 * and Graphite's, and narrower ones where a wire gives some of its characters a meaning.
 */
export interface SegmentCharset {
  /** A whole segment made only of kept characters. */
  readonly segment: RegExp;
  /** A whole dotted name of such segments, one dot between each (no empty segment). */
  readonly dotted: RegExp;
  /** One character that is not kept (global, for replace). */
  readonly unsafe: RegExp;
}

function charset(chars: string): SegmentCharset {
  return { segment: new RegExp(`^[${chars}]+$`), dotted: new RegExp(`^[${chars}]+(?:\\.[${chars}]+)*$`), unsafe: new RegExp(`[^${chars}]`, 'g') };
}

// Letters, digits and a few punctuation marks that mean nothing to Graphite or a shell.
// Everything else, including `.`, whitespace, `;`, `/`, `*`, `{`, `}`, `[`, `]`, `(`, `)`, `|` and
// non-ASCII, becomes `_` so that a name can never split into two metrics or a glob on the wire.
export const GRAPHITE_CHARS = charset('A-Za-z0-9_\\-:@+=~');
/** StatsD's lines are `name:value|type|@rate`: there `:` and `@` become `_` too. */
export const STATSD_CHARS = charset('A-Za-z0-9_\\-+=~');

/** Makes one path segment safe for Graphite and the agent; an empty segment becomes `_`. */
export function sanitizeSegment(raw: string): string {
  return sanitizeSegmentIn(raw, GRAPHITE_CHARS);
}

/** Makes one path segment safe for the wire of `cs`; an empty segment becomes `_`. */
export function sanitizeSegmentIn(raw: string, cs: SegmentCharset): string {
  if (cs.segment.test(raw)) return raw;
  if (raw.length === 0) return '_';
  return raw.replace(cs.unsafe, '_');
}

/**
 * Splits a dotted name (`total.user`) into sanitised segments. Empty parts (`a..b`, a trailing
 * dot) are dropped rather than kept as empty segments; a name with no parts at all becomes `_`.
 */
export function splitDotted(name: string, cs: SegmentCharset = GRAPHITE_CHARS): string[] {
  const parts = name.split('.');
  const out: string[] = [];
  for (const p of parts) {
    if (p.length > 0) out.push(sanitizeSegmentIn(p, cs));
  }
  if (out.length === 0) out.push('_');
  return out;
}

/**
 * A dotted name made safe, its dots kept as separators: what `splitDotted` gives, joined. A name
 * that is safe already comes back as it is, without building a string.
 */
export function sanitizeDotted(name: string, cs: SegmentCharset = GRAPHITE_CHARS): string {
  return cs.dotted.test(name) ? name : splitDotted(name, cs).join('.');
}

/** Sanitises a dotted prefix such as `servers` or `servers.dc1`, keeping its dots as separators. */
export function sanitizeDottedPrefix(prefix: string): string {
  return sanitizeDotted(prefix);
}

/**
 * A dotted path (a Graphite path, a prefix) made safe for a StatsD line, `name:value|type`: what
 * Graphite keeps but StatsD reads as syntax (`:`, `@`) becomes `_`, as `|` and whitespace already do.
 */
export function statsdName(path: string): string {
  return sanitizeDotted(path, STATSD_CHARS);
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
  /** The host segment as it appears in every path (sanitised); undefined without one. */
  readonly host: string | undefined;

  constructor(opts: PathOptions) {
    this.host = opts.host !== undefined ? sanitizeSegment(opts.host) : undefined;
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

/** Why `NameTable.intern` refused a name. */
export type NameRefusal =
  /** The table holds `maxNames` names already. */
  | 'full'
  /** Empty, only dots, or an array with no non-empty segment. */
  | 'empty'
  /** Not a string or an array of strings. */
  | 'not-text'
  /** An instance that is not a non-empty string. */
  | 'bad-instance';

export interface NameTableOptions {
  /**
   * `intern` refuses new names past this many, so that a plugin making a new name on every call
   * cannot grow the agent's memory without bound. Unbounded by default.
   */
  readonly maxNames?: number;
  /**
   * Hears, once per path, of two different names that sanitise to it (`a b` and `a_b`): their
   * samples would land on one metric. Names are shown as written, the path below the host.
   */
  readonly onCollision?: (first: string, second: string, path: string) => void;
}

/** Marks a path in `origins` whose collision was reported already. */
const REPORTED = '\u0002';

/** Interns names: the same (collector, instance, name) gives the same object every time. */
export class NameTable {
  // Names emitted without an instance (most) are found without building a key string:
  // dotted names by the string itself, one- and two-segment arrays through nested maps.
  private readonly dotted = new Map<string, MetricName>();
  private readonly bySegments = new Map<string, { one?: MetricName; two: Map<string, MetricName> }>();
  private readonly byKey = new Map<string, MetricName>();
  /** Sanitised path -> the name first made into it, as written; kept only to report collisions. */
  private readonly origins: Map<string, string> | undefined;
  private readonly onCollision: NameTableOptions['onCollision'];
  private readonly collectorPath: string;
  readonly maxNames: number;
  private count = 0;

  constructor(
    collector: string,
    private readonly instance: string | undefined = undefined,
    opts: NameTableOptions = {},
  ) {
    // An empty path (the logs collector, whose entries name their own) stays empty.
    this.collectorPath = collector === '' ? '' : sanitizeDottedPrefix(collector);
    this.maxNames = opts.maxNames ?? Infinity;
    this.onCollision = opts.onCollision;
    this.origins = opts.onCollision === undefined ? undefined : new Map();
  }

  /**
   * For sonde's own names, which the config bounds: never refused (an empty name becomes `_`).
   * A dotted string is split on its dots; an array is taken as literal segments.
   */
  get(name: string | readonly string[], instance: string | undefined = this.instance): MetricName {
    return this.find(name, instance, false) as MetricName;
  }

  /**
   * For a plugin's names, as `get`, but refuses (and says why) a name that is not text or has no
   * segment, an instance that is not a non-empty string, and any new name once `maxNames` are
   * held. Names already held keep working. The checks run only for names not seen before.
   */
  intern(name: string | readonly string[], instance: string | undefined = this.instance): MetricName | NameRefusal {
    // Plugins are JavaScript: the types say nothing about what they pass.
    if (typeof name !== 'string' && !Array.isArray(name)) return 'not-text';
    if (instance !== undefined && (typeof instance !== 'string' || instance.length === 0)) return 'bad-instance';
    return this.find(name, instance, true);
  }

  private find(name: string | readonly string[], instance: string | undefined, strict: boolean): MetricName | NameRefusal {
    if (instance === undefined) {
      if (typeof name === 'string') {
        const n = this.dotted.get(name);
        if (n !== undefined) return n;
        const made = this.make(name, undefined, strict);
        if (typeof made !== 'string') this.dotted.set(name, made);
        return made;
      }
      if (name.length === 1 || name.length === 2) {
        const first = name[0]!;
        const level = this.bySegments.get(first);
        const found = name.length === 1 ? level?.one : level?.two.get(name[1]!);
        if (found !== undefined) return found;
        const made = this.make(name, undefined, strict);
        if (typeof made === 'string') return made;
        // Made only for a name that was accepted: refused names leave nothing behind.
        let l = level;
        if (l === undefined) this.bySegments.set(first, (l = { two: new Map() }));
        if (name.length === 1) l.one = made;
        else l.two.set(name[1]!, made);
        return made;
      }
    }
    const key = typeof name === 'string' ? `${instance ?? ''}\u0000${name}` : `${instance ?? ''}\u0001${name.join('\u0000')}`;
    const found = this.byKey.get(key);
    if (found !== undefined) return found;
    const made = this.make(name, instance, strict);
    if (typeof made !== 'string') this.byKey.set(key, made);
    return made;
  }

  private make(raw: string | readonly string[], instance: string | undefined, strict: boolean): MetricName | NameRefusal {
    if (strict) {
      const problem = unusable(raw);
      if (problem !== undefined) return problem;
      if (this.count >= this.maxNames) return 'full';
    }
    const segments = typeof raw === 'string' ? splitDotted(raw) : raw.map(sanitizeSegment);
    const inst = instance === undefined ? undefined : sanitizeSegment(instance);
    const name: MetricName = Object.freeze({ collector: this.collectorPath, instance: inst, segments: Object.freeze(segments) });
    if (this.origins !== undefined) this.noteOrigin(this.origins, raw, instance, name);
    this.count++;
    return name;
  }

  /** Reports a second, different name written into the path of one made before. */
  private noteOrigin(origins: Map<string, string>, raw: string | readonly string[], instance: string | undefined, name: MetricName): void {
    // As written, split as splitDotted splits: `a.b`, `a..b` and ['a', 'b'] are one name, not a collision.
    const written = typeof raw === 'string' ? raw.split('.').filter((p) => p.length > 0) : raw;
    const origin = `${instance ?? ''}\u0001${written.join('\u0000')}`;
    const key = pathKey(name);
    const before = origins.get(key);
    if (before === undefined) origins.set(key, origin);
    else if (before !== origin && before !== REPORTED) {
      origins.set(key, REPORTED);
      this.onCollision?.(showOrigin(before), showOrigin(origin), relativePath(name));
    }
  }

  /**
   * Forgets every name `keep` refuses, making room below `maxNames` (the runner keeps the names
   * of its last run when the table is full, so names that are gone stop holding places).
   */
  retain(keep: (name: MetricName) => boolean): void {
    let count = 0;
    const kept = this.origins === undefined ? undefined : new Set<string>();
    const held = (n: MetricName): boolean => {
      if (!keep(n)) return false;
      count++;
      kept?.add(pathKey(n));
      return true;
    };
    for (const [k, n] of this.dotted) if (!held(n)) this.dotted.delete(k);
    for (const [k, level] of this.bySegments) {
      if (level.one !== undefined && !held(level.one)) delete level.one;
      for (const [k2, n] of level.two) if (!held(n)) level.two.delete(k2);
      if (level.one === undefined && level.two.size === 0) this.bySegments.delete(k);
    }
    for (const [k, n] of this.byKey) if (!held(n)) this.byKey.delete(k);
    if (this.origins !== undefined) for (const k of this.origins.keys()) if (!kept!.has(k)) this.origins.delete(k);
    this.count = count;
  }

  get size(): number {
    return this.count;
  }
}

/** Why a plugin's name cannot be made into a path, or undefined when it can. */
function unusable(raw: string | readonly string[]): NameRefusal | undefined {
  if (typeof raw === 'string') {
    for (let i = 0; i < raw.length; i++) if (raw.charCodeAt(i) !== 46 /* . */) return undefined;
    return 'empty';
  }
  let usable = false;
  // for...of visits the holes of a sparse array too (as undefined).
  for (const s of raw as readonly unknown[]) {
    if (typeof s !== 'string') return 'not-text';
    if (s.length > 0) usable = true;
  }
  return usable ? undefined : 'empty';
}

function pathKey(n: MetricName): string {
  return `${n.instance ?? ''}\u0001${n.segments.join('.')}`;
}

/** A name as written, for a message: `total.user`, or its segments when one holds a dot. */
function showOrigin(origin: string): string {
  const cut = origin.indexOf('\u0001');
  const instance = origin.slice(0, cut);
  const segments = origin.slice(cut + 1).split('\u0000');
  const name = segments.some((s) => s.includes('.')) ? JSON.stringify(segments) : JSON.stringify(segments.join('.'));
  return instance === '' ? name : `${name} (instance ${JSON.stringify(instance)})`;
}
