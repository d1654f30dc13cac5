// The collector runner as a plugin meets it: what it refuses from emit, rate, derive, delta and
// health, the cap on new names, collisions of sanitised names, and the scope its code runs in.
import { describe, expect, it } from 'vitest';
import { standaloneSection } from '../src/config/collector-section.js';
import { currentPluginScope, markFromFile, type PluginScope } from '../src/logging/plugin-scope.js';
import { relativePath } from '../src/model/naming.js';
import { defineCollector, z, type CollectorContext, type FileReader } from '../src/plugin-api.js';
import { CollectorRunner, type RunnerDeps } from '../src/runtime/collector-runner.js';
import type { AnyCollector } from '../src/plugins/registry.js';
import { recordingLog } from './helpers/plugin-log.js';

const noFiles: FileReader = { root: '/nonexistent', read: () => Promise.reject(new Error('no files here')), resolve: (p) => p };

const recorder = recordingLog;

type Ctx = CollectorContext<Record<string, unknown>, unknown>;

function runner(collect: (ctx: Ctx) => void | Promise<void>, opts: { options?: Record<string, unknown>; deps?: Partial<RunnerDeps>; fromFile?: boolean } = {}) {
  const plugin = defineCollector({ name: 'probe', description: 'Test collector.', schema: z.object({}), collect }) as unknown as AnyCollector;
  if (opts.fromFile) markFromFile(plugin);
  const { log, said } = recorder();
  let clock = 0;
  const deps: RunnerDeps = { proc: noFiles, sys: noFiles, log, clock: () => clock, ...opts.deps };
  const r = new CollectorRunner(standaloneSection(plugin, opts.options ?? {}, { interval: 10_000, path: 'probe' }), deps);
  return {
    r,
    said,
    /** One run, `advance` ms of monotonic time after the last. */
    run: async (advance = 10_000) => {
      clock += advance;
      return r.run(1_700_000_000_000 + clock, new AbortController().signal);
    },
  };
}

/** Plugins are JavaScript: the argument types do not hold them back. */
const loose = (ctx: Ctx) => ctx as unknown as Record<'emit' | 'rate' | 'derive' | 'delta' | 'health', (...a: unknown[]) => unknown>;

