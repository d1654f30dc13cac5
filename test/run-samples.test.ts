// What a run hands on and how it is written: a run's array is made ahead at the size of the last
// run, yet holds exactly what the run emitted; a plaintext line reuses the end it wrote for the
// last timestamp only while the timestamp stays the same.
import { describe, expect, it } from 'vitest';
import { standaloneSection } from '../src/config/collector-section.js';
import { relativePath } from '../src/model/naming.js';
import { plaintextLine } from '../src/model/value-format.js';
import { defineCollector, z, type CollectorContext, type FileReader } from '../src/plugin-api.js';
import type { AnyCollector } from '../src/plugins/registry.js';
import { CollectorRunner, type RunnerDeps } from '../src/runtime/collector-runner.js';
import { recordingLog } from './helpers/plugin-log.js';

const noFiles: FileReader = { root: '/nonexistent', read: () => Promise.reject(new Error('no files here')), resolve: (p) => p };

function runner(collect: (ctx: CollectorContext<Record<string, unknown>, unknown>) => void | Promise<void>, deps: Partial<RunnerDeps> = {}) {
  const plugin = defineCollector({ name: 'probe', description: 'Test collector.', schema: z.object({}), collect }) as unknown as AnyCollector;
  let clock = 0;
  const r = new CollectorRunner(standaloneSection(plugin, {}, { interval: 10_000, path: 'probe' }), { proc: noFiles, sys: noFiles, log: recordingLog().log, clock: () => clock, ...deps });
  return (signal = new AbortController().signal) => {
    clock += 10_000;
    return r.run(1_700_000_000_000 + clock, signal);
  };
}

describe('a run\u2019s samples', () => {
  it('are exactly the emitted ones, in order, whether the run makes fewer or more than the last', async () => {
    const counts = [5, 2, 0, 7, 3];
    let k = 0;
    const run = runner((ctx) => {
      const n = counts[k++]!;
      for (let i = 0; i < n; i++) ctx.emit(`m${i}`, i);
    });
    for (const n of counts) {
      const r = await run();
      expect(r.samples).toHaveLength(n);
      expect(r.samples.map((s) => s.value)).toEqual([...Array(n).keys()]);
      expect(Object.keys(r.samples)).toHaveLength(n);
    }
  });

  it('are none for a run abandoned midway, and the next run has all of its own', async () => {
    const ctrl = new AbortController();
    let n = 0;
    const run = runner(async (ctx) => {
      n++;
      ctx.emit('a', 1);
      if (n === 2) {
        ctrl.abort(new Error('timed out after 10 ms'));
        ctx.emit('late', 2);
      }
      ctx.emit('b', 3);
    });
    expect((await run()).samples).toHaveLength(2);
    expect((await run(ctrl.signal)).samples).toEqual([]);
    expect((await run()).samples.map((s) => relativePath(s.name))).toEqual(['probe.a', 'probe.b']);
  });

  it('leave nothing undefined for the trim of a full table, after a run that made more', async () => {
    let run = 0;
    const t = runner(
      (ctx) => {
        run++;
        // Run 1 fills the table; run 2 emits fewer and new ones, refused until the trim.
        const names = run === 1 ? ['a', 'b', 'c', 'd'] : ['a', `new${run}`];
        for (const n of names) ctx.emit(n, run);
      },
      { maxNames: 4, forgetAfter: 50_000 },
    );
    expect((await t()).samples).toHaveLength(4);
    const second = await t();
    expect(second.samples.map((s) => relativePath(s.name))).toEqual(['probe.a']);
    expect(second.namesRefused).toBe(1);
    const third = await t();
    expect(third.samples.map((s) => relativePath(s.name))).toEqual(['probe.a', 'probe.new3']);
  });
});

describe('plaintext lines one after the other', () => {
  it('end in each one\u2019s own timestamp, however the timestamps alternate', () => {
    const lines = [
      plaintextLine('a', 1, undefined, 1_795_382_080_999),
      plaintextLine('b', 2, 2, 1_795_382_080_999),
      plaintextLine('c', 3, undefined, 1_795_382_081_000),
      plaintextLine('d', 4, undefined, 1_795_382_080_000),
      plaintextLine('e', 5, undefined, NaN),
      plaintextLine('f', 6, undefined, -1500),
      plaintextLine('g', 7, undefined, -1500),
    ];
    expect(lines.join('')).toBe('a 1 1795382080\nb 2.00 1795382080\nc 3 1795382081\nd 4 1795382080\ne 5 NaN\nf 6 -2\ng 7 -2\n');
  });
});
