// The outbox with its disk spool: nothing dropped while the upstream is down, nothing lost at
// shutdown, order kept, and exact accounting when the spool's cap is reached.
import { describe, expect, it } from 'vitest';
import type { OutboxSettings } from '../src/config/types.js';
import { Outbox, type OutboxEvents } from '../src/delivery/outbox.js';
import { Spool } from '../src/delivery/spool.js';
import { tmpdir } from './helpers/tmp.js';
import { range } from './helpers/samples.js';

const settings: OutboxSettings = { batchSize: 7, flushInterval: 5, queueSize: 10, sendTimeout: 1000, retryMin: 5, retryMax: 20, spool: true, spoolMaxBytes: 1024 ** 3, spoolMaxAge: 86_400_000, resendWindow: 0 };
const bigSpool = { maxBytes: 1024 ** 3, maxAge: 86_400_000 };

function events(): OutboxEvents & { spooledCount: number; drops: number } {
  const e = {
    spooledCount: 0,
    drops: 0,
    sendFailed() {},
    recovered() {},
    dropped() {},
    spooled(n: number) {
      e.spooledCount += n;
    },
    spoolDropped(d: { samples: number }) {
      e.drops += d.samples;
    },
  };
  return e;
}

describe('outbox with a disk spool', () => {
  it('spills to disk instead of dropping while the upstream is down, then sends everything in order', async () => {
    let up = false;
    const got: number[] = [];
    const ev = events();
    const ob = new Outbox('h', settings, async (batch) => {
      if (!up) throw new Error('connection refused');
      got.push(...batch.map((s) => s.value));
    }, ev, new Spool(tmpdir(), bigSpool));
    ob.start();
    for (let i = 0; i < 200; i += 20) {
      ob.push(range(i, i + 20));
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(ob.depth).toBeLessThanOrEqual(10);
    expect(ob.spooled).toBeGreaterThanOrEqual(190);
    expect(ob.stats.dropped).toBe(0);
    up = true;
    ob.push(range(200, 210));
    const end = Date.now() + 10_000;
    while (got.length < 210 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual(range(0, 210).map((s) => s.value));
    expect(ob.spooled).toBe(0);
    await ob.drain(performance.now() + 1000);
  });

  it('keeps what it could not send at shutdown on disk, and the next start sends it first', async () => {
    const dir = tmpdir();
    const first = new Outbox('h', settings, async () => {
      throw new Error('down');
    }, events(), new Spool(dir, bigSpool));
    first.start();
    first.push(range(0, 8));
    first.push(range(8, 25));
    const lost = await first.drain(performance.now() + 100);
    expect(lost).toEqual([]);

    const got: number[] = [];
    const second = new Outbox('h', settings, async (batch) => void got.push(...batch.map((s) => s.value)), events(), new Spool(dir, bigSpool));
    second.push(range(25, 30)); // newer samples arrive while the old ones wait on disk
    second.start();
    const end = Date.now() + 10_000;
    while (got.length < 30 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual(range(0, 30).map((s) => s.value));
    await second.drain(performance.now() + 1000);
  });

  it('keeps order when it fills up while a batch is in flight, and then shuts down', async () => {
    const dir = tmpdir();
    const first = new Outbox('h', settings, async () => {
      throw new Error('down');
    }, events(), new Spool(dir, bigSpool));
    first.start();
    first.push(range(0, 7)); // a full batch: taken at once and retried
    await new Promise((r) => setTimeout(r, 20));
    first.push(range(7, 40)); // overflows while [0..6] is still in flight
    expect(await first.drain(performance.now() + 50)).toEqual([]);
    const got: number[] = [];
    const second = new Outbox('h', settings, async (batch) => void got.push(...batch.map((s) => s.value)), events(), new Spool(dir, bigSpool));
    second.start();
    const end = Date.now() + 10_000;
    while (got.length < 40 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual(range(0, 40).map((s) => s.value));
    await second.drain(performance.now() + 1000);
  });

  it('drops only when the spool cap is reached, and counts exactly what it dropped', async () => {
    const got: number[] = [];
    let up = false;
    const ev = events();
    const ob = new Outbox('h', settings, async (batch) => {
      if (!up) throw new Error('down');
      got.push(...batch.map((s) => s.value));
    }, ev, new Spool(tmpdir(), { maxBytes: 3000, maxAge: 86_400_000, segmentBytes: 600 }));
    ob.start();
    for (let i = 0; i < 500; i += 10) ob.push(range(i, i + 10));
    up = true;
    const end = Date.now() + 10_000;
    while ((ob.spooled > 0 || ob.depth > 0) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(ev.drops).toBeGreaterThan(0);
    expect(ob.stats.dropped).toBe(ev.drops);
    expect(got.length + ev.drops).toBe(500);
    // What arrived is in order, the oldest having gone.
    expect(got).toEqual([...got].sort((a, b) => a - b));
    expect(got.at(-1)).toBe(499);
    await ob.drain(performance.now() + 1000);
  });
});
