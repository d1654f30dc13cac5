// What the agent's long-lived objects cost in V8's heap, measured with the agent's own V8
// settings (baseline compiler only, as `sonde run` sets it). The bounds are hand counts of the
// objects each needs on 64-bit V8 (3 words of header, 8 bytes a field); what was there before
// (boxed numbers, strings built into keys, an array per name) is well above them. Ten MySQL
// instances keep ~55,000 samples in graphite's resend window and ~5,500 names and baselines.
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { standaloneSection } from '../src/config/collector-section.js';
import { NameTable } from '../src/model/naming.js';
import type { Sample } from '../src/model/sample.js';
import { defineCollector, z, type CollectorContext, type FileReader } from '../src/plugin-api.js';
import { CollectorRunner } from '../src/runtime/collector-runner.js';
import type { AnyCollector } from '../src/plugins/registry.js';
import { recordingLog } from './helpers/plugin-log.js';

// As src/entries/sonde.ts sets them for `sonde run`; gc() comes from a context made after the flag.
v8.setFlagsFromString('--max-opt=1');
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Heap bytes that `make` leaves alive, per item, after full collections on both sides. */
function bytesPer<T>(items: number, make: () => T): { per: number; kept: T } {
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept = make();
  gc();
  gc();
  return { per: (process.memoryUsage().heapUsed - before) / items, kept };
}

const noFiles: FileReader = { root: '/nonexistent', read: () => Promise.reject(new Error('no files here')), resolve: (p) => p };
const N = 20_000;
// Made before measuring: the plugin's own strings are not the agent's cost.
const names = Array.from({ length: N }, (_, i) => `Com_stmt_${i}`);
const keys = names.map((n) => `m0\u0000${n}`);

function mysqlLikeRunner(collect: (ctx: CollectorContext<Record<string, unknown>, unknown>) => void) {
  const plugin = defineCollector({ name: 'probe', description: 'Test collector.', schema: z.object({}), collect }) as unknown as AnyCollector;
  // Fractional, as the monotonic clock is: a time is a boxed number, not a small integer.
  let clock = 0.25;
  const r = new CollectorRunner(standaloneSection(plugin, {}, { interval: 1000, path: 'mysql' }), { proc: noFiles, sys: noFiles, log: recordingLog().log, clock: () => clock, maxNames: 100_000 });
  return (advance: number) => {
    clock += advance;
    return r.run(1_700_000_000_123.5 + clock, new AbortController().signal);
  };
}

describe('memory footprint', () => {
  it('keeps a sample in 64 bytes and its place in a batch: the run shares its timestamp and small numbers stay in place', async () => {
    const level = { instance: 'm0' };
    const run = mysqlLikeRunner((ctx) => {
      for (let i = 0; i < N; i++) ctx.emit(names[i]!, i, level);
    });
    // The names are made in a run of their own, whose samples must be gone before measuring:
    // a function of its own, so that nothing of it stays in this one's frame.
    await (async () => void (await run(1000)).samples.length)();
    const batches: Sample[][] = [];
    // Three runs kept, as a resend window keeps them; 64 bytes + 8 for its place, nothing else.
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let k = 0; k < 3; k++) batches.push((await run(1000)).samples);
    gc();
    gc();
    const per = (process.memoryUsage().heapUsed - before) / (3 * N);
    expect(batches.every((b) => b.length === N)).toBe(true);
    expect(batches[2]![7]!.value).toBe(7);
    expect(batches[2]![7]!.timestamp).toBe(1_700_000_004_123.75);
    // Before, each sample had a 16-byte box of its own for the timestamp (and one for a value
    // that is not a small integer): 64 + 8 + 16 and the array grown by push, ~93.
    expect(per).toBeLessThan(80);
  });

  it('holds a name of an instance without a key string of its own, and its segments once for all instances', () => {
    const t = new NameTable('mysql', undefined, { onCollision: () => undefined });
    const { per, kept } = bytesPer(2 * N, () => {
      for (let i = 0; i < N; i++) {
        t.intern(names[i]!, 'm0');
        t.intern(names[i]!, 'm1');
      }
      return t;
    });
    expect(kept.size).toBe(2 * N);
    expect(t.intern(names[5]!, 'm0')).not.toBe(t.intern(names[5]!, 'm1'));
    // The name (48 bytes), half a one-element array of segments (56 / 2) and a map entry with
    // its share of the table (~70): ~150. Before, a key string and two strings for collisions per
    // name and an array of 17 places for its segments made it ~490.
    expect(per).toBeLessThan(200);
  });

  it('holds a derive() baseline in one small object under the collector\u2019s own key, its reading and time in place', async () => {
    let add = 0;
    let rate: number | undefined;
    const run = mysqlLikeRunner((ctx) => {
      for (let i = 0; i < N; i++) rate = ctx.derive(keys[i]!, i + add);
    });
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    await run(1000);
    gc();
    gc();
    const per = (process.memoryUsage().heapUsed - before) / N;
    add = 20;
    await run(2000);
    expect(rate).toBe(10);
    // 48 bytes of object and ~46 of map entry (its share of a table of 32,768 places): ~94.
    // A box of its own for the time made it ~110; before, the key built again with the
    // collector's prefix (a join, kept with its flat copy) made it ~165.
    expect(per).toBeLessThan(102);
  });
});
