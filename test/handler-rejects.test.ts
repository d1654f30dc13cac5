// The built-in handlers refuse, with a RejectedSamplesError, the samples carbon cannot take, so the
// outbox drops just those and delivers the rest of the batch: against a real carbon-cache (plaintext
// and pickle) and a UDP socket.
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import graphite from '../handlers/graphite/graphite.js';
import stdout from '../handlers/stdout.js';
import type { HandlerSection, OutboxSettings } from '../src/config/types.js';
import { HandlerSlot } from '../src/delivery/handler-slot.js';
import { NameTable, PathRenderer } from '../src/model/naming.js';
import type { Sample } from '../src/model/sample.js';
import { RejectedSamplesError } from '../src/plugin-api.js';
import type { AnyHandler } from '../src/plugins/registry.js';
import { startCarbon, type Carbon } from './helpers/carbon.js';
import { tmpdir } from './helpers/tmp.js';

const settings: OutboxSettings = { batchSize: 100, flushInterval: 5, queueSize: 10_000, sendTimeout: 2000, retryMin: 20, retryMax: 100, spool: false, spoolMaxBytes: 0, spoolMaxAge: 0, resendWindow: 0 };
const paths = new PathRenderer({ prefix: 'servers', host: 'h', suffix: '' });
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const names = new NameTable('rej');
const now = Math.floor(Date.now() / 1000) - 60;

/** Ten samples, m.n0 .. m.n9 valued 0 .. 9, with some made impossible to send. */
function batch(run: string, bad: Record<number, Partial<Sample> & { long?: number }>): Sample[] {
  return Array.from({ length: 10 }, (_, i) => {
    const b = bad[i];
    const leaf = b?.long ? 'x'.repeat(b.long) : `n${i}`;
    return { name: names.get([run, leaf]), value: b?.value ?? i, kind: 'gauge', timestamp: (now + i) * 1000, precision: undefined };
  });
}

async function deliver(config: Record<string, unknown>, samples: Sample[]) {
  const section: HandlerSection = { key: 'graphite', group: undefined, plugin: graphite as unknown as AnyHandler, enabled: true, outbox: settings, config: graphite.schema.parse(config) as Record<string, unknown>, fingerprint: '' };
  const rejected: [number, string, string][] = [];
  let failures = 0;
  const slot = new HandlerSlot(section, paths, quiet, { sendFailed: () => void failures++, recovered() {}, dropped() {}, rejected: (n, first, why) => void rejected.push([n, first.name.segments.at(-1)!.slice(0, 4), why.message]) });
  slot.outbox.start();
  slot.outbox.push(samples);
  const left = await slot.outbox.drain(performance.now() + 5000);
  await slot.close();
  return { left, rejected, failures, stats: slot.outbox.stats };
}

let carbon: Carbon;
beforeAll(async () => {
  carbon = await startCarbon(tmpdir());
});
afterAll(async () => {
  await carbon?.stop();
});

/** Waits until carbon has written every one of these points, then returns what it stored. */
async function stored(run: string, indexes: number[]): Promise<Record<number, number>> {
  const out: Record<number, number> = {};
  const end = Date.now() + 15_000;
  for (const i of indexes) {
    const file = path.join(carbon.storage, 'whisper', 'servers', 'h', 'rej', run, `n${i}.wsp`);
    for (;;) {
      try {
        const v = existsSync(file) ? carbon.fetch(`servers.h.rej.${run}.n${i}`, now - 10, now + 20).get(now + i) : undefined;
        if (v !== undefined) {
          out[i] = v;
          break;
        }
      } catch {
        // not written yet
      }
      if (Date.now() > end) throw new Error(`carbon never stored ${run}.n${i}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return out;
}

describe('handlers refuse what carbon cannot take', () => {
  it('plaintext: NaN, Infinity and a line over 16 KiB are dropped and counted; carbon stores the rest', async () => {
    const r = await deliver({ destinations: [`127.0.0.1:${carbon.plaintextPort}`] }, batch('plain', { 3: { value: NaN }, 6: { value: Infinity }, 8: { long: 17_000 } }));
    expect(r.left).toEqual([]);
    expect(r.stats.dropped).toBe(3);
    expect(r.stats.sent).toBe(7);
    expect(r.failures).toBe(0);
    expect(r.rejected).toEqual([[3, 'n3', 'value NaN is not a finite number; carbon stores finite numbers only']]);
    expect(await stored('plain', [0, 1, 2, 4, 5, 7, 9])).toEqual({ 0: 0, 1: 1, 2: 2, 4: 4, 5: 5, 7: 7, 9: 9 });
  });

  it('says how long a line over carbon\'s limit is', async () => {
    const r = await deliver({ destinations: [`127.0.0.1:${carbon.plaintextPort}`] }, batch('long', { 2: { long: 16_400 } }));
    // servers.h.rej.long. (19) + 16400 + " 2 <10 digits>" (13) = 16432 bytes without the newline.
    expect(r.rejected).toEqual([[1, 'xxxx', "its plaintext line is 16432 bytes, over carbon's limit of 16384 (a longer line makes carbon close the connection)"]]);
    expect(await stored('long', [0, 1, 3, 9])).toEqual({ 0: 0, 1: 1, 3: 3, 9: 9 });
  });

  it('pickle: NaN and a path too long for one message are dropped and counted; carbon stores the rest', async () => {
    const r = await deliver({ destinations: [`127.0.0.1:${carbon.picklePort}`], protocol: 'pickle' }, batch('pickle', { 1: { value: -Infinity }, 5: { value: NaN }, 7: { long: 1024 * 1024 } }));
    expect(r.left).toEqual([]);
    expect(r.stats.dropped).toBe(3);
    expect(r.failures).toBe(0);
    expect(r.rejected.map(([n, first]) => [n, first])).toEqual([[3, 'n1']]);
    expect(await stored('pickle', [0, 2, 3, 4, 6, 8, 9])).toEqual({ 0: 0, 2: 2, 3: 3, 4: 4, 6: 6, 8: 8, 9: 9 });
  });

  it('udp: a NaN is dropped before any datagram goes, and the rest arrive once', async () => {
    const sock = dgram.createSocket('udp4');
    const lines: string[] = [];
    sock.on('message', (m) => lines.push(...m.toString().split('\n').filter(Boolean)));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    try {
      const r = await deliver({ destinations: [`127.0.0.1:${sock.address().port}`], transport: 'udp' }, batch('udp', { 4: { value: NaN } }));
      expect(r.stats.dropped).toBe(1);
      const end = Date.now() + 2000;
      while (lines.length < 9 && Date.now() < end) await new Promise((res) => setTimeout(res, 10));
      await new Promise((res) => setTimeout(res, 50));
      expect(lines.map((l) => l.split(' ')[0]!.split('.').at(-1)).sort()).toEqual(['n0', 'n1', 'n2', 'n3', 'n5', 'n6', 'n7', 'n8', 'n9']);
    } finally {
      sock.close();
    }
  });

  it('stdout: a value it cannot print is refused with a RejectedSamplesError, not skipped uncounted', async () => {
    const ctx = { config: {}, state: undefined, path: (n: Sample['name']) => paths.render(n), signal: new AbortController().signal, log: quiet };
    const err = await (async () => stdout.send(batch('out', { 0: { value: NaN } }).slice(0, 1), ctx))().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RejectedSamplesError);
    expect((err as Error).message).toBe('value NaN is not a finite number');
  });
});
