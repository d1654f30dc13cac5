// The outbox with its disk spool: nothing dropped while the upstream is down, nothing lost at
// shutdown, order kept, and exact accounting when the spool's cap is reached.
import { cpSync, readdirSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import graphite from '../handlers/graphite/graphite.js';
import type { HandlerSection, OutboxSettings } from '../src/config/types.js';
import { HandlerSlot } from '../src/delivery/handler-slot.js';
import { Outbox, type OutboxEvents } from '../src/delivery/outbox.js';
import type { SpoolWriteFailure } from '../src/delivery/overflow.js';
import { Spool } from '../src/delivery/spool.js';
import { LogThrottle } from '../src/logging/throttle.js';
import { NameTable, PathRenderer } from '../src/model/naming.js';
import type { AnyHandler } from '../src/plugins/registry.js';
import { outboxEvents } from '../src/runtime/outbox-log.js';
import { capturedLog } from './helpers/captured-log.js';
import { tmpdir } from './helpers/tmp.js';
import { tmpfs } from './helpers/tmpfs.js';
import { range, sample, values } from './helpers/samples.js';
import { RejectedSamplesError } from '../src/plugin-api.js';

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

  it('a handler replaced while it sends a spooled segment: its successor resumes after the settled samples, nothing sent or dropped twice', async () => {
    const dir = tmpdir();
    const spool = new Spool(dir, bigSpool);
    const poison = { ...sample(1), value: Number.NaN };
    spool.append([sample(0), poison, sample(2), sample(3)]);
    const sent: number[] = [];
    let hang = true;
    // Refuses NaN for good (RejectedSamplesError); hangs on the batch after it until replaced.
    const send = async (batch: readonly { value: number }[]) => {
      if (batch.some((s) => Number.isNaN(s.value))) throw new RejectedSamplesError('NaN');
      if (hang && batch.some((s) => s.value === 2)) return new Promise<void>(() => undefined);
      sent.push(...batch.map((s) => s.value));
    };
    const first = new Outbox('h', { ...settings, batchSize: 4 }, send, events(), spool);
    first.start();
    for (let i = 0; i < 100 && sent.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual([0]);
    expect(first.stats.dropped).toBe(1);
    expect(await first.detach()).toEqual([]);
    hang = false;
    const second = new Outbox('h', { ...settings, batchSize: 4 }, send, events(), spool);
    await second.drain(performance.now() + 2000);
    expect(sent).toEqual([0, 2, 3]);
    expect(first.stats.dropped + second.stats.dropped).toBe(1);
    expect(spool.pending).toBe(0);
  });
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

  it('on a full disk drops the oldest, counts every drop, leaves no torn record, and sends the rest in order', async () => {
    const dir = tmpfs('16k');
    let up = false;
    const got: number[] = [];
    const failures: SpoolWriteFailure[] = [];
    const ob = new Outbox('h', settings, async (batch) => {
      if (!up) throw new Error('connection refused');
      got.push(...values(batch));
    }, { ...events(), spoolWriteFailed: (f) => void failures.push(f) }, new Spool(dir, { ...bigSpool, segmentBytes: 2000 }));
    ob.start();
    const produced = 3000; // some 120 KB of spool records on a 16 KiB file system
    for (let i = 0; i < produced; i += 30) ob.push(range(i, i + 30)); // never throws
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((f) => f.dir === dir && f.full && /ENOSPC/.test(f.error.message))).toBe(true);
    // What is on disk is whole records only, as a restart would read them (read from a copy).
    const copy = tmpdir();
    cpSync(dir, copy, { recursive: true });
    const fresh = new Spool(copy, bigSpool);
    expect(fresh.pending + ob.depth + ob.stats.dropped).toBe(produced);
    for (let seg = fresh.oldest(); seg; seg = fresh.oldest()) {
      expect([seg.tornBytes, seg.lost]).toEqual([0, 0]);
      fresh.done(seg);
    }
    up = true;
    await ob.drain(performance.now() + 5000);
    expect(got.length).toBeGreaterThan(0);
    expect(got.length + ob.stats.dropped).toBe(produced);
    expect(got).toEqual([...got].sort((a, b) => a - b));
    expect(got.at(-1)).toBe(produced - 1);
    expect(ob.spooled).toBe(0);
  });

  it('skips a spool file removed under a running outbox, counts and logs it, and keeps sending', async () => {
    const dir = tmpdir();
    let up = false;
    const got: number[] = [];
    const { lines, log } = capturedLog();
    const spool = new Spool(dir, { ...bigSpool, segmentBytes: 1 }); // a file per spill
    const ob = new Outbox('h', settings, async (batch) => {
      if (!up) throw new Error('connection refused');
      got.push(...values(batch));
    }, outboxEvents('h', log, new LogThrottle()), spool);
    ob.start();
    for (let i = 0; i < 40; i += 10) ob.push(range(i, i + 10)); // 30 go to three spool files
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(3);
    unlinkSync(path.join(dir, files[1]!));
    up = true;
    ob.push(range(40, 45));
    await until(() => got.length >= 35);
    await ob.drain(performance.now() + 1000);
    expect(got).toEqual(values(range(0, 45)).filter((v) => v < 10 || v >= 20));
    expect(ob.stats.dropped).toBe(10);
    const damaged = lines.filter((l) => l.msg.includes('could not be read whole'));
    expect(damaged.map((l) => l.msg)).toEqual([
      `handler h: spool file ${path.join(dir, files[1]!)} could not be read whole (ENOENT: no such file or directory, open '${path.join(dir, files[1]!)}'); its 10 unreadable samples are dropped (counted in sonde.handler.h.dropped) and sending goes on with the rest. It was removed or changed after sonde wrote it (by another program, or a crash of the host): leave that directory to sonde`,
    ]);
  });

  it('drops a sample the graphite handler cannot send from a spooled segment after a restart, then the segment is done', async () => {
    const dir = tmpdir();
    const names = new NameTable('app');
    const at = (i: number, value = i) => ({ name: names.get(['m', `n${i}`]), value, kind: 'gauge' as const, timestamp: 1_700_000_000_000 + i * 1000, precision: undefined });
    const batch = [at(0), at(1), at(2), at(3, NaN), at(4), at(5)];
    // First run: carbon is down; everything waits in the spool at shutdown.
    const first = new Outbox('graphite', settings, async () => {
      throw new Error('connection refused');
    }, events(), new Spool(dir, bigSpool));
    first.start();
    first.push(batch);
    expect(await first.drain(performance.now() + 100)).toEqual([]);
    expect(new Spool(dir, bigSpool).pending).toBe(6);

    // Second run: carbon is back, and the real graphite handler sends what was spooled.
    const carbon = await lineSink();
    const config = graphite.schema.parse({ destinations: [`127.0.0.1:${carbon.port}`] }) as Record<string, unknown>;
    const section: HandlerSection = { key: 'graphite', group: undefined, plugin: graphite as unknown as AnyHandler, enabled: true, outbox: settings, config, fingerprint: '' };
    const { lines, log } = capturedLog();
    const slot = new HandlerSlot(section, new PathRenderer({ prefix: 'servers', host: 'h', suffix: '' }), quiet, outboxEvents('graphite', log, new LogThrottle()), new Spool(dir, bigSpool));
    slot.outbox.start();
    await until(() => carbon.lines().length >= 5 && slot.outbox.spooled === 0);
    await slot.outbox.drain(performance.now() + 1000);
    await slot.close();
    expect(carbon.lines()).toEqual([0, 1, 2, 4, 5].map((i) => `servers.h.app.m.n${i} ${i} ${1_700_000_000 + i}`));
    expect(slot.outbox.stats.dropped).toBe(1);
    expect(lines.map((l) => l.msg)).toEqual([
      'handler graphite: dropped 1 sample it can never send, the first app.m.n3 (value NaN is not a finite number; carbon stores finite numbers only); counted in sonde.handler.graphite.dropped and never retried, the rest of the batch is sent. Fix the collector that emits it (app)',
    ]);
    expect(readdirSync(dir)).toEqual([]);
  });
});

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((srv) => new Promise((r) => srv.close(r))));
});

/** A TCP listener that keeps the lines it is sent, like carbon's line receiver. */
function lineSink(): Promise<{ port: number; lines: () => string[] }> {
  let data = '';
  const server = net.createServer((sock) => sock.setEncoding('utf8').on('data', (d: string) => (data += d)));
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as net.AddressInfo).port, lines: () => data.split('\n').filter(Boolean) })));
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}
