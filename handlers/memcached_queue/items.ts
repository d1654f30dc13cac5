// A batch of samples as esmond PollResult items: one per collector run (timestamp), oidset, device
// and oid, in batch order, each the JSON esmond's `PollResult(**json.loads(item))` takes. An item
// whose JSON would exceed the item size is split into several, each covering a run of samples, so
// the handler can say exactly which samples of the batch were stored.
import { formatValue, type MetricName, type Sample } from '../../src/plugin-api.js';

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
  /** oidset, device and oid joined: samples with the same one (and timestamp) share an item. */
  readonly group: string;
  /** The JSON of the pair's path, `[["a","b"],`, waiting for its value and `]`. */
  readonly pathJson: string;
  /** Its UTF-8 length. */
  readonly pathBytes: number;
  /** The queue of each configured family this name goes to. */
  readonly queues: readonly string[];
  /** The item's JSON up to its timestamp, `{"oidset_name":…,"timestamp":`, and its UTF-8 length. */
  readonly head: string;
  readonly headBytes: number;
}

/** The start of an item's JSON for these names, up to the timestamp. */
export function itemHead(oidset: string, device: string, oid: string): string {
  return `{"oidset_name":${JSON.stringify(oidset)},"device_name":${JSON.stringify(device)},"oid_name":${JSON.stringify(oid)},"timestamp":`;
}

export interface Item {
  /** The batch index of its first sample, and one past its last. */
  readonly start: number;
  readonly end: number;
  readonly info: NameInfo;
  readonly timestamp: number;
  /** The item's JSON, and its exact UTF-8 length. */
  readonly json: string;
  readonly bytes: number;
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

const FOOTER = '],"metadata":{"tsdb_flags":1}}';

/** A sample whose pair alone does not fit in an item: it can never be written. */
export class ItemTooLarge extends Error {}

/**
 * Groups `batch` into items of at most `maxBytes` bytes of JSON. Consecutive samples of one run
 * and one (oidset, device, oid) share an item; a run interleaved with another makes several.
 * Samples `skip` names are left out (an item's range may then hold them).
 */
export function buildItems(batch: readonly Sample[], infoOf: (name: MetricName) => NameInfo, maxBytes: number, skip?: (s: Sample) => boolean): Item[] {
  const items: Item[] = [];
  let info: NameInfo | undefined;
  let ts = 0;
  let start = 0;
  let body = '';
  let bytes = 0;
  let head = '';
  let count = 0;
  const close = (end: number): void => {
    if (info === undefined || count === 0) return;
    items.push({ start, end, info, timestamp: ts, json: head + body + FOOTER, bytes });
  };
  for (let i = 0; i < batch.length; i++) {
    const s = batch[i]!;
    // Delivered already (a reader got it although its send failed): not written again.
    if (skip !== undefined && skip(s)) continue;
    const ni = infoOf(s.name);
    const sec = Math.floor(s.timestamp / 1000);
    const value = formatValue(s.value, s.precision);
    const pairBytes = ni.pathBytes + value.length + 1;
    const sameItem = info !== undefined && ni.group === info.group && sec === ts;
    if (!sameItem || bytes + pairBytes + 1 > maxBytes) {
      close(i);
      info = ni;
      ts = sec;
      start = i;
      const stamp = `${sec},"data":[`;
      head = ni.head + stamp;
      body = '';
      count = 0;
      bytes = ni.headBytes + stamp.length + FOOTER.length;
      if (bytes + pairBytes > maxBytes) throw new ItemTooLarge(`the sample ${ni.pathJson.slice(1, -1)} does not fit in one memcached item of ${maxBytes} bytes`);
    }
    body += count === 0 ? `${ni.pathJson}${value}]` : `,${ni.pathJson}${value}]`;
    bytes += count === 0 ? pairBytes : pairBytes + 1;
    count++;
  }
  close(batch.length);
  return items;
}
