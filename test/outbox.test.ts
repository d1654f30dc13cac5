import { describe, expect, it } from 'vitest';
import type { OutboxSettings } from '../src/config/types.js';
import { NameTable } from '../src/model/naming.js';
import { backoffDelay, Outbox, type OutboxEvents } from '../src/delivery/outbox.js';
import type { Sample } from '../src/model/sample.js';
import { RejectedSamplesError } from '../src/plugin-api.js';

const names = new NameTable('test');
const sample = (i: number): Sample => ({ name: names.get('m'), value: i, kind: 'gauge', timestamp: 1_700_000_000_000 + i, precision: undefined });
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => sample(from + i));
const values = (xs: readonly Sample[]) => xs.map((s) => s.value);

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

function recorder(): OutboxEvents & { failures: number; drops: number[]; totals: number[] } {
  const r = {
    failures: 0,
    drops: [] as number[],
    totals: [] as number[],
    sendFailed() {
      r.failures++;
    },
    recovered() {},
    dropped(count: number, total: number) {
      r.drops.push(count);
      r.totals.push(total);
    },
  };
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

describe('outbox', () => {
  it('delivers every sample exactly once and in order while sends fail at random', async () => {
    const received: number[] = [];
    const rnd = prng(42);
    const ev = recorder();
    // Counted where the upstream refuses, independently of the outbox's own bookkeeping.
    let refused = 0;
    const ob = new Outbox('h', settings(), async (batch) => {
      if (rnd() < 0.5) {
        refused++;
        throw new Error('upstream refused');
      }
      received.push(...values(batch));
    }, ev);
    ob.start();
    for (let i = 0; i < 1000; i += 37) ob.push(range(i, Math.min(i + 37, 1000)));
    const unsent = await ob.drain(performance.now() + 20_000);
    expect(unsent).toEqual([]);
    expect(refused).toBeGreaterThan(10);
    expect(received).toEqual(values(range(0, 1000)));
    expect(ob.stats.sent).toBe(1000);
    expect(ob.stats.sendErrors).toBe(refused);
    expect(ev.failures).toBe(refused);
  });

  it('retries the failed batch first: it stays at the head', async () => {
    const attempts: number[][] = [];
    let fail = 3;
    const ob = new Outbox('h', settings({ batchSize: 4 }), async (batch) => {
      attempts.push(values(batch));
      if (fail-- > 0) throw new Error('down');
    }, recorder());
    ob.push(range(0, 10));
    ob.start();
    await ob.drain(performance.now() + 5000);
    expect(attempts.slice(0, 4)).toEqual([[0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3]]);
    expect(attempts.slice(4)).toEqual([[4, 5, 6, 7], [8, 9]]);
  });

  it('drops the oldest queued samples when full, and counts exactly what it dropped', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const received: number[] = [];
    const ev = recorder();
    const ob = new Outbox('h', settings({ batchSize: 5, queueSize: 10 }), async (batch) => {
      await gate;
      received.push(...values(batch));
    }, ev);
    ob.start();
    ob.push(range(0, 5)); // a full batch: taken at once and held by the blocked send
    await new Promise((r) => setTimeout(r, 20));
    ob.push(range(5, 25)); // 5 in flight + 20 queued = 25 > 10: the 15 oldest queued go
    expect(ob.depth).toBe(10);
    expect(ob.stats.dropped).toBe(15);
    expect(ev.totals.at(-1)).toBe(15);
    open();
    await ob.drain(performance.now() + 5000);
    expect(received).toEqual([0, 1, 2, 3, 4, 20, 21, 22, 23, 24]);
  });

  it('counts the batch it has just taken as queued: a push right after start still sheds what is over queue_size', async () => {
    const ev = recorder();
    const ob = new Outbox('h', settings({ batchSize: 5, queueSize: 10 }), () => new Promise<void>(() => undefined), ev);
    ob.push(range(0, 10));
    ob.start(); // takes the first batch of 5 and starts sending it
    ob.push(range(10, 15)); // 5 in flight + 5 queued + 5 new = 15: the 5 oldest queued go
    expect(ob.stats.dropped).toBe(5);
    expect(ob.depth).toBe(10);
    const left = await ob.drain(performance.now() + 20);
    expect(values(left)).toEqual([0, 1, 2, 3, 4, 10, 11, 12, 13, 14]);
  });

  it('keeps one hanging handler from delaying another', async () => {
    const a: number[] = [];
    const hungEv = recorder();
    const hung = new Outbox('hung', settings({ sendTimeout: 30 }), () => new Promise<void>(() => undefined), hungEv);
    const good = new Outbox('good', settings(), async (batch) => void a.push(...values(batch)), recorder());
    hung.start();
    good.start();
    for (let i = 0; i < 500; i += 50) {
      hung.push(range(i, i + 50));
      good.push(range(i, i + 50));
      await new Promise((r) => setTimeout(r, 2));
    }
    await good.drain(performance.now() + 5000);
    expect(a).toEqual(values(range(0, 500)));
    const left = await hung.drain(performance.now() + 100);
    expect(hungEv.failures).toBeGreaterThan(0);
    expect(values(left)).toEqual(values(range(0, 500)));
  });

  it('hands back what it could not send by the deadline, in order', async () => {
    const ob = new Outbox('h', settings(), async () => {
      throw new Error('connection refused');
    }, recorder());
    ob.start();
    ob.push(range(0, 25));
    const left = await ob.drain(performance.now() + 100);
    expect(values(left)).toEqual(values(range(0, 25)));
  });

  it('puts a replaced handler\'s backlog ahead of newer samples', async () => {
    const got: number[] = [];
    const ob = new Outbox('h', settings(), async (batch) => void got.push(...values(batch)), recorder());
    ob.push(range(10, 15));
    ob.prepend(range(0, 10));
    ob.start();
    await ob.drain(performance.now() + 5000);
    expect(got).toEqual(values(range(0, 15)));
  });

  /**
   * An upstream like carbon: `send` resolving means the bytes reached a socket buffer, not that
   * they were stored. The last accepted batch is stored only when the next one arrives; when the
   * connection breaks, that batch is gone.
   */
  function unackedUpstream() {
    const u = { stored: [] as number[], buffered: [] as number[], breakAt: new Set<number>(), sends: 0 };
    const send = async (batch: readonly Sample[]) => {
      u.sends++;
      if (u.breakAt.has(u.sends)) {
        u.buffered = []; // lost with the connection
        throw new Error('connection reset by peer');
      }
      u.stored.push(...u.buffered);
      u.buffered = values(batch);
    };
    return { u, send };
  }

  it('sends again what a broken connection may have lost, before the failed batch, with resendWindow', async () => {
    const { u, send } = unackedUpstream();
    u.breakAt = new Set([3, 4, 9]);
    const ev = recorder();
    const resent: number[] = [];
    const ob = new Outbox('h', settings({ batchSize: 5, resendWindow: 60_000 }), send, { ...ev, resending: (n) => void resent.push(n) });
    ob.start();
    ob.push(range(0, 40));
    expect(await ob.drain(performance.now() + 5000)).toEqual([]);
    u.stored.push(...u.buffered); // a clean close flushes the buffer
    // At least once: every sample is stored; a repeat comes only as a resend, in order after it.
    expect(new Set(u.stored)).toEqual(new Set(values(range(0, 40))));
    expect(resent.length).toBeGreaterThan(0);
    // Counted where the upstream stored them: every sample beyond its first copy came again.
    expect(ob.stats.resent).toBe(resent.reduce((a, b) => a + b, 0));
    expect(ob.stats.resent).toBeGreaterThanOrEqual(u.stored.length - 40);
    // The first copies arrive in order.
    const firsts = u.stored.filter((v, i) => u.stored.indexOf(v) === i);
    expect(firsts).toEqual(values(range(0, 40)));
  });

  it('without resendWindow the same breaks lose the batches written just before them', async () => {
    const { u, send } = unackedUpstream();
    u.breakAt = new Set([3, 4, 9]);
    const ob = new Outbox('h', settings({ batchSize: 5 }), send, recorder());
    ob.start();
    ob.push(range(0, 40));
    expect(await ob.drain(performance.now() + 5000)).toEqual([]);
    u.stored.push(...u.buffered);
    expect(new Set(u.stored).size).toBeLessThan(40);
  });

  it('hands back what a broken connection may have lost when it stops before the upstream returns', async () => {
    const { u, send } = unackedUpstream();
    for (let i = 3; i < 1000; i++) u.breakAt.add(i); // down for good after two batches
    const ob = new Outbox('h', settings({ batchSize: 5, resendWindow: 60_000 }), send, recorder());
    ob.start();
    ob.push(range(0, 20));
    const left = await ob.drain(performance.now() + 200);
    // Batch 0..4 was stored (batch 5..9 pushed it out of the buffer); 5..9 was lost with the
    // connection. Both were written in the window before the break, so both come back, ahead of
    // the rest and in order (a repeat of 0..4 is harmless to carbon).
    expect(u.stored).toEqual(values(range(0, 5)));
    expect(values(left)).toEqual(values(range(0, 20)));
  });

  /** A handler that cannot encode some values: it refuses any batch that holds one, sending nothing of it. */
  function encoder(poison: Set<number>) {
    const u = { received: [] as number[], sends: 0, poisonSends: 0 };
    const send = async (batch: readonly Sample[]) => {
      u.sends++;
      const bad = batch.find((x) => poison.has(x.value));
      if (bad) {
        u.poisonSends++;
        throw new RejectedSamplesError(`value ${bad.value} cannot be encoded`);
      }
      u.received.push(...values(batch));
    };
    return { u, send };
  }

  it('drops only the sample the handler rejects, sends the rest of its batch in order, and never retries it', async () => {
    const { u, send } = encoder(new Set([13]));
    const ev = recorder();
    const rejected: [number, number, string][] = [];
    const ob = new Outbox('h', settings({ batchSize: 16 }), send, { ...ev, rejected: (n, first, reason) => void rejected.push([n, first.value, reason.message]) });
    ob.start();
    ob.push(range(0, 40));
    expect(await ob.drain(performance.now() + 5000)).toEqual([]);
    expect(u.received).toEqual(values(range(0, 40)).filter((v) => v !== 13));
    expect(ob.stats.dropped).toBe(1);
    expect(ob.stats.sent).toBe(39);
    expect(rejected).toEqual([[1, 13, 'value 13 cannot be encoded']]);
    // Halving 16 samples down to one takes 5 refused sends; none after it is found.
    expect(u.poisonSends).toBe(5);
    expect(ev.failures).toBe(0);
  });

  it('finds several rejected samples in one batch and reports them once, with the first', async () => {
    const { u, send } = encoder(new Set([2, 3, 9]));
    const rejected: [number, number][] = [];
    const ob = new Outbox('h', settings({ batchSize: 10 }), send, { ...recorder(), rejected: (n, first) => void rejected.push([n, first.value]) });
    ob.start();
    ob.push(range(0, 10));
    expect(await ob.drain(performance.now() + 5000)).toEqual([]);
    expect(u.received).toEqual([0, 1, 4, 5, 6, 7, 8]);
    expect(ob.stats.dropped).toBe(3);
    expect(rejected).toEqual([[3, 2]]);
  });

  it('still retries with backoff a piece of a split batch whose send fails for another reason', async () => {
    const poison = new Set([5]);
    let outage = 0;
    const received: number[] = [];
    const ev = recorder();
    const ob = new Outbox('h', settings({ batchSize: 8 }), async (batch) => {
      if (batch.some((x) => poison.has(x.value))) throw new RejectedSamplesError('cannot encode');
      // The upstream goes away for two sends right after the first split.
      if (outage++ < 2) throw new Error('connection refused');
      received.push(...values(batch));
    }, ev);
    ob.start();
    ob.push(range(0, 8));
    expect(await ob.drain(performance.now() + 5000)).toEqual([]);
    expect(received).toEqual([0, 1, 2, 3, 4, 6, 7]);
    expect(ev.failures).toBe(2);
    expect(ob.stats.dropped).toBe(1);
  });

  it('backs off exponentially with jitter, up to the maximum', () => {
    expect(backoffDelay(1, 500, 60_000, () => 0)).toBe(250);
    expect(backoffDelay(1, 500, 60_000, () => 1)).toBe(500);
    expect(backoffDelay(4, 500, 60_000, () => 1)).toBe(4000);
    expect(backoffDelay(30, 500, 60_000, () => 1)).toBe(60_000);
    expect(backoffDelay(30, 500, 60_000, () => 0)).toBe(30_000);
  });
});
