import { describe, expect, it } from 'vitest';
import { keyBudget, RateTracker } from '../src/runtime/rate.js';

describe('rates', () => {
  it('emits nothing on the first sample', () => {
    const r = new RateTracker(() => 0);
    expect(r.derive('k', 100, 0)).toBeUndefined();
  });

  it('divides by the measured elapsed time, not a configured interval', () => {
    const r = new RateTracker();
    r.derive('k', 100, 0);
    // 250 more in 12.5 s (a late run) is 20 per second.
    expect(r.derive('k', 350, 12_500)).toBe(20);
    expect(r.derive('k', 360, 13_500)).toBe(10);
  });

  it('treats a counter that went down as a reset: nothing, then rates from the new baseline', () => {
    const r = new RateTracker();
    r.derive('k', 2 ** 64 - 1000, 0);
    expect(r.derive('k', 5, 10_000)).toBeUndefined();
    expect(r.derive('k', 105, 20_000)).toBe(10);
  });

  it('emits nothing when no time has passed', () => {
    const r = new RateTracker();
    r.derive('k', 1, 1000);
    expect(r.derive('k', 2, 1000)).toBeUndefined();
  });

  it('ignores values that are not finite', () => {
    const r = new RateTracker();
    r.derive('k', 10, 0);
    expect(r.derive('k', NaN, 1000)).toBeUndefined();
    expect(r.derive('k', 20, 1000)).toBe(10);
  });

  it('carries baselines across processes of the same boot and drops them from another boot', () => {
    const a = new RateTracker();
    a.derive('k', 100, 1000);
    const saved = JSON.parse(JSON.stringify(a.toJSON('boot-1')));
    const b = new RateTracker();
    expect(b.restore(saved, 'boot-1')).toBe(true);
    expect(b.derive('k', 300, 11_000)).toBe(20);
    const c = new RateTracker();
    expect(c.restore(saved, 'boot-2')).toBe(false);
    expect(c.derive('k', 300, 11_000)).toBeUndefined();
  });

  it('holds at most a budget of new keys per owner, refuses and counts the rest, and gives places back when keys are pruned', () => {
    const r = new RateTracker();
    const mine = keyBudget(3);
    for (let i = 0; i < 10; i++) r.derive(`k${i}`, 100, 0, mine);
    expect(r.size).toBe(3);
    expect(mine).toEqual({ max: 3, used: 3, refused: 7 });
    // The keys it holds go on working; a refused one never gets a baseline.
    expect(r.derive('k0', 200, 10_000, mine)).toBe(10);
    expect(r.delta('k1', 150, 10_000, mine)).toEqual({ delta: 50, seconds: 10 });
    expect(r.derive('k5', 200, 10_000, mine)).toBeUndefined();
    expect(r.derive('k5', 300, 20_000, mine)).toBeUndefined();
    expect(mine.refused).toBe(9);
    // k2 was last read at 0: pruned, its place is free for a new key.
    r.prune(5_000);
    expect(mine.used).toBe(2);
    r.derive('k9', 1, 20_000, mine);
    expect(r.derive('k9', 11, 30_000, mine)).toBe(1);
    expect(mine.used).toBe(3);
  });

  it('counts baselines restored from disk against the owner that uses them', () => {
    const a = new RateTracker();
    a.derive('k', 100, 1000);
    const b = new RateTracker();
    b.restore(JSON.parse(JSON.stringify(a.toJSON('boot-1'))), 'boot-1');
    const mine = keyBudget(1);
    expect(b.derive('k', 300, 11_000, mine)).toBe(20);
    expect(mine.used).toBe(1);
    expect(b.derive('other', 1, 11_000, mine)).toBeUndefined();
    expect(mine.refused).toBe(1);
  });
});
