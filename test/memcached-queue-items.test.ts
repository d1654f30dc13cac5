// The memcached_queue handler's items, written straight into one buffer (in one pass, or grouped
// first and written queue by queue), are byte for byte what building each item's JSON as a
// string gives: the same items, the same ranges of the batch, the same splits at the item size.
import { describe, expect, it } from 'vitest';
import { buildItems, groupItems, itemHead, Items, ItemTooLarge, pathJsonOf, writeItems, type NameInfo } from '../handlers/memcached_queue/items.js';
import { NameTable } from '../src/model/naming.js';
import type { MetricName, Sample } from '../src/model/sample.js';
import { formatValue } from '../src/model/value-format.js';
import { rng } from './helpers/rng.js';

const FOOTER = '],"metadata":{"tsdb_flags":1}}';

interface Ref {
  start: number;
  end: number;
  json: string;
}

/** Items as strings, the way the handler built them before it wrote bytes. */
function reference(batch: readonly Sample[], infoOf: (n: MetricName) => NameInfo, maxBytes: number, skip?: (s: Sample) => boolean): Ref[] {
  const items: Ref[] = [];
  let group = -1;
  let ts = 0;
  let start = 0;
  let body = '';
  let bytes = 0;
  let head = '';
  let count = 0;
  const close = (end: number): void => {
    if (group >= 0 && count > 0) items.push({ start, end, json: head + body + FOOTER });
  };
  for (let i = 0; i < batch.length; i++) {
    const s = batch[i]!;
    if (skip !== undefined && skip(s)) continue;
    const ni = infoOf(s.name);
    const path = ni.pathJson.toString();
    const sec = Math.floor(s.timestamp / 1000);
    const value = formatValue(s.value, s.precision);
    const pairBytes = Buffer.byteLength(path) + value.length + 1;
    if (group < 0 || ni.group !== group || sec !== ts || bytes + pairBytes + 1 > maxBytes) {
      close(i);
      group = ni.group;
      ts = sec;
      start = i;
      const stamp = `${sec},"data":[`;
      head = ni.head.toString() + stamp;
      body = '';
      count = 0;
      bytes = ni.head.length + stamp.length + FOOTER.length;
      if (bytes + pairBytes > maxBytes) throw new ItemTooLarge('too large');
    }
    body += count === 0 ? `${path}${value}]` : `,${path}${value}]`;
    bytes += count === 0 ? pairBytes : pairBytes + 1;
    count++;
  }
  close(batch.length);
  return items;
}

/** Names of a few collectors and devices, some with quotes, backslashes and non-ASCII. */
function world(r: () => number) {
  const tables = ['cpu', 'mysql', 'dïsk'].map((c) => new NameTable(c));
  const names: MetricName[] = [];
  for (const t of tables) for (let d = 0; d < 4; d++) for (let m = 0; m < 6; m++) names.push(t.get(['m' + m, m === 3 ? 'ünï"\\côde' : 'v'], d === 0 ? undefined : `dev${d}`));
  const infos = new Map<MetricName, NameInfo>();
  const groups = new Map<string, number>();
  const infoOf = (n: MetricName): NameInfo => {
    let ni = infos.get(n);
    if (ni !== undefined) return ni;
    const device = n.instance ?? 'host';
    const key = `${n.collector}\0${device}`;
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = groups.size));
    ni = { oidset: n.collector, device, oid: n.collector, group, head: Buffer.from(itemHead(n.collector, device, n.collector)), pathJson: Buffer.from(pathJsonOf(n, true)), queues: ['q'], follower: undefined, followerInfo: undefined };
    infos.set(n, ni);
    return ni;
  };
  /** Runs of samples: mostly a collector's names in order, sometimes reordered or interleaved. */
  const batch = (n: number): Sample[] => {
    const out: Sample[] = [];
    let ts = 1_700_000_000_000;
    while (out.length < n) {
      const device = Math.floor(r() * 12);
      const run = names.slice(device * 6, device * 6 + 6);
      if (r() < 0.2) run.reverse();
      if (r() < 0.3) ts += Math.floor(r() * 20_000);
      const precisions = [undefined, 0, 2, 3, 7];
      for (const name of run) out.push({ name, value: r() < 0.3 ? Math.floor((r() - 0.3) * 1e6) : (r() - 0.2) * 10 ** Math.floor(r() * 12 - 3), kind: 'gauge', timestamp: ts + Math.floor(r() * 999), precision: precisions[Math.floor(r() * precisions.length)] });
      if (r() < 0.1) out.push(out[Math.floor(r() * out.length)]!);
    }
    return out;
  };
  return { infoOf, batch };
}

