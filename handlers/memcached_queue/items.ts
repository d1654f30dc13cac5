// A batch of samples as esmond PollResult items: one per collector run (timestamp), oidset, device
// and oid, in batch order, each the JSON esmond's `PollResult(**json.loads(item))` takes. An item
// whose JSON would exceed the item size is split into several, each covering a run of samples, so
// the handler can say exactly which samples of the batch were stored.
import type { MetricName, Sample } from '../../src/plugin-api.js';
import { VALUE_MAX_BYTES, valueBound, writeSampleValue, writeSeconds, writeValue } from './value-bytes.js';

/** The fields a template can name. */
export const TEMPLATE_FIELDS = ['collector', 'instance', 'host'] as const;
type Field = (typeof TEMPLATE_FIELDS)[number];

/** Renders a template for one sample's name; `{instance}` is empty for a collector without one. */
export type Template = (name: MetricName, host: string) => string;

/** Why `text` is not a template, or undefined when it is one. */
export function templateProblem(text: string): string | undefined {
  for (const m of text.matchAll(/\{([^{}]*)\}/g)) {
    if (!(TEMPLATE_FIELDS as readonly string[]).includes(m[1]!)) return `unknown field {${m[1]}} in ${JSON.stringify(text)}; the fields are ${TEMPLATE_FIELDS.map((f) => `{${f}}`).join(', ')}`;
  }
  if (/[{}]/.test(text.replace(/\{[^{}]*\}/g, ''))) return `unbalanced brace in ${JSON.stringify(text)}`;
  return undefined;
}

export function compileTemplate(text: string): Template {
  const parts = text.split(/(\{[^{}]*\})/).filter((p) => p !== '');
  const fields: (string | Field)[] = parts.map((p) => (p.startsWith('{') ? (p.slice(1, -1) as Field) : p));
  const literal = parts.map((p) => !p.startsWith('{'));
  return (name, host) => {
    let out = '';
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      if (literal[i]) out += f;
      else if (f === 'collector') out += name.collector;
      else if (f === 'instance') out += name.instance ?? '';
      else out += host;
    }
    return out;
  };
}

/** What a name renders to, worked out once per name (names are interned: the same object every run). */
export interface NameInfo {
  readonly oidset: string;
  readonly device: string;
  readonly oid: string;
  /** Names with the same oidset, device and oid have the same number: their samples of one run share an item. */
  readonly group: number;
  /** The JSON of the pair's path, `[["a","b"],`, waiting for its value and `]`, as UTF-8. */
  readonly pathJson: Buffer;
  /** The queue of each configured family this name goes to. */
  readonly queues: readonly string[];
  /** The item's JSON up to its timestamp, `{"oidset_name":…,"timestamp":`, as UTF-8. */
  readonly head: Buffer;
  /**
   * The name the last batch had right after this one, and its info: collectors emit their names
   * in the same order every run, so most look-ups are this comparison. (It keeps that name alive
   * as long as this one is.)
   */
  follower: MetricName | undefined;
  followerInfo: NameInfo | undefined;
}

/** The start of an item's JSON for these names, up to the timestamp. */
/**
 * The info of `name`, the sample after one of `prev`'s: batches repeat the same order of names run
 * after run, so the name that followed last time is remembered and a comparison replaces most
 * look-ups.
 */
function nextInfo(prev: NameInfo | undefined, name: MetricName, infoOf: (name: MetricName) => NameInfo): NameInfo {
  if (prev !== undefined && prev.follower === name) return prev.followerInfo!;
  const ni = infoOf(name);
  if (prev !== undefined) {
    prev.follower = name;
    prev.followerInfo = ni;
  }
  return ni;
}

export function itemHead(oidset: string, device: string, oid: string): string {
  return `{"oidset_name":${JSON.stringify(oidset)},"device_name":${JSON.stringify(device)},"oid_name":${JSON.stringify(oid)},"timestamp":`;
}

/** The data path of a sample: the instance first when no template shows it (so it is not lost), then its segments. */
export function pathJsonOf(name: MetricName, instanceShown: boolean): string {
  let s = '[[';
  let first = true;
  if (name.instance !== undefined && !instanceShown) {
    s += JSON.stringify(name.instance);
    first = false;
  }
  for (const seg of name.segments) {
    if (!first) s += ',';
    s += JSON.stringify(seg);
    first = false;
  }
  return s + '],';
}

const FOOTER = Buffer.from('],"metadata":{"tsdb_flags":1}}');
const DATA = Buffer.from(',"data":[');
const COMMA = 44;
const CLOSE = 93;
/** Room for a timestamp's digits (formatValue of any number without a precision is shorter). */
const STAMP_MAX_BYTES = 32;

