// The agent's one full garbage collection after start-up and after each reload (settle-heap.ts):
// it really collects, it leaves node's flags as they were, and it runs once per round, after every
// collector's first run.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { createLogger } from '../src/logging/logger.js';
import { Agent } from '../src/runtime/agent.js';
import { collectGarbage, SettleAfterFirstRuns } from '../src/runtime/settle-heap.js';
import { tmpdir } from './helpers/tmp.js';

const turn = () => new Promise((r) => setTimeout(r, 0));

describe('collectGarbage', () => {
  it('frees what nothing references, and leaves gc() out of later contexts as before', async () => {
    let ref: WeakRef<object> | undefined;
    (() => {
      ref = new WeakRef({ payload: new Array(10_000).fill(1) });
    })();
    // A WeakRef's target is kept until the current job ends.
    await turn();
    expect(collectGarbage()).toBe(true);
    expect(ref!.deref()).toBeUndefined();
    expect(vm.runInNewContext('typeof gc')).toBe(typeof (globalThis as { gc?: unknown }).gc);
  });
});

describe('SettleAfterFirstRuns', () => {
  it('settles once, in the next turn after the last awaited key ran', async () => {
    let n = 0;
    const s = new SettleAfterFirstRuns(() => n++);
    s.expect(['a', 'b']);
    s.ran('a');
    s.ran('a');
    s.ran('zzz');
    await turn();
    expect(n).toBe(0);
    s.ran('b');
    expect(n).toBe(0); // not inside the run's own turn
    await turn();
    expect(n).toBe(1);
    s.ran('a');
    s.ran('b');
    await turn();
    expect(n).toBe(1);
  });

  it('settles at once for a round with nothing to wait for, and not at all once cancelled', async () => {
    let n = 0;
    const s = new SettleAfterFirstRuns(() => n++);
    s.expect([]);
    await turn();
    expect(n).toBe(1);
    s.expect(['a']);
    s.cancel();
    s.ran('a');
    await turn();
    expect(n).toBe(1);
  });

  it('settles after maxWaitMs when a first run is further away, once', async () => {
    let n = 0;
    const s = new SettleAfterFirstRuns(() => n++, 30);
    s.expect(['hourly']);
    await turn();
    expect(n).toBe(0);
    await new Promise((r) => setTimeout(r, 80));
    expect(n).toBe(1);
    s.ran('hourly');
    await new Promise((r) => setTimeout(r, 80));
    expect(n).toBe(1);
  });
});

describe('the agent', () => {
  it('settles after the first runs of a start, and again after a reload that restarts a collector', async () => {
    const dir = tmpdir();
    const cfg = path.join(dir, 'sonde.yaml');
    const write = (interval: string) =>
      writeFileSync(cfg, ['hostname: test', 'log_level: fatal', `state_dir: ${dir}/state`, 'plugin_paths: []', 'self_metrics: { enabled: false }', 'collectors:', `  loadavg: { interval: ${interval} }`, `  vmstat: { interval: 1s }`, 'handlers: {}', ''].join('\n'));
    write('200ms');
    const log = await createLogger('fatal', 2);
    const settled: number[] = [];
    const agent = new Agent(cfg, log, (l) => l, () => settled.push(performance.now()));
    const t0 = performance.now();
    await agent.start(await loadConfig(cfg));
    // Waits (generously: a loaded machine delays the first windows) until `n` settles were seen.
    const settles = async (n: number) => {
      for (let waited = 0; settled.length < n && waited < 15_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
      // loadavg runs every 200-300 ms meanwhile: its later runs must not settle again.
      await new Promise((r) => setTimeout(r, 700));
      return settled.length;
    };
    try {
      expect(await settles(1)).toBe(1);
      expect(settled[0]! - t0).toBeGreaterThan(0);
      write('300ms');
      expect(await agent.reload()).toBe(true);
      expect(await settles(2)).toBe(2);
    } finally {
      await agent.stop();
    }
  });
});