describe('collector runner: what a plugin emits', () => {
  it('refuses every malformed emit, counts it, keeps the good samples of the same run and says why', async () => {
    const t = runner((ctx) => {
      const c = loose(ctx);
      ctx.emit('ok.first', 1);
      c.emit('bad.string', '12'); // 1
      c.emit('bad.bigint', 12n); // 2
      c.emit('bad.undefined', undefined); // 3
      ctx.emit('bad.nan', NaN); // 4
      ctx.emit('bad.inf', -Infinity); // 5
      c.emit('bad.kind', 1, 'histogram'); // 6
      c.emit('bad.kind2', 1, { kind: 'meter' }); // 7
      ctx.emit('bad.precision', 1, { precision: 2.5 }); // 8
      ctx.emit('bad.precision2', 1, { precision: 21 }); // 9
      ctx.emit('bad.precision3', 1, { precision: -1 }); // 10
      ctx.emit('bad.instance', 1, { instance: '' }); // 11
      c.emit('bad.instance2', 1, { instance: 7 }); // 12
      c.emit('bad.options', 1, 42); // 13
      c.emit('bad.options2', 1, null); // 14
      ctx.emit('', 1); // 15
      ctx.emit('...', 1); // 16
      ctx.emit([], 1); // 17
      ctx.emit(['', ''], 1); // 18
      c.emit(['a', 5], 1); // 19
      c.emit(42, 1); // 20
      c.emit(undefined, 1); // 21
      c.rate('bad.rate', 'x'); // 22
      c.rate('bad.rate2', 1, 'counter'); // 23
      c.derive('', 1); // 24
      c.derive('k', Symbol('x')); // 25
      c.delta(3, 1); // 26
      c.health('', 1); // 27
      ctx.health('h', NaN); // 28
      ctx.emit('ok.second', 2, { kind: 'counter', precision: 0, instance: 'i1' });
      ctx.emit(['ok', 'third'], 3, 'rate');
      ctx.health('ok_health', 4);
    });
    const res = await t.run();
    expect(res.error).toBeUndefined();
    expect(res.samples.map((s) => [relativePath(s.name), s.value, s.kind, s.precision])).toEqual([
      ['probe.ok.first', 1, 'gauge', undefined],
      ['probe.i1.ok.second', 2, 'counter', 0],
      ['probe.ok.third', 3, 'rate', undefined],
      ['sonde.collector.probe.ok_health', 4, 'gauge', undefined],
    ]);
    expect(res.invalid).toBe(28);
    expect(t.r.totals.invalidValues).toBe(28);
    expect(res.invalidExamples).toEqual([
      '"bad.string": the value "12" is a string, not a number: convert it with Number() and check the result',
      '"bad.bigint": the value 12n is a bigint, not a number: convert it with Number()',
      '"bad.undefined": the value is undefined, not a number',
    ]);
    const warned = t.said.filter((l) => l.startsWith('warn '));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain('collector probe: refused 28 emit(s) this run, e.g. "bad.string": the value "12" is a string');
    expect(warned[0]).toContain('sonde.collector.probe.invalid_values');
  });

  it('names each reason an emit is refused', async () => {
    const reasons: string[] = [];
    const cases: [string, (c: ReturnType<typeof loose>) => void][] = [
      ['the value is NaN', (c) => c.emit('x', NaN)],
      ['the value is infinite', (c) => c.emit('x', Infinity)],
      ['the kind "histogram" is not "gauge", "counter" or "rate"', (c) => c.emit('x', 1, 'histogram')],
      ['the precision 2.5 is not a whole number from 0 to 20', (c) => c.emit('x', 1, { precision: 2.5 })],
      ['the instance "" is not a non-empty string', (c) => c.emit('x', 1, { instance: '' })],
      ['the options 42 are not a kind ("gauge", "counter", "rate") or an object such as { precision: 2 }', (c) => c.emit('x', 1, 42)],
      ['the name has no segment to make a path of (it is empty or only dots)', (c) => c.emit('..', 1)],
      ['the name is not a string or an array of strings', (c) => c.emit(['a', null], 1)],
      ['the key of derive() is not a non-empty string', (c) => c.derive('', 1)],
      ['the name of health() is not a non-empty string', (c) => c.health(undefined, 1)],
    ];
    for (const [why, call] of cases) {
      const t = runner((ctx) => call(loose(ctx)));
      const res = await t.run();
      expect(res.invalid, why).toBe(1);
      reasons.push(res.invalidExamples[0]!.replace(/^[^:]*: /, ''));
    }
    expect(reasons).toEqual(cases.map(([why]) => why));
  });

  it('keeps the samples emitted before a collector throws', async () => {
    const t = runner((ctx) => {
      ctx.emit('before', 1);
      loose(ctx).emit('bad', 'x');
      throw new Error('collector bug');
    });
    const res = await t.run();
    expect(res.error?.message).toBe('collector bug');
    expect(res.samples.map((s) => relativePath(s.name))).toEqual(['probe.before']);
    expect(res.invalid).toBe(1);
  });
});