/** A sample whose pair alone does not fit in an item: it can never be written. */
export class ItemTooLarge extends Error {}

/**
 * A batch's items, in parallel arrays (no object per item), and their JSON one after the other in
 * one buffer. Reused from batch to batch: what a batch needs past the write is copied out.
 */
export class Items {
  count = 0;
  /** The batch index of each item's first sample, and one past its last. */
  start = new Int32Array(64);
  end = new Int32Array(64);
  /** Where each item's JSON is in `data`, and its length in bytes. */
  offset = new Float64Array(64);
  bytes = new Float64Array(64);
  info: NameInfo[] = [];
  /** Per item grouped by groupItems, at most how many bytes its JSON takes. */
  bound = new Float64Array(64);
  /** Whether each item's JSON is written yet (groupItems leaves it to writeItems). */
  built = new Uint8Array(64);
  /** Per sample of the batch, its pair's path (its name's pathJson); undefined for a sample left out. */
  samplePath: (Buffer | undefined)[] = [];
  data: Buffer = Buffer.allocUnsafe(64 * 1024);
  /** How much of `data` holds JSON. */
  used = 0;

  /** The JSON of item `i`, a view into `data` (valid until the next build). */
  json(i: number): Buffer {
    return this.data.subarray(this.offset[i]!, this.offset[i]! + this.bytes[i]!);
  }

  /** Samples of item `i` (its range of the batch). */
  samples(i: number): number {
    return this.end[i]! - this.start[i]!;
  }

  /** Makes room for `n` bytes of JSON from `pos`. */
  room(pos: number, n: number): void {
    if (pos + n <= this.data.length) return;
    const next = Buffer.allocUnsafe(Math.max(pos + n, this.data.length * 2));
    this.data.copy(next, 0, 0, pos);
    this.data = next;
  }

  push(start: number, end: number, info: NameInfo, offset: number, bytes: number): void {
    const i = this.count++;
    if (i === this.start.length) {
      const grow = <T extends Int32Array | Float64Array>(a: T, b: T): T => (b.set(a), b);
      this.start = grow(this.start, new Int32Array(i * 2));
      this.end = grow(this.end, new Int32Array(i * 2));
      this.offset = grow(this.offset, new Float64Array(i * 2));
      this.bytes = grow(this.bytes, new Float64Array(i * 2));
      this.bound = grow(this.bound, new Float64Array(i * 2));
      const built = new Uint8Array(i * 2);
      built.set(this.built);
      this.built = built;
    }
    this.start[i] = start;
    this.end[i] = end;
    this.offset[i] = offset;
    this.bytes[i] = bytes;
    this.info[i] = info;
    this.built[i] = 1;
  }
}

/**
 * Groups `batch` into `out`, items of at most `maxBytes` bytes of JSON written into `out.data`.
 * Consecutive samples of one run and one (oidset, device, oid) share an item; a run interleaved
 * with another makes several. Samples `skip` names are left out (an item's range may then hold them).
 */
export function buildItems(out: Items, batch: readonly Sample[], infoOf: (name: MetricName) => NameInfo, maxBytes: number, skip?: (s: Sample) => boolean): Items {
  out.count = 0;
  let info: NameInfo | undefined;
  let ts = 0;
  let start = 0;
  /** Where the open item's JSON starts in out.data, and where it is written up to (its footer not yet). */
  let from = 0;
  let pos = 0;
  let count = 0;
  let data = out.data;
  const close = (end: number): void => {
    if (info === undefined || count === 0) return;
    out.room(pos, FOOTER.length);
    data = out.data;
    pos += FOOTER.copy(data, pos);
    out.push(start, end, info, from, pos - from);
  };
  /** Starts an item at `pos` (the one open is closed): its head, timestamp and `"data":[`. */
  const open = (i: number, ni: NameInfo, sec: number): void => {
    close(i);
    if (count === 0) pos = from;
    info = ni;
    ts = sec;
    start = i;
    count = 0;
    from = pos;
    out.room(pos, ni.head.length + STAMP_MAX_BYTES + DATA.length);
    data = out.data;
    pos += ni.head.copy(data, pos);
    pos = writeValue(data, pos, sec, undefined);
    pos += DATA.copy(data, pos);
  };
  let prev: NameInfo | undefined;
  for (let i = 0; i < batch.length; i++) {
    const s = batch[i]!;
    // Delivered already (a reader got it although its send failed): not written again.
    if (skip !== undefined && skip(s)) continue;
    const ni = nextInfo(prev, s.name, infoOf);
    prev = ni;
    const sec = Math.floor(s.timestamp / 1000);
    if (info === undefined || ni.group !== info.group || sec !== ts) open(i, ni, sec);
    const path = ni.pathJson;
    if (pos + path.length + VALUE_MAX_BYTES + 2 > data.length) {
      out.room(pos, path.length + VALUE_MAX_BYTES + 2);
      data = out.data;
    }
    // The pair goes in first; when it makes the item too large, it moves to a new one.
    const pairAt = count === 0 ? pos : pos + 1;
    if (count > 0) data[pos] = COMMA;
    let end = pairAt + path.copy(data, pairAt);
    end = writeSampleValue(data, end, s);
    data[end++] = CLOSE;
    if (end - from + FOOTER.length > maxBytes) {
      if (count === 0) throw new ItemTooLarge(`the sample ${path.toString('utf8', 1, path.length - 1)} does not fit in one memcached item of ${maxBytes} bytes`);
      const pair = Buffer.from(data.subarray(pairAt, end));
      open(i, ni, sec);
      if (pos - from + pair.length + FOOTER.length > maxBytes) throw new ItemTooLarge(`the sample ${path.toString('utf8', 1, path.length - 1)} does not fit in one memcached item of ${maxBytes} bytes`);
      out.room(pos, pair.length);
      data = out.data;
      end = pos + pair.copy(data, pos);
    }
    pos = end;
    count++;
  }
  close(batch.length);
  out.used = pos;
  return out;
}

