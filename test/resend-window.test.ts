import { describe, expect, it } from 'vitest';
import { ResendWindow } from '../src/delivery/resend-window.js';
import { range, values } from './helpers/samples.js';


describe('resend window', () => {
  it('gives back what was accepted within the window before the last write, oldest first', () => {
    const w = new ResendWindow(1000, 1000);
    w.accepted(range(0, 2), 0); // 1500 ms before the last write: outside
    w.accepted(range(2, 4), 600); // 900 ms before: inside
    w.accepted(range(4, 5), 1500); // the last write
    expect(values(w.takeAtRisk())).toEqual([2, 3, 4]);
    expect(w.takeAtRisk()).toEqual([]);
  });

  it('measures the window back from the last write, not from now: a long outage keeps them', () => {
    const w = new ResendWindow(1000, 1000);
    w.accepted(range(0, 3), 10_000);
    // The failure comes an hour later; the batch written just before the break is still at risk.
    expect(values(w.takeAtRisk())).toEqual([0, 1, 2]);
  });

  it('never holds more samples than the outbox may', () => {
    const w = new ResendWindow(60_000, 5);
    w.accepted(range(0, 3), 0);
    w.accepted(range(3, 6), 1);
    expect(w.size).toBe(3);
    expect(values(w.takeAtRisk())).toEqual([3, 4, 5]);
  });

  it('keeps nothing with a window of 0', () => {
    const w = new ResendWindow(0, 100);
    w.accepted(range(0, 3), 0);
    expect(w.size).toBe(0);
    expect(w.takeAtRisk()).toEqual([]);
  });
});
