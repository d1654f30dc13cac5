// The memory queue keeps its places from one push to the next (a ring) and lets go of every
// sample it hands out: a sent sample must not stay alive in the queue of a busy outbox.
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { MemoryQueue } from '../src/delivery/memory-queue.js';
import { range, values } from './helpers/samples.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

describe('memory queue: its ring', () => {
  it('lets go of the samples it hands out while others are still queued', async () => {
    const q = new MemoryQueue();
    const taken = (() => {
      q.push(range(0, 3), 0);
      const batch = q.take(1);
      return new WeakRef(batch[0]!);
    })();
    // A WeakRef holds its target until the end of the job that made it.
    await new Promise((r) => setTimeout(r, 0));
    gc();
    expect(taken.deref()).toBeUndefined();
    expect(values(q.takeAll())).toEqual([1, 2]);
  });

  it('keeps the order across the end of the ring, a backlog put in front and a ring that grows', () => {
    const q = new MemoryQueue();
    q.push(range(0, 10), 0);
    expect(values(q.take(7))).toEqual([0, 1, 2, 3, 4, 5, 6]);
    q.push(range(10, 22), 1); // past the end of 16 places
    q.prepend(range(100, 105), 2, 0); // before the head, across the start
    expect(q.length).toBe(20);
    q.push(range(22, 40), 3); // more than the ring holds
    expect(values(q.take(6))).toEqual([100, 101, 102, 103, 104, 7]);
    expect(values(q.takeAll())).toEqual([8, 9, ...values(range(10, 40))]);
    expect(q.length).toBe(0);
    q.push(range(40, 42), 4);
    expect(values(q.takeAll())).toEqual([40, 41]);
  });

  it('hands out nothing for a count that is not a positive number, and whole samples for a fraction', () => {
    const q = new MemoryQueue();
    q.push(range(0, 4), 0);
    expect(q.take(NaN)).toEqual([]);
    expect(q.take(-1)).toEqual([]);
    expect(q.take(0)).toEqual([]);
    expect(values(q.take(2.5))).toEqual([0, 1]);
    expect(q.length).toBe(2);
  });
});
