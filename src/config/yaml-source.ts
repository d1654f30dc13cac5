// Reads one YAML file into a value plus the line of every key path in it, so that config errors
// can say `conf.d/mysql.yaml:7: collectors.mysql.instances.m1.port: ...`.
import { constructFromEvents, parseEvents, getScalarValue, EVENT_ID, YAMLException, type Event } from 'js-yaml';

export type KeyPath = readonly (string | number)[];

export interface YamlSource {
  readonly file: string;
  readonly value: unknown;
  /** pathKey(path) -> 1-based line of the key (for mapping entries) or item (for sequences). */
  readonly lines: ReadonlyMap<string, number>;
}

export class YamlSyntaxError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly reason: string,
  ) {
    super(line === undefined ? `${file}: ${reason}` : `${file}:${line}: ${reason}`);
  }
}

export function pathKey(path: KeyPath): string {
  return path.join('\u0000');
}

/** Human form of a key path: `collectors.mysql.instances[0].port`. */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out.length === 0 ? p : `.${p}`;
  }
  return out.length === 0 ? '(top level)' : out;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function lineOf(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

/**
 * What one config file may hold. A real sonde.yaml has a few hundred values, nested a few levels;
 * these are far above that and keep a file made to exhaust sonde (an alias bomb, a million keys)
 * to a bounded time and memory. Aliases count as the values they stand for, since everything after
 * the parse (merging, validation) walks each copy.
 */
export const YAML_LIMITS = { values: 20_000, depth: 32 } as const;

const tooDeep = `nested more than ${YAML_LIMITS.depth} levels deep (aliases expanded); a sonde config needs fewer than 10, so the file is refused. Check that it is the file you meant`;

interface Frame {
  readonly type: 'doc' | 'map' | 'seq';
  readonly path: KeyPath;
  expectKey: boolean;
  pendingKey: string;
  index: number;
  /** The anchor (`&name`) on this collection, if any. */
  readonly anchor: string | undefined;
  /** Values in this collection, itself included, aliases expanded. */
  values: number;
  /** Levels below this collection, aliases expanded. */
  height: number;
}

/** What an anchor stands for, for the aliases (`*name`) that repeat it. */
interface Anchored {
  readonly values: number;
  readonly height: number;
}

function eventOffset(ev: Event): number {
  switch (ev.type) {
    case EVENT_ID.SCALAR:
      return ev.anchorStart >= 0 ? ev.anchorStart : ev.tagStart >= 0 ? ev.tagStart : ev.valueStart;
    case EVENT_ID.MAPPING:
    case EVENT_ID.SEQUENCE:
      return ev.start;
    case EVENT_ID.ALIAS:
      return ev.anchorStart;
    default:
      return -1;
  }
}

/**
 * Walks the event stream: records where each key and sequence item starts, and refuses a file past
 * YAML_LIMITS (counting each alias as what it repeats) or with an alias inside its own anchor.
 */
function keyLines(text: string, file: string, events: readonly Event[]): Map<string, number> {
  const lines = new Map<string, number>();
  const starts = lineStarts(text);
  const stack: Frame[] = [];
  const anchors = new Map<string, Anchored>();
  /** Anchors of the collections open now: an alias to one of them would contain itself. */
  const open = new Set<string>();
  let total = 0;

  const tooMuch = (offset: number, reason: string): never => {
    throw new YamlSyntaxError(file, offset >= 0 ? lineOf(starts, offset) : undefined, reason);
  };
  // Adds a value (a scalar, an alias's copy, a collection as it opens) of `values` values and `height` levels.
  const count = (offset: number, values: number, height: number): void => {
    total += values;
    if (total > YAML_LIMITS.values) {
      tooMuch(offset, `more than ${YAML_LIMITS.values} keys and values (an alias counts as all it repeats); a sonde config holds a few hundred, so the file is refused. Check that it is the file you meant`);
    }
    // The stack holds the document frame too: its length is the depth of the value being added.
    if (stack.length - 1 + height > YAML_LIMITS.depth) {
      tooMuch(offset, tooDeep);
    }
    const parent = stack[stack.length - 1];
    if (parent !== undefined && parent.type !== 'doc') parent.height = Math.max(parent.height, height + 1);
    for (const f of stack) f.values += values;
  };

  // Called for each node (scalar, alias, or collection when it opens); returns its path.
  const placeNode = (offset: number, isKeyScalar: (() => string) | undefined): KeyPath | undefined => {
    const parent = stack[stack.length - 1];
    if (parent === undefined || parent.type === 'doc') return [];
    if (parent.type === 'seq') {
      const path = [...parent.path, parent.index];
      if (offset >= 0) lines.set(pathKey(path), lineOf(starts, offset));
      return path;
    }
    if (parent.expectKey) {
      const key = isKeyScalar ? isKeyScalar() : '?';
      parent.pendingKey = key;
      const path = [...parent.path, key];
      if (offset >= 0) lines.set(pathKey(path), lineOf(starts, offset));
      return undefined; // a key, not a value
    }
    return [...parent.path, parent.pendingKey];
  };
  const finishNode = (): void => {
    const parent = stack[stack.length - 1];
    if (parent === undefined || parent.type === 'doc') return;
    if (parent.type === 'seq') parent.index++;
    else parent.expectKey = !parent.expectKey;
  };
  const anchorOf = (ev: { anchorStart: number; anchorEnd: number }): string | undefined => (ev.anchorStart >= 0 ? text.slice(ev.anchorStart, ev.anchorEnd) : undefined);

  for (const ev of events) {
    switch (ev.type) {
      case EVENT_ID.DOCUMENT:
        stack.push({ type: 'doc', path: [], expectKey: false, pendingKey: '', index: 0, anchor: undefined, values: 0, height: 0 });
        break;
      case EVENT_ID.SCALAR: {
        const offset = eventOffset(ev);
        count(offset, 1, 0);
        const anchor = anchorOf(ev);
        if (anchor !== undefined) anchors.set(anchor, { values: 1, height: 0 });
        placeNode(offset, () => getScalarValue(text, ev));
        finishNode();
        break;
      }
      case EVENT_ID.ALIAS: {
        const offset = eventOffset(ev);
        const name = text.slice(ev.anchorStart, ev.anchorEnd);
        if (open.has(name)) tooMuch(offset, `alias *${name} is inside the value it names (&${name}), which would make it endless; write the value out`);
        // An unknown alias is js-yaml's error to report, with its position.
        const a = anchors.get(name) ?? { values: 1, height: 0 };
        count(offset, a.values, a.height);
        placeNode(offset, undefined);
        finishNode();
        break;
      }
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        const offset = eventOffset(ev);
        count(offset, 1, 0);
        const anchor = anchorOf(ev);
        if (anchor !== undefined) open.add(anchor);
        const path = placeNode(offset, undefined) ?? ['?'];
        stack.push({ type: ev.type === EVENT_ID.MAPPING ? 'map' : 'seq', path, expectKey: true, pendingKey: '', index: 0, anchor, values: 1, height: 0 });
        break;
      }
      case EVENT_ID.POP: {
        const frame = stack.pop();
        if (frame && frame.type !== 'doc') {
          if (frame.anchor !== undefined) {
            open.delete(frame.anchor);
            anchors.set(frame.anchor, { values: frame.values, height: frame.height });
          }
          const parent = stack[stack.length - 1];
          if (parent !== undefined && parent.type !== 'doc') parent.height = Math.max(parent.height, frame.height + 1);
          finishNode();
        }
        break;
      }
    }
  }
  return lines;
}