/**
 * The grouping of buildItems without the JSON, which writeItems writes later (once the items'
 * slots are claimed, while memcached is busy). True when that is safe: no item can reach
 * `maxBytes` (none would be split) and no precision makes formatValue throw; false when
 * buildItems must do it all instead.
 */
export function groupItems(out: Items, batch: readonly Sample[], infoOf: (name: MetricName) => NameInfo, maxBytes: number, skip?: (s: Sample) => boolean): boolean {
  out.count = 0;
  out.used = 0;
  const samplePath = out.samplePath;
  let info: NameInfo | undefined;
  let ts = 0;
  let start = 0;
  let bound = 0;
  let prev: NameInfo | undefined;
  let lastPrecision: number | undefined = NaN;
  let pairBound = 0;
  let lastMs = NaN;
  let sec = 0;
  for (let i = 0; i < batch.length; i++) {
    const s = batch[i]!;
    if (skip !== undefined && skip(s)) {
      samplePath[i] = undefined;
      continue;
    }
    const ni = nextInfo(prev, s.name, infoOf);
    prev = ni;
    samplePath[i] = ni.pathJson;
    const p = s.precision;
    // toFixed takes 0 to 100 once truncated.
    if (p !== lastPrecision) {
      if (p !== undefined && !(p > -1 && p < 101)) return false;
      lastPrecision = p;
      pairBound = valueBound(p) + 2;
    }
    // The samples of a run share their timestamp: one division a run.
    if (s.timestamp !== lastMs) {
      lastMs = s.timestamp;
      sec = Math.floor(lastMs / 1000);
    }
    if (info === undefined || ni.group !== info.group || sec !== ts) {
      if (info !== undefined) {
        out.push(start, i, info, 0, 0);
        out.bound[out.count - 1] = bound;
      }
      info = ni;
      ts = sec;
      start = i;
      bound = ni.head.length + STAMP_MAX_BYTES + DATA.length + FOOTER.length;
    }
    bound += ni.pathJson.length + pairBound;
    if (bound > maxBytes) return false;
  }
  if (info !== undefined) {
    out.push(start, batch.length, info, 0, 0);
    out.bound[out.count - 1] = bound;
  }
  out.built.fill(0, 0, out.count);
  return true;
}

/** Writes the JSON of the items `which` (by index) that groupItems left unwritten, after those written. */
export function writeItems(out: Items, which: readonly number[], batch: readonly Sample[]): void {
  const samplePath = out.samplePath;
  let pos = out.used;
  let data = out.data;
  for (let w = 0; w < which.length; w++) {
    const i = which[w]!;
    if (out.built[i]) continue;
    out.built[i] = 1;
    const from = pos;
    const start = out.start[i]!;
    const end = out.end[i]!;
    const head = out.info[i]!.head;
    // Room for all of it at once: the samples' loop checks nothing.
    out.room(pos, out.bound[i]!);
    data = out.data;
    pos += head.copy(data, pos);
    pos = writeSeconds(data, pos, batch[start]!);
    pos += DATA.copy(data, pos);
    let first = true;
    for (let k = start; k < end; k++) {
      const path = samplePath[k];
      if (path === undefined) continue;
      const s = batch[k]!;
      if (!first) data[pos++] = COMMA;
      first = false;
      pos += path.copy(data, pos);
      pos = writeSampleValue(data, pos, s);
      data[pos++] = CLOSE;
    }
    pos += FOOTER.copy(data, pos);
    out.offset[i] = from;
    out.bytes[i] = pos - from;
  }
  out.used = pos;
}
