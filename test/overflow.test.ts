import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DropOldest, SpillToSpool, type SpoolWriteFailure } from '../src/delivery/overflow.js';
import { Spool, type DropReport } from '../src/delivery/spool.js';
import { tmpdir } from './helpers/tmp.js';
import { tmpfs } from './helpers/tmpfs.js';
import { range, values } from './helpers/samples.js';


function events() {
  const e = { drops: [] as [number, number][], spooled: [] as [number, string][], spoolDrops: [] as DropReport[], failures: [] as SpoolWriteFailure[], writable: [] as [string, number][] };
  return {
    e,
    dropped: (count: number, total: number) => void e.drops.push([count, total]),
    spooled: (count: number, why: string) => void e.spooled.push([count, why]),
    spoolDropped: (d: DropReport) => void e.spoolDrops.push(d),
    spoolWriteFailed: (f: SpoolWriteFailure) => void e.failures.push(f),
    spoolWritable: (dir: string, n: number) => void e.writable.push([dir, n]),
  };
}

/** Every sample in the segment files, read with a fresh spool (as the next start would). */
function onDisk(dir: string): number[] {
  const s = new Spool(dir, { maxBytes: 1024 ** 3, maxAge: 86_400_000 });
  const out: number[] = [];
  for (let seg = s.oldest(); seg; seg = s.oldest()) {
    expect(seg.tornBytes).toBe(0);
    out.push(...values(seg.samples));
    s.done(seg);
  }
  return out;
}

describe('overflow policy', () => {
  it('without a spool drops, counts and reports every sample with a running total', () => {
    const stats = { dropped: 0 };
    const ev = events();
    const p = new DropOldest(stats, ev);
    p.overflow(range(0, 3));
    p.overflow([]);
    p.overflow(range(3, 5));
    expect(p.keeps).toBe(false);
    expect(stats.dropped).toBe(5);
    expect(ev.e.drops).toEqual([[3, 3], [2, 5]]);
  });

  it('with a spool keeps the samples on disk, says why, and drops nothing below the caps', () => {
    const spool = new Spool(tmpdir(), { maxBytes: 1024 ** 3, maxAge: 86_400_000 });
    const stats = { dropped: 0 };
    const ev = events();
    const p = new SpillToSpool(spool, stats, ev);
    p.overflow(range(0, 4), 'full');
    p.overflow(range(4, 6), 'shutdown');
    expect(p.keeps).toBe(true);
    expect(spool.pending).toBe(6);
    expect(ev.e.spooled).toEqual([[4, 'full'], [2, 'shutdown']]);
    expect(stats.dropped).toBe(0);
  });

  it('past the spool\'s size cap counts exactly the samples of the segments it dropped', () => {
    // 10 segments of 3 samples each under a 1-byte cap: the caps never drop the newest, so 3 remain.
    const spool = new Spool(tmpdir(), { maxBytes: 1, maxAge: 86_400_000, segmentBytes: 1 });
    const stats = { dropped: 0 };
    const ev = events();
    const p = new SpillToSpool(spool, stats, ev);
    for (let i = 0; i < 10; i++) p.overflow(range(i * 3, i * 3 + 3), 'full');
    expect(spool.pending).toBe(3);
    expect(stats.dropped).toBe(27);
    expect(ev.e.spoolDrops.reduce((n, d) => n + d.samples, 0)).toBe(27);
    expect(ev.e.spoolDrops.every((d) => d.reason === 'size')).toBe(true);
  });

  it('treats a full disk like a reached cap: the oldest segments make room, every drop is counted, nothing throws', () => {
    const dir = tmpfs('16k');
    const spool = new Spool(dir, { maxBytes: 1024 ** 3, maxAge: 86_400_000, segmentBytes: 2000 });
    const stats = { dropped: 0 };
    const ev = events();
    const p = new SpillToSpool(spool, stats, ev);
    let produced = 0;
    for (let i = 0; i < 100; i++) {
      p.overflow(range(produced, produced + 20), 'full');
      produced += 20;
    }
    const kept = onDisk(dir);
    expect(stats.dropped).toBeGreaterThan(0);
    expect(kept.length + stats.dropped).toBe(produced);
    // The oldest went: what is left is the newest, in order.
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => produced - kept.length + i));
    expect(ev.e.failures.length).toBeGreaterThan(0);
    expect(ev.e.failures.every((f) => f.dir === dir && f.full)).toBe(true);
    expect(ev.e.failures.reduce((n, f) => n + f.dropped, 0)).toBe(stats.dropped);
    // One episode: the disk stayed full, so it was never over.
    expect(ev.e.failures.at(-1)!.total).toBe(stats.dropped);
    expect(ev.e.writable).toEqual([]);
  });

  it('drops and counts a spill that does not fit even in an empty spool, leaving no torn record', () => {
    const dir = tmpfs('16k');
    const spool = new Spool(dir, { maxBytes: 1024 ** 3, maxAge: 86_400_000 });
    const stats = { dropped: 0 };
    const ev = events();
    let now = 0;
    const p = new SpillToSpool(spool, stats, ev, () => now);
    p.overflow(range(0, 5), 'full');
    p.overflow(range(5, 2005), 'shutdown'); // some 80 KB: more than the file system holds
    expect(stats.dropped).toBe(2005);
    expect(ev.e.failures.map((f) => [f.dropped, f.total])).toEqual([[2005, 2005]]);
    expect(readdirSync(dir).map((f) => readFileSync(path.join(dir, f)).length)).toEqual([]);
    // Once it has taken every write for a minute, that is said once, with what was lost meanwhile.
    p.overflow(range(2005, 2010), 'full');
    expect(ev.e.writable).toEqual([]);
    now = 60_000;
    p.overflow(range(2010, 2012), 'full');
    p.overflow(range(2012, 2014), 'full');
    expect(ev.e.writable).toEqual([[dir, 2005]]);
    expect(onDisk(dir)).toEqual(values(range(2005, 2014)));
  });
});
