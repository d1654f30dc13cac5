// A collector's baselines live in a scope of the shared tracker, found by the key the collector
// passed; they are saved and restored (sonde once) under the same whole keys as before scopes.
import { describe, expect, it } from 'vitest';
import { standaloneSection } from '../src/config/collector-section.js';
import { defineCollector, z, type CollectorContext, type FileReader } from '../src/plugin-api.js';
import type { AnyCollector } from '../src/plugins/registry.js';
import { CollectorRunner } from '../src/runtime/collector-runner.js';
import { keyBudget, RateTracker } from '../src/runtime/rate.js';
import { recordingLog } from './helpers/plugin-log.js';

const noFiles: FileReader = { root: '/nonexistent', read: () => Promise.reject(new Error('no files here')), resolve: (p) => p };

describe('rate scopes', () => {
  it('derive and delta in a scope as in the whole tracker, saved under prefix + key', () => {
    const r = new RateTracker();
    const s = r.scope('c\u0000\u0001');
    expect(s.derive('k', 100, 0)).toBeUndefined();
    expect(s.derive('k', 350, 12_500)).toBe(20);
    expect(s.delta('d', 5, 0)).toBeUndefined();
    expect(s.delta('d', 9, 2000)).toEqual({ delta: 4, seconds: 2 });
    // The whole tracker's own key of the same text is another baseline.
    expect(r.derive('k', 1, 12_500)).toBeUndefined();
    expect(r.size).toBe(3);
    expect(r.toJSON('b').counters).toEqual({ k: [1, 12_500], 'c\u0000\u0001k': [350, 12_500], 'c\u0000\u0001d': [9, 2000] });
  });

  it('gives the same baselines to the same prefix and others to another', () => {
    const r = new RateTracker();
    r.scope('a\u0000').derive('k', 10, 0);
    expect(r.scope('a\u0000').derive('k', 30, 1000)).toBe(20);
    expect(r.scope('b\u0000').derive('k', 30, 1000)).toBeUndefined();
  });

  it('hands a baseline restored from disk to the scope it was saved from, counted against its owner', () => {
    const a = new RateTracker();
    a.scope('c\u0000\u0001').derive('k', 100, 1000);
    const b = new RateTracker();
    expect(b.restore(JSON.parse(JSON.stringify(a.toJSON('boot'))), 'boot')).toBe(true);
    const mine = keyBudget(1);
    const s = b.scope('c\u0000\u0001');
    expect(s.derive('k', 300, 11_000, mine)).toBe(20);
    expect(mine.used).toBe(1);
    expect(s.derive('other', 1, 11_000, mine)).toBeUndefined();
    expect(mine.refused).toBe(1);
    expect(b.size).toBe(1);
    expect(Object.keys(b.toJSON('boot').counters)).toEqual(['c\u0000\u0001k']);
  });

  it('prunes the baselines of every scope and gives their places back', () => {
    const r = new RateTracker();
    const mine = keyBudget(2);
    const s = r.scope('c\u0000');
    s.derive('old', 1, 0, mine);
    s.derive('new', 1, 10_000, mine);
    r.derive('flat', 1, 0);
    r.prune(5_000);
    expect(r.size).toBe(1);
    expect(mine.used).toBe(1);
    expect(s.derive('new', 11, 20_000, mine)).toBe(1);
  });

  it('carries a collector\u2019s rate(), derive() and delta() baselines from one sonde once run to the next', async () => {
    let value = 100;
    const seen: unknown[] = [];
    const plugin = defineCollector({
      name: 'probe',
      description: 'Test collector.',
      schema: z.object({}),
      collect(ctx: CollectorContext<Record<string, unknown>, unknown>) {
        seen.push(ctx.derive('k', value), ctx.delta('k', value), ctx.rate('r', value, { instance: 'i' }));
      },
    }) as unknown as AnyCollector;
    const section = standaloneSection(plugin, {}, { interval: 10_000, path: 'probe' });
    const first = new RateTracker();
    await new CollectorRunner(section, { proc: noFiles, sys: noFiles, log: recordingLog().log, rates: first, clock: () => 1000 }).run(0, new AbortController().signal);
    const saved = JSON.parse(JSON.stringify(first.toJSON('boot'))) as { counters: Record<string, unknown> };
    // The whole keys sonde once has always written: the collector's key, NUL, then the kind's mark.
    expect(Object.keys(saved.counters).sort()).toEqual(['probe\u0000\u0001k', 'probe\u0000\u0002k', 'probe\u0000i\u0000r']);
    const second = new RateTracker();
    second.restore(saved, 'boot');
    value = 300;
    seen.length = 0;
    await new CollectorRunner(section, { proc: noFiles, sys: noFiles, log: recordingLog().log, rates: second, clock: () => 11_000 }).run(0, new AbortController().signal);
    expect(seen).toEqual([20, { delta: 200, seconds: 10 }, 20]);
  });
});
