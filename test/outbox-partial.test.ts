// Partial acknowledgement: a handler whose upstream took only the head of a batch reports how much
// (a count, or a PartialSendError), and the outbox keeps only the rest, in order, for a retry.
import { describe, expect, it } from 'vitest';
import type { OutboxSettings } from '../src/config/types.js';
import { Outbox, type OutboxEvents } from '../src/delivery/outbox.js';
import { Spool } from '../src/delivery/spool.js';
import type { Sample } from '../src/model/sample.js';
import { PartialSendError } from '../src/plugin-api.js';
import { range, values } from './helpers/samples.js';
import { tmpdir } from './helpers/tmp.js';

const settings = (over: Partial<OutboxSettings> = {}): OutboxSettings => ({
  batchSize: 10,
  flushInterval: 5,
  queueSize: 100_000,
  sendTimeout: 1000,
  retryMin: 1,
  retryMax: 4,
  spool: false,
  spoolMaxBytes: 0,
  spoolMaxAge: 0,
  resendWindow: 0,
  ...over,
});

function recorder(): OutboxEvents & { failures: Error[] } {
  const r = { failures: [] as Error[], sendFailed: (err: Error) => void r.failures.push(err), recovered() {}, dropped() {} };
  return r;
}

/** Deterministic pseudo-random numbers, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

describe('outbox with partial acknowledgement', () => {
  it('sends again only the samples after the accepted head, never the accepted ones', async () => {
    const attempts: number[][] = [];
    const ev = recorder();
    let first = true;
    const ob = new Outbox('h', settings({ batchSize: 6 }), async (batch) => {
      attempts.push(values(batch));
      if (first) {
        first = false;
        throw new PartialSendError(4, 'the connection broke after 4 items', 2);
      }
    }, ev);
    ob.push(range(0, 8));
    ob.start();
    expect(await ob.drain(performance.now() + 5000)).toEqual([]);
    expect(attempts).toEqual([[0, 1, 2, 3, 4, 5], [4, 5], [6, 7]]);
    expect(ob.stats.sent).toBe(8);
    expect(ob.stats.refused).toBe(2);
    expect(ob.stats.sendErrors).toBe(1);
    expect(ev.failures.map((e) => e.message)).toEqual(['the connection broke after 4 items']);
  });

  it('takes a count resolved by send as the accepted head; the rest is a failed send, retried with backoff', async () => {
    const attempts: number[][] = [];
    const ev = recorder();
    const ob = new Outbox('h', settings({ batchSize: 5 }), async (batch) => {
      attempts.push(values(batch));
      return Math.min(batch.length, 2);
    }, ev);
    ob.push(range(0, 5));
    ob.start();
    expect(await ob.drain(performance.now() + 5000)).toEqual([]);
    expect(attempts).toEqual([[0, 1, 2, 3, 4], [2, 3, 4], [4]]);
    expect(ob.stats.sent).toBe(5);
    expect(ev.failures).toHaveLength(2);
    expect(ev.failures[0]!.message).toContain('2 of the batch');
  });

  it('treats void, a full count and an absurd count as the cases they are', async () => {
    const seen: number[][] = [];
    const results: (number | undefined)[] = [undefined, 99, -3, Number.NaN, 3];
    const ob = new Outbox('h', settings({ batchSize: 3 }), async (batch) => {
      seen.push(values(batch));
      return results.shift();
    }, recorder());
    ob.push(range(0, 9));
    ob.start();
    expect(await ob.drain(performance.now() + 5000)).toEqual([]);
    // void and 99 accept all; -3 and NaN accept nothing, so [6,7,8] is sent three times.
    expect(seen).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [6, 7, 8], [6, 7, 8]]);
    expect(ob.stats.sent).toBe(9);
  });

  it('delivers every sample exactly once and in order while sends take random heads of their batches', async () => {
    const rnd = prng(7);
    const received: number[] = [];
    const ob = new Outbox('h', settings({ batchSize: 13 }), async (batch) => {
      const r = rnd();
      if (r < 0.3) throw new Error('down');
      if (r < 0.7) {
        const n = Math.floor(rnd() * batch.length);
        received.push(...values(batch.slice(0, n)));
        throw new PartialSendError(n, `stored ${n}`);
      }
      received.push(...values(batch));
    }, recorder());
    ob.start();
    for (let i = 0; i < 1000; i += 41) ob.push(range(i, Math.min(i + 41, 1000)));
    expect(await ob.drain(performance.now() + 20_000)).toEqual([]);
    expect(received).toEqual(values(range(0, 1000)));
    expect(ob.stats.sent).toBe(1000);
  });

  it("settles the accepted head of a batch read from the spool: a replaced handler resends only the rest", async () => {
    const dir = tmpdir();
    const bigSpool = { maxBytes: 1024 ** 3, maxAge: 86_400_000 };
    const spool = new Spool(dir, bigSpool);
    spool.append(range(0, 6));
    const sentFirst: number[] = [];
    const first = new Outbox('h', settings({ batchSize: 6, spool: true, retryMin: 200, retryMax: 400 }), async (batch: readonly Sample[]) => {
      sentFirst.push(...values(batch.slice(0, 4)));
      throw new PartialSendError(4, 'memcached went away after 4');
    }, recorder(), spool);
    first.start();
    const end = Date.now() + 5000;
    // Replaced once the partial send has been reported (not while it is in flight).
    while (first.stats.sendErrors === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    await first.detach();
    expect(first.stats.sent).toBe(4);
    const got: number[] = [];
    const second = new Outbox('h', settings({ batchSize: 6, spool: true, retryMin: 200, retryMax: 400 }), async (batch) => void got.push(...values(batch)), recorder(), spool);
    second.start();
    expect(await second.drain(performance.now() + 5000)).toEqual([]);
    expect(sentFirst).toEqual([0, 1, 2, 3]);
    expect(got).toEqual([4, 5]);
  });
});
