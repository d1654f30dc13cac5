// Reads one YAML file into a value plus the line of every key path in it, so that config errors
// can say `conf.d/mysql.yaml:7: collectors.mysql.instances.m1.port: ...`.
import { load, parseEvents, getScalarValue, EVENT_ID, YAMLException, type Event } from 'js-yaml';

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

interface Frame {
  readonly type: 'doc' | 'map' | 'seq';
  readonly path: KeyPath;
  expectKey: boolean;
  pendingKey: string;
  index: number;
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

/** Walks the event stream and records where each key and sequence item starts. */
function keyLines(text: string, file: string): Map<string, number> {
  const lines = new Map<string, number>();
  const starts = lineStarts(text);
  const stack: Frame[] = [];
  const events = parseEvents(text, { filename: file });

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

  for (const ev of events) {
    switch (ev.type) {
      case EVENT_ID.DOCUMENT:
        stack.push({ type: 'doc', path: [], expectKey: false, pendingKey: '', index: 0 });
        break;
      case EVENT_ID.SCALAR:
      case EVENT_ID.ALIAS: {
        placeNode(eventOffset(ev), ev.type === EVENT_ID.SCALAR ? () => getScalarValue(text, ev) : undefined);
        finishNode();
        break;
      }
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        const path = placeNode(eventOffset(ev), undefined) ?? ['?'];
        stack.push({ type: ev.type === EVENT_ID.MAPPING ? 'map' : 'seq', path, expectKey: true, pendingKey: '', index: 0 });
        break;
      }
      case EVENT_ID.POP: {
        const frame = stack.pop();
        if (frame && frame.type !== 'doc') finishNode();
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

/** Parses a YAML text; an empty or comment-only file is an empty mapping. */
export function parseYaml(text: string, file: string): YamlSource {
  if (isBlank(text)) return { file, value: {}, lines: new Map() };
  try {
    const value = load(text, { filename: file });
    return { file, value, lines: keyLines(text, file) };
  } catch (err) {
    if (err instanceof YAMLException) {
      const line = err.mark ? err.mark.line + 1 : undefined;
      throw new YamlSyntaxError(file, line, `invalid YAML: ${err.reason}`);
    }
    throw err;
  }
}
