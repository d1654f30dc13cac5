import { describe, expect, it } from 'vitest';
import { ResendWindow } from '../src/delivery/resend-window.js';
import { range, values } from './helpers/samples.js';
import type { Sample } from '../src/model/sample.js';


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

describe('resend window: what it gives back is what was sent', () => {
  const name = Object.freeze({ collector: 'mysql', instance: 'm0', segments: Object.freeze(['Questions']) });
  const other = Object.freeze({ collector: 'cpu', instance: undefined, segments: Object.freeze(['total', 'user']) });
  const sent: Sample[] = [
    { name, value: 1.5, kind: 'rate', timestamp: 1_700_000_000_123, precision: 2 },
    { name: other, value: -0, kind: 'gauge', timestamp: 1_700_000_000_123, precision: undefined },
    { name, value: 2 ** 53 + 2, kind: 'counter', timestamp: 1_700_000_001_000, precision: 0 },
    { name: other, value: Number.NaN, kind: 'gauge', timestamp: 1, precision: 254 },
    { name, value: 1e-300, kind: 'gauge', timestamp: 0, precision: undefined },
  ];

  it('every field of every sample, the name the very same object (handlers cache by it)', () => {
    const w = new ResendWindow(1000, 1000);
    w.accepted(sent.slice(0, 2), 0);
    w.accepted(sent.slice(2), 10);
    const back = w.takeAtRisk();
    expect(back).toEqual(sent);
    expect(Object.is(back[1]!.value, -0)).toBe(true);
    back.forEach((s, i) => expect(s.name).toBe(sent[i]!.name));
  });

  it('a precision the columns cannot hold (a plugin\'s 300) keeps its batch as it was', () => {
    const w = new ResendWindow(1000, 1000);
    const odd: Sample[] = [{ name, value: 3, kind: 'gauge', timestamp: 5, precision: 300 }, sent[0]!];
    w.accepted(odd, 0);
    expect(w.takeAtRisk()).toEqual(odd);
  });
});
