import { describe, expect, it } from 'vitest';
import { DropOldest, SpillToSpool } from '../src/delivery/overflow.js';
import { Spool, type DropReport } from '../src/delivery/spool.js';
import { tmpdir } from './helpers/tmp.js';
import { range } from './helpers/samples.js';


function events() {
  const e = { drops: [] as [number, number][], spooled: [] as [number, string][], spoolDrops: [] as DropReport[] };
  return {
    e,
    dropped: (count: number, total: number) => void e.drops.push([count, total]),
    spooled: (count: number, why: string) => void e.spooled.push([count, why]),
    spoolDropped: (d: DropReport) => void e.spoolDrops.push(d),
  };
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
});