function itemsOf(out: Items): Ref[] {
  return Array.from({ length: out.count }, (_, i) => ({ start: out.start[i]!, end: out.end[i]!, json: out.json(i).toString() }));
}

describe('memcached_queue items', () => {
  it('buildItems writes the bytes of the string-built items, splits included, for random batches', () => {
    const r = rng(7);
    const w = world(r);
    const out = new Items();
    for (let k = 0; k < 300; k++) {
      const batch = w.batch(1 + Math.floor(r() * 400));
      const max = k % 3 === 0 ? 300 + Math.floor(r() * 600) : 1_000_000;
      const skipped = new Set(batch.filter(() => r() < 0.05));
      const skip = k % 2 === 0 ? (s: Sample) => skipped.has(s) : undefined;
      let want: Ref[] | undefined;
      try {
        want = reference(batch, w.infoOf, max, skip);
      } catch (err) {
        expect(err).toBeInstanceOf(ItemTooLarge);
        expect(() => buildItems(out, batch, w.infoOf, max, skip)).toThrow(ItemTooLarge);
        continue;
      }
      expect(itemsOf(buildItems(out, batch, w.infoOf, max, skip))).toEqual(want);
    }
  });

  it('groupItems then writeItems, queue by queue in any order, write the same items; it leaves to buildItems what could be split', () => {
    const r = rng(11);
    const w = world(r);
    const out = new Items();
    let grouped = 0;
    for (let k = 0; k < 300; k++) {
      const batch = w.batch(1 + Math.floor(r() * 400));
      const max = k % 3 === 0 ? 500 + Math.floor(r() * 3000) : 1_000_000;
      const skipped = new Set(batch.filter(() => r() < 0.05));
      const skip = k % 2 === 0 ? (s: Sample) => skipped.has(s) : undefined;
      if (!groupItems(out, batch, w.infoOf, max, skip)) {
        // Then the handler writes it all with buildItems, tested above.
        continue;
      }
      grouped++;
      const want = reference(batch, w.infoOf, max, skip);
      // As the writer does: the items of each queue, one queue after another, each item once.
      const queues = [0, 1, 2].map((q) => Array.from({ length: out.count }, (_, i) => i).filter((i) => (i + q) % 3 === 0 || r() < 0.2));
      for (const q of queues.reverse()) writeItems(out, q, batch);
      writeItems(out, Array.from({ length: out.count }, (_, i) => i), batch);
      expect(itemsOf(out)).toEqual(want);
    }
    expect(grouped).toBeGreaterThan(150);
  });

  it('groupItems declines a batch whose precision formatValue would refuse, and one whose item could reach the item size', () => {
    const w = world(rng(3));
    const out = new Items();
    const batch = w.batch(50);
    expect(groupItems(out, batch, w.infoOf, 1_000_000)).toBe(true);
    expect(groupItems(out, batch.map((s, i) => (i === 7 ? { ...s, precision: 101 } : s)), w.infoOf, 1_000_000)).toBe(false);
    expect(groupItems(out, batch.map((s, i) => (i === 7 ? { ...s, precision: -1 } : s)), w.infoOf, 1_000_000)).toBe(false);
    expect(groupItems(out, batch, w.infoOf, 200)).toBe(false);
  });
});