describe('collector runner: bounded names', () => {
  it('keeps memory flat under 100,000 distinct names: refuses new names past the cap, counts them, and keeps the old ones working', async () => {
    const CAP = 1000;
    let run = 0;
    const t = runner(
      (ctx) => {
        run++;
        ctx.emit('stable', run);
        // 25,000 new names per run through each of emit, rate, derive and delta: 100,000.
        for (let i = 0; i < 25_000; i++) {
          ctx.emit(`flood.e${run}_${i}`, i);
          ctx.rate(['flood', `r${run}_${i}`], i);
          ctx.derive(`d${run}_${i}`, i);
          ctx.delta(`t${run}_${i}`, i);
        }
      },
      { deps: { maxNames: CAP } },
    );
    const first = await t.run();
    // Names: `stable` and then 999 of the emitted and rated ones; the rest are refused. derive
    // and delta keys have a cap of their own: 1000 of their 50,000.
    expect(t.r.names.size).toBe(CAP);
    expect(first.namesRefused).toBe(50_000 - (CAP - 1) + (50_000 - CAP));
    expect(t.r.rates.size).toBeLessThanOrEqual(2 * CAP);
    expect(first.samples.length).toBeLessThanOrEqual(CAP);
    const second = await t.run();
    expect(t.r.names.size).toBe(CAP);
    expect(t.r.rates.size).toBeLessThanOrEqual(2 * CAP);
    expect(second.namesRefused).toBe(100_000);
    expect(t.r.totals.namesRefused).toBe(first.namesRefused + 100_000);
    // The name it had before the cap still works.
    expect(second.samples.find((s) => relativePath(s.name) === 'probe.stable')?.value).toBe(2);
    // One warning per throttle window, naming the collector and the cap.
    const warned = t.said.filter((l) => l.includes('new metric name'));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain('collector probe: refused');
    expect(warned[0]).toContain('it holds 1000, its cap (max_names_per_collector, or max_names in its section)');
    expect(warned[0]).toContain('sonde.collector.probe.names_refused');
  });

  it('takes the cap from the section\'s max_names over max_names_per_collector', async () => {
    const t = runner((ctx) => {
      for (let i = 0; i < 10; i++) ctx.emit(`m${i}`, i);
    }, { options: { max_names: 4 }, deps: { maxNames: 1000 } });
    const res = await t.run();
    expect(res.samples).toHaveLength(4);
    expect(res.namesRefused).toBe(6);
  });

  it('forgets names its last run did not emit once the table is full, so names that come and go do not lock it', async () => {
    // A process-per-name collector: five names alive at a time, a new one every run.
    let run = 0;
    const t = runner(
      (ctx) => {
        run++;
        for (let i = run; i < run + 5; i++) ctx.emit(`pid_${i}`, i);
      },
      { deps: { maxNames: 8, forgetAfter: 50_000 } },
    );
    // forgetAfter / 10 = 5 s: with runs 10 s apart, every run prunes.
    const emitted: number[] = [];
    for (let i = 0; i < 12; i++) emitted.push((await t.run()).samples.length);
    // Run n emits pid_n .. pid_n+4. Run 1 makes 5 names, runs 2-4 one each (8, the cap). Run 5 is
    // refused pid_9 and keeps only its 4 live names, which leaves room for the new names of runs
    // 6-8 (pid_9 .. pid_12); run 9 is refused pid_13 and trims again, and so on.
    expect(emitted).toEqual([5, 5, 5, 5, 4, 5, 5, 5, 4, 5, 5, 5]);
    expect(t.r.names.size).toBeLessThanOrEqual(8);
  });

  it('reports once two different names of one collector that sanitise to one path', async () => {
    const t = runner((ctx) => {
      ctx.emit('disk.sda 1.reads', 1);
      ctx.emit('disk.sda_1.reads', 2);
      ctx.emit(['disk', 'sda 1', 'reads'], 3); // the first name again, as segments: no collision
      ctx.emit('disk..sda_1.reads', 4); // the second again, with an empty part dropped
      ctx.emit(['disk', 'sda?1', 'reads'], 5); // a third name into the same path: already said
    });
    await t.run();
    await t.run();
    const said = t.said.filter((l) => l.includes('both become'));
    expect(said).toEqual([
      'warn collector probe: names "disk.sda 1.reads" and "disk.sda_1.reads" both become probe.disk.sda_1.reads once the characters a metric path cannot hold are replaced with _; their samples land on one metric and overwrite each other. Rename one of them in plugin probe',
    ]);
  });
});

describe('collector runner: plugin scope', () => {
  it('runs collect in the plugin\'s scope, which timers and promises it leaves behind inherit', async () => {
    const seen: (PluginScope | undefined)[] = [];
    let fired!: () => void;
    const done = new Promise<void>((r) => (fired = r));
    const t = runner(
      (ctx) => {
        seen.push(currentPluginScope());
        setTimeout(() => {
          seen.push(currentPluginScope());
          fired();
        }, 1);
        void Promise.resolve().then(() => seen.push(currentPluginScope()));
        ctx.emit('x', 1);
      },
      { fromFile: true },
    );
    await t.run();
    await done;
    expect(currentPluginScope()).toBeUndefined();
    expect(seen).toEqual([
      { plugin: 'probe', collector: 'probe' },
      { plugin: 'probe', collector: 'probe' },
      { plugin: 'probe', collector: 'probe' },
    ]);
  });

  it('runs a built-in plugin (not from a plugin file) without a scope: it is sonde\'s own code', async () => {
    const seen: (PluginScope | undefined)[] = [];
    const t = runner((ctx) => {
      seen.push(currentPluginScope());
      ctx.emit('x', 1);
    });
    await t.run();
    expect(seen).toEqual([undefined]);
  });

  it('gives up on a collect that never returns at its deadline', async () => {
    const t = runner(() => new Promise<void>(() => undefined));
    const started = performance.now();
    expect(await t.r.runWithin(Date.now(), 50)).toBe('timeout');
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
