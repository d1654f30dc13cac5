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
  // split() gives an array of exactly its length; one grown by push() holds 17 places (~130 bytes
  // more), and the name table keeps one such array for each of its names.
  const parts = name.split('.');
  if (cs.dotted.test(name)) return parts;
  let kept = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.length > 0) parts[kept++] = sanitizeSegmentIn(p, cs);
  }
  if (kept === 0) return ['_'];
  parts.length = kept;
  return parts;
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
      // One join makes one flat string; joining piece by piece would keep a tree of the pieces
      // (about 80 bytes more for each name held here) until the path is first written out.
      const parts: string[] = [];
      if (name.collector !== '') parts.push(name.collector);
      if (name.instance !== undefined) parts.push(name.instance);
      for (let i = 0; i < name.segments.length; i++) parts.push(name.segments[i]!);
      if (this.head.length > 0) parts.unshift(this.head);
      // A name with no part at all keeps the trailing dot relativePath gives it.
      path = parts.length === 0 ? '' : parts.length === 1 && this.head.length > 0 ? `${this.head}.` : parts.join('.');
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

/** Array names, one segment per level: found without joining the segments into a key. */
interface Branch {
  name: MetricName | undefined;
  next: Map<string, Branch> | undefined;
}

/** The names of one instance (or of none). */
interface Scope {
  /** Dotted names, by the string as the plugin wrote it. */
  readonly dotted: Map<string, MetricName>;
  readonly arrays: Branch;
}

function newScope(): Scope {
  return { dotted: new Map(), arrays: { name: undefined, next: undefined } };
}

