// The router fans every sample out to every handler: one handler's trouble (a spool on a full
// disk, or an outright fault) must never keep the samples from the others.
import { describe, expect, it } from 'vitest';
import type { HandlerSection, OutboxSettings } from '../src/config/types.js';
import { HandlerSlot } from '../src/delivery/handler-slot.js';
import { Spool } from '../src/delivery/spool.js';
import { LogThrottle } from '../src/logging/throttle.js';
import { PathRenderer } from '../src/model/naming.js';
import type { Sample } from '../src/model/sample.js';
import { defineHandler, z } from '../src/plugin-api.js';
import type { AnyHandler } from '../src/plugins/registry.js';
import { outboxEvents } from '../src/runtime/outbox-log.js';
import { Router } from '../src/runtime/router.js';
import { capturedLog } from './helpers/captured-log.js';
import { tmpfs } from './helpers/tmpfs.js';
import { range, values } from './helpers/samples.js';

const settings: OutboxSettings = { batchSize: 50, flushInterval: 5, queueSize: 100, sendTimeout: 1000, retryMin: 5, retryMax: 20, spool: true, spoolMaxBytes: 1024 ** 3, spoolMaxAge: 86_400_000, resendWindow: 0 };
const paths = new PathRenderer({ prefix: 'servers', host: 'h', suffix: '' });
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function slot(key: string, send: (batch: readonly Sample[]) => Promise<void>, log: ReturnType<typeof capturedLog>['log'], spool?: Spool): HandlerSlot {
  const plugin = defineHandler({ name: key, description: 'test handler', schema: z.object({}), send }) as unknown as AnyHandler;
  // Without a spool, room for everything a test routes: the handler itself never drops.
  const outbox = spool ? settings : { ...settings, spool: false, queueSize: 100_000 };
  const section: HandlerSection = { key, group: undefined, plugin, enabled: true, outbox, config: {}, fingerprint: '' };
  return new HandlerSlot(section, paths, quiet, outboxEvents(key, log, new LogThrottle()), spool);
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

describe('router', () => {
  it('keeps delivering to a second handler while the first one\'s spool disk is full, and says where it is full', async () => {
    const dir = tmpfs('16k');
    const { lines, log } = capturedLog();
    const down = slot('carbon', async () => {
      throw new Error('connection refused');
    }, log, new Spool(dir, { maxBytes: 1024 ** 3, maxAge: 86_400_000, segmentBytes: 2000 }));
    const got: number[] = [];
    const good = slot('backup', async (batch) => void got.push(...values(batch)), log);
    const router = new Router(paths);
    down.outbox.start();
    good.outbox.start();
    const produced = 4000;
    for (let i = 0; i < produced; i += 40) router.route(range(i, i + 40), [down, good]);
    await until(() => got.length === produced);
    expect(got).toEqual(values(range(0, produced)));
    // The full handler counted what it dropped, and said so naming the directory, once.
    expect(down.outbox.stats.dropped).toBeGreaterThan(0);
    const full = lines.filter((l) => l.msg.includes('out of space'));
    expect(full).toHaveLength(1);
    expect(full[0]!.msg).toContain(`handler carbon: the disk spool in ${dir} is out of space`);
    expect(full[0]!.msg).toMatch(/dropped \d+ samples/);
    await good.outbox.drain(performance.now() + 1000);
    await down.outbox.drain(performance.now() + 50);
  });

  it('reports a slot that throws and still gives every other slot its samples', () => {
    const { lines, log } = capturedLog();
    const broken = slot('broken', async () => {}, log);
    const after = slot('after', async () => {}, log);
    // Nothing real throws out of an outbox any more: this stands for a fault not yet known.
    broken.outbox.push = () => {
      throw new Error('simulated fault');
    };
    const router = new Router(paths);
    router.route(range(0, 10), [broken, after]);
    expect(after.outbox.depth).toBe(10);
    expect(lines.map((l) => l.msg)).toEqual(['handler broken: unexpected error while routing 10 samples to it (they may be lost for this handler): simulated fault; delivery goes on. Please report this as a bug, with this line']);
  });
});