/** True when the text holds nothing but comments and blank lines. */
function isBlank(text: string): boolean {
  return text.split('\n').every((l) => {
    const t = l.trim();
    return t.length === 0 || t.startsWith('#') || t === '---' || t === '...';
  });
}

/** Parses a YAML text; an empty or comment-only file is an empty mapping. Throws YamlSyntaxError, also for a file past YAML_LIMITS. */
export function parseYaml(text: string, file: string): YamlSource {
  if (isBlank(text)) return { file, value: {}, lines: new Map() };
  try {
    // One parse serves both the positions and the value; the positions walk counts what the value
    // would hold, so nothing is built from a file past the limits.
    const events = parseEvents(text, { filename: file, maxDepth: YAML_LIMITS.depth });
    const lines = keyLines(text, file, events);
    const docs = constructFromEvents(events, { source: text, filename: file });
    if (docs.length !== 1) throw new YamlSyntaxError(file, undefined, docs.length === 0 ? 'invalid YAML: expected a document, but the input is empty' : 'invalid YAML: expected a single document in the file, but found more (one --- too many?)');
    return { file, value: docs[0], lines };
  } catch (err) {
    if (err instanceof YAMLException) {
      const line = err.mark ? err.mark.line + 1 : undefined;
      if (err.reason.startsWith('nesting exceeded maxDepth')) throw new YamlSyntaxError(file, line, tooDeep);
      throw new YamlSyntaxError(file, line, `invalid YAML: ${err.reason}`);
    }
    throw err;
  }
}