/** Interns names: the same (collector, instance, name) gives the same object every time. */
export class NameTable {
  // Each emit finds its name by the strings it was given (the instance, the dotted name or each
  // segment), so a name seen before costs no new string: an emit is the agent's hottest path.
  private readonly root = newScope();
  private readonly byInstance = new Map<string, Scope>();
  /** The segments of dotted names made with an instance, by the name as written (see segmentsOf). */
  private readonly sharedSegments = new Map<string, readonly string[]>();
  /**
   * Sanitised instance ('' for none) -> path below it -> the name first made into it, as written,
   * for names not written as their path; kept only to report collisions.
   */
  private readonly origins: Map<string, Map<string, string>> | undefined;
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
    const scope = instance === undefined ? this.root : this.byInstance.get(instance);
    if (typeof name === 'string') {
      const found = scope?.dotted.get(name);
      if (found !== undefined) return found;
      const made = this.make(name, instance, strict);
      // Made only for a name that was accepted: refused names leave nothing behind.
      if (typeof made !== 'string') (scope ?? this.scopeOf(instance!)).dotted.set(name, made);
      return made;
    }
    let branch = scope?.arrays;
    for (let i = 0; i < name.length && branch !== undefined; i++) branch = branch.next?.get(name[i]!);
    if (branch?.name !== undefined) return branch.name;
    const made = this.make(name, instance, strict);
    if (typeof made === 'string') return made;
    let at = (scope ?? this.scopeOf(instance!)).arrays;
    for (let i = 0; i < name.length; i++) {
      const next = (at.next ??= new Map());
      let child = next.get(name[i]!);
      if (child === undefined) next.set(name[i]!, (child = { name: undefined, next: undefined }));
      at = child;
    }
    at.name = made;
    return made;
  }

  /**
   * A name's segments, frozen. The instances of one collector mostly have the same names
   * (mysql.m0.Questions, mysql.m1.Questions): theirs are one array, not one for each instance.
   */
  private segmentsOf(raw: string | readonly string[], instance: string | undefined): readonly string[] {
    if (typeof raw !== 'string') return Object.freeze(raw.map(sanitizeSegment));
    if (instance === undefined) return Object.freeze(splitDotted(raw));
    let segments = this.sharedSegments.get(raw);
    if (segments === undefined) this.sharedSegments.set(raw, (segments = Object.freeze(splitDotted(raw))));
    return segments;
  }

  private scopeOf(instance: string): Scope {
    let s = this.byInstance.get(instance);
    if (s === undefined) this.byInstance.set(instance, (s = newScope()));
    return s;
  }

  private make(raw: string | readonly string[], instance: string | undefined, strict: boolean): MetricName | NameRefusal {
    if (strict) {
      const problem = unusable(raw);
      if (problem !== undefined) return problem;
      if (this.count >= this.maxNames) return 'full';
    }
    const inst = instance === undefined ? undefined : sanitizeSegment(instance);
    const name: MetricName = Object.freeze({ collector: this.collectorPath, instance: inst, segments: this.segmentsOf(raw, instance) });
    if (this.origins !== undefined) this.noteOrigin(this.origins, raw, instance, name);
    this.count++;
    return name;
  }

  /** Reports a second, different name written into the path of one made before. */
  private noteOrigin(origins: Map<string, Map<string, string>>, raw: string | readonly string[], instance: string | undefined, name: MetricName): void {
    // Most names are written as their path; two such names on one path are one name, so only
    // the others are held here. A name written as its path finds itself in the tables instead.
    const asPath = instance === name.instance && (typeof raw === 'string' ? GRAPHITE_CHARS.dotted.test(raw) : raw.every((s, i) => s === name.segments[i]));
    const instanceKey = name.instance ?? '';
    const paths = origins.get(instanceKey);
    if (asPath && paths === undefined) return;
    const path = asPath && typeof raw === 'string' ? raw : name.segments.join('.');
    const before = paths?.get(path);
    if (before === REPORTED) return;
    if (asPath) {
      if (before === undefined) return;
      const written = writtenAs(name.instance, name.segments);
      if (before !== written) this.collided(origins, instanceKey, path, before, written, name);
      return;
    }
    // As written, split as splitDotted splits: `a.b`, `a..b` and ['a', 'b'] are one name, not a collision.
    const origin = writtenAs(instance, typeof raw === 'string' ? raw.split('.').filter((p) => p.length > 0) : raw);
    if (before !== undefined) {
      if (before !== origin) this.collided(origins, instanceKey, path, before, origin, name);
      return;
    }
    if (this.heldAsPath(name)) {
      const first = writtenAs(name.instance, name.segments);
      if (first !== origin) return this.collided(origins, instanceKey, path, first, origin, name);
    }
    let p = paths;
    if (p === undefined) origins.set(instanceKey, (p = new Map()));
    p.set(path, origin);
  }

  /** Says once that `second` lands on the path of `first` (both as written). */
  private collided(origins: Map<string, Map<string, string>>, instanceKey: string, path: string, first: string, second: string, name: MetricName): void {
    let paths = origins.get(instanceKey);
    if (paths === undefined) origins.set(instanceKey, (paths = new Map()));
    paths.set(path, REPORTED);
    this.onCollision?.(showOrigin(first), showOrigin(second), relativePath(name));
  }

  /** True when a name written as the path of `name` (sanitised instance, segments) is held. */
  private heldAsPath(name: MetricName): boolean {
    const scope = name.instance === undefined ? this.root : this.byInstance.get(name.instance);
    if (scope === undefined) return false;
    if (scope.dotted.has(name.segments.join('.'))) return true;
    let branch: Branch | undefined = scope.arrays;
    for (let i = 0; i < name.segments.length && branch !== undefined; i++) branch = branch.next?.get(name.segments[i]!);
    return branch?.name !== undefined;
  }

  /**
   * Forgets every name `keep` refuses, making room below `maxNames` (the runner keeps the names
   * of its last run when the table is full, so names that are gone stop holding places).
   */
  retain(keep: (name: MetricName) => boolean): void {
    let count = 0;
    const kept = this.origins === undefined ? undefined : new Map<string, Set<string>>();
    const held = (n: MetricName): boolean => {
      if (!keep(n)) return false;
      count++;
      if (kept !== undefined) {
        const k = n.instance ?? '';
        let paths = kept.get(k);
        if (paths === undefined) kept.set(k, (paths = new Set()));
        paths.add(n.segments.join('.'));
      }
      return true;
    };
    const prune = (b: Branch): boolean => {
      if (b.name !== undefined && !held(b.name)) b.name = undefined;
      if (b.next !== undefined) {
        for (const [seg, child] of b.next) if (!prune(child)) b.next.delete(seg);
        if (b.next.size === 0) b.next = undefined;
      }
      return b.name !== undefined || b.next !== undefined;
    };
    const retainScope = (s: Scope): boolean => {
      for (const [k, n] of s.dotted) if (!held(n)) s.dotted.delete(k);
      return prune(s.arrays) || s.dotted.size > 0;
    };
    retainScope(this.root);
    for (const [instance, s] of this.byInstance) if (!retainScope(s)) this.byInstance.delete(instance);
    if (this.origins !== undefined) {
      for (const [instance, paths] of this.origins) {
        const live = kept!.get(instance);
        for (const p of paths.keys()) if (live?.has(p) !== true) paths.delete(p);
        if (paths.size === 0) this.origins.delete(instance);
      }
    }
    // Names made from now on share among themselves; the names kept keep their arrays.
    this.sharedSegments.clear();
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

/** A name as written, instance and segments, in one string that compares as the name does. */
function writtenAs(instance: string | undefined, segments: readonly string[]): string {
  return `${instance ?? ''}\u0001${segments.join('\u0000')}`;
}

/** A name as written, for a message: `total.user`, or its segments when one holds a dot. */
function showOrigin(origin: string): string {
  const cut = origin.indexOf('\u0001');
  const instance = origin.slice(0, cut);
  const segments = origin.slice(cut + 1).split('\u0000');
  const name = segments.some((s) => s.includes('.')) ? JSON.stringify(segments) : JSON.stringify(segments.join('.'));
  return instance === '' ? name : `${name} (instance ${JSON.stringify(instance)})`;
}
