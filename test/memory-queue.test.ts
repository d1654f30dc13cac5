import { describe, expect, it } from 'vitest';
import { MemoryQueue } from '../src/delivery/memory-queue.js';
import { range, values } from './helpers/samples.js';


describe('memory queue', () => {
  it('hands out batches oldest first and keeps the rest in order', () => {
    const q = new MemoryQueue();
    q.push(range(0, 5), 100);
    q.push(range(5, 8), 200);
    expect(q.length).toBe(8);
    expect(values(q.take(3))).toEqual([0, 1, 2]);
    expect(values(q.take(10))).toEqual([3, 4, 5, 6, 7]);
    expect(q.length).toBe(0);
    expect(q.take(3)).toEqual([]);
  });

  it('remembers when its oldest sample arrived, from the first push into an empty queue', () => {
    const q = new MemoryQueue();
    q.push(range(0, 2), 100);
    q.push(range(2, 4), 250);
    expect(q.firstQueuedAt).toBe(100);
    q.takeAll();
    q.push(range(4, 5), 900);
    expect(q.firstQueuedAt).toBe(900);
  });

  it('puts a backlog before what is queued, as having waited already', () => {
    const q = new MemoryQueue();
    q.push(range(10, 13), 500);
    q.take(1);
    q.prepend(range(0, 2), 1000, 300);
    expect(q.firstQueuedAt).toBe(700);
    expect(values(q.takeAll())).toEqual([0, 1, 11, 12]);
  });

  it('stays in order across many small takes (the head is compacted underneath)', () => {
    const q = new MemoryQueue();
    q.push(range(0, 20_000), 0);
    const out: number[] = [];
    for (let i = 0; i < 1999; i++) out.push(...values(q.take(7)));
    q.push(range(20_000, 20_010), 1);
    out.push(...values(q.takeAll()));
    expect(out).toEqual(values(range(0, 20_010)));
  });
});
