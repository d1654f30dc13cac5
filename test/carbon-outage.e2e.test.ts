// The outage the Graphite issue describes: sonde sends 50 metrics every second, carbon is stopped
// for 60 s and started again; afterwards every point of every metric is in whisper.
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCarbon, type Carbon } from './helpers/carbon.js';
import { RunningSonde } from './helpers/sonde.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';

const PLUGINS = path.join(import.meta.dirname, 'fixtures', 'plugins-e2e');
const OUTAGE_S = Number(process.env.SONDE_OUTAGE_SECONDS ?? 60);

/** Run numbers 1..N stored in all 50 metrics: returns what was lost. */
function check(carbon: Carbon, host: string, from: number, until: number): { lostRuns: number[]; missingPoints: number; firstRun: number | undefined; runs: number } {
  const ref = carbon.fetch(`servers.${host}.burst.m0`, from, until);
  const numbers = [...ref.entries()].sort((x, y) => x[0] - y[0]).map(([, v]) => v);
  const lost = Array.from({ length: Math.max(0, ...numbers) }, (_, i) => i + 1).filter((n) => !numbers.includes(n));
  let missing = 0;
  for (let m = 1; m < 50; m++) {
    const got = carbon.fetch(`servers.${host}.burst.m${m}`, from, until);
    for (const [t, v] of ref) if (got.get(t) !== v) missing++;
  }
  return { lostRuns: lost, missingPoints: missing, firstRun: numbers[0], runs: numbers.length };
}

describe('carbon outage', () => {
  it('after kill -9 while spooling, the next start skips a torn record and sends every whole one', async () => {
    const dir = tmpdir();
    const carbonDir = path.join(dir, 'carbon');
    let carbon = await startCarbon(carbonDir);
    const ports = { plaintextPort: carbon.plaintextPort, picklePort: carbon.picklePort };
    await carbon.stop();
    const cfg = writeFiles(dir, {
      'sonde.yaml': `hostname: killed\nstate_dir: ${dir}/state\nplugin_paths: [${PLUGINS}]\nself_metrics: { enabled: false }\ncollectors:\n  burst: { interval: 1s, count: 50 }\nhandlers:\n  graphite: { destinations: ["127.0.0.1:${ports.plaintextPort}"], batch_size: 50, queue_size: 100, flush_interval: 200ms, retry_min: 200ms, retry_max: 1s }\n`,
    })['sonde.yaml']!;
    const t0 = Math.floor(Date.now() / 1000);
    const a = new RunningSonde(['run', '--config', cfg]);
    const b: { s?: RunningSonde } = {};
    try {
      await a.until('samples spooled', () => a.stdout.includes('written to the disk spool'), 30_000);
      await new Promise((r) => setTimeout(r, 6000));
      a.kill('SIGKILL'); // no flush, possibly in the middle of a spool write
      await a.exited;
      // Tear the newest record as a crash in the middle of write(2) would.
      const spoolDir = path.join(dir, 'state', 'spool', 'graphite');
      const newest = readdirSync(spoolDir).sort().at(-1)!;
      truncateSync(path.join(spoolDir, newest), statSync(path.join(spoolDir, newest)).size - 5);
      carbon = await startCarbon(carbonDir, ports);
      writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('burst: { interval: 1s, count: 50 }', 'burst: { enabled: false }'));
      b.s = new RunningSonde(['run', '--config', cfg]);
      await b.s.until('the torn record reported', () => b.s!.stdout.includes('torn record'), 30_000);
      await new Promise((r) => setTimeout(r, 4000));
      b.s.kill('SIGTERM');
      expect(await b.s.exited).toBe(0);
      await new Promise((r) => setTimeout(r, 3000));
      const t1 = Math.floor(Date.now() / 1000);
      const runs = [...carbon.fetch('servers.killed.burst.m0', t0 - 1, t1).values()].sort((x, y) => x - y);
      // Everything spooled before the kill arrived: runs 1..k with no hole. What was only in
      // memory at the kill, and the torn record, are the newest runs and may be missing.
      expect(runs.length).toBeGreaterThanOrEqual(4);
      expect(runs).toEqual(Array.from({ length: runs.length }, (_, i) => i + 1));
      expect(check(carbon, 'killed', t0 - 1, t1).missingPoints).toBe(0);
    } finally {
      a.kill('SIGKILL');
      b.s?.kill('SIGKILL');
      await carbon.stop();
    }
  }, 120_000);

  it('drops only past spool_max_bytes, oldest first, and reports exactly how many it dropped', async () => {
    const dir = tmpdir();
    const carbonDir = path.join(dir, 'carbon');
    let carbon = await startCarbon(carbonDir);
    const ports = { plaintextPort: carbon.plaintextPort, picklePort: carbon.picklePort };
    await carbon.stop(); // down from the start: everything waits in memory and the spool
    const cfg = writeFiles(dir, {
      'sonde.yaml': `hostname: cap\nstate_dir: ${dir}/state\nplugin_paths: [${PLUGINS}]\nself_metrics: { enabled: false }\ncollectors:\n  burst: { interval: 1s, count: 50 }\nhandlers:\n  graphite: { destinations: ["127.0.0.1:${ports.plaintextPort}"], batch_size: 50, queue_size: 100, spool_max_bytes: 32KiB, flush_interval: 200ms, retry_min: 200ms, retry_max: 1s }\n`,
    })['sonde.yaml']!;
    const t0 = Math.floor(Date.now() / 1000);
    const s = new RunningSonde(['run', '--config', cfg]);
    try {
      await s.until('the first drop at the spool cap', () => s.stdout.includes('oldest samples'), 60_000);
      carbon = await startCarbon(carbonDir, ports);
      await new Promise((r) => setTimeout(r, 5000));
      s.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      await new Promise((r) => setTimeout(r, 3000));
      const t1 = Math.floor(Date.now() / 1000);
      const reported = [...s.stdout.matchAll(/dropped its (\d+) oldest samples/g)].reduce((n, m) => n + Number(m[1]), 0);
      const stored = new Map<number, number>(); // run number -> points stored
      for (let m = 0; m < 50; m++) {
        for (const v of carbon.fetch(`servers.cap.burst.m${m}`, t0 - 1, t1).values()) stored.set(v, (stored.get(v) ?? 0) + 1);
      }
      const produced = Math.max(...stored.keys()) * 50;
      const delivered = [...stored.values()].reduce((a, b) => a + b, 0);
      expect(reported).toBeGreaterThan(0);
      expect(delivered + reported).toBe(produced);
      // The oldest waiting runs went, as one block; the newest arrived. (The segment being sent
      // when carbon came back is not waiting any more and is kept.)
      const max = Math.max(...stored.keys());
      const dropped = Array.from({ length: max }, (_, i) => i + 1).filter((n) => !stored.has(n));
      expect(dropped.length).toBeGreaterThan(0);
      expect(dropped).toEqual(Array.from({ length: dropped.length }, (_, i) => dropped[0]! + i));
      expect(dropped.at(-1)).toBeLessThan(max);
    } finally {
      s.kill('SIGKILL');
      await carbon.stop();
    }
  }, 120_000);

  it('loses no point when sonde is restarted while carbon is down (the backlog waits in the spool)', async () => {
    const dir = tmpdir();
    const carbonDir = path.join(dir, 'carbon');
    let carbon = await startCarbon(carbonDir);
    const cfg = writeFiles(dir, {
      'sonde.yaml': `hostname: restart\nstate_dir: ${dir}/state\nplugin_paths: [${PLUGINS}]\nself_metrics: { enabled: false }\ncollectors:\n  burst: { interval: 1s, count: 50 }\nhandlers:\n  graphite: { destinations: ["127.0.0.1:${carbon.plaintextPort}"], queue_size: 500, flush_interval: 200ms, retry_min: 200ms, retry_max: 2s }\n`,
    })['sonde.yaml']!;
    const ports = { plaintextPort: carbon.plaintextPort, picklePort: carbon.picklePort };
    const t0 = Math.floor(Date.now() / 1000);
    const a = new RunningSonde(['run', '--config', cfg]);
    const b: { s?: RunningSonde } = {};
    try {
      await new Promise((r) => setTimeout(r, 4000));
      await carbon.stop();
      await new Promise((r) => setTimeout(r, 6000));
      a.kill('SIGTERM'); // spools what it holds
      expect(await a.exited).toBe(0);
      b.s = new RunningSonde(['run', '--config', cfg]);
      await new Promise((r) => setTimeout(r, 5000));
      carbon = await startCarbon(carbonDir, ports);
      await new Promise((r) => setTimeout(r, 6000));
      b.s.kill('SIGTERM');
      expect(await b.s.exited).toBe(0);
      await new Promise((r) => setTimeout(r, 3000));
      const t1 = Math.floor(Date.now() / 1000);
      // Each process counts its runs from 1: in time order the numbers are 1..n, then 1..m.
      const byTime = [...carbon.fetch('servers.restart.burst.m0', t0 - 1, t1).entries()].sort((x, y) => x[0] - y[0]).map(([, v]) => v);
      const restartAt = byTime.indexOf(1, 1);
      expect(restartAt).toBeGreaterThan(0);
      const [first, second] = [byTime.slice(0, restartAt), byTime.slice(restartAt)];
      expect(first.length).toBeGreaterThanOrEqual(8);
      expect(second.length).toBeGreaterThanOrEqual(8);
      expect(first).toEqual(Array.from({ length: first.length }, (_, i) => i + 1));
      expect(second).toEqual(Array.from({ length: second.length }, (_, i) => i + 1));
      // and every one of the 50 metrics has those points
      expect(check(carbon, 'restart', t0 - 1, t1).missingPoints).toBe(0);
    } finally {
      a.kill('SIGKILL');
      b.s?.kill('SIGKILL');
      await carbon.stop();
    }
  }, 90_000);

  it(`loses no point while carbon is down for ${OUTAGE_S} s`, async () => {
    const dir = tmpdir();
    const carbonDir = path.join(dir, 'carbon');
    let carbon = await startCarbon(carbonDir);
    const cfg = writeFiles(dir, {
      'sonde.yaml': `hostname: outage\nstate_dir: ${dir}/state\nplugin_paths: [${PLUGINS}]\nself_metrics: { enabled: false }\ncollectors:\n  burst: { interval: 1s, count: 50 }\nhandlers:\n  graphite: { destinations: ["127.0.0.1:${carbon.plaintextPort}"], queue_size: 500, flush_interval: 200ms, retry_min: 200ms, retry_max: 2s }\n`,
    })['sonde.yaml']!;
    const s = new RunningSonde(['run', '--config', cfg]);
    try {
      const t0 = Math.floor(Date.now() / 1000);
      await new Promise((r) => setTimeout(r, 5000));
      await carbon.stop();
      await new Promise((r) => setTimeout(r, OUTAGE_S * 1000));
      carbon = await startCarbon(carbonDir, { plaintextPort: carbon.plaintextPort, picklePort: carbon.picklePort });
      await new Promise((r) => setTimeout(r, 5000));
      s.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      await new Promise((r) => setTimeout(r, 3000)); // carbon writes its cache
      const t1 = Math.floor(Date.now() / 1000);
      // Each run stores its run number (1, 2, 3, ...) in all 50 metrics. A lost run is a gap in
      // those numbers; a window the scheduler skipped under load is not (no run, no number).
      const ref = carbon.fetch('servers.outage.burst.m0', t0 - 1, t1);
      const numbers = [...ref.entries()].sort((x, y) => x[0] - y[0]).map(([, v]) => v);
      const runs = numbers.length;
      expect(runs).toBeGreaterThanOrEqual(OUTAGE_S);
      const lost = Array.from({ length: Math.max(...numbers) }, (_, i) => i + 1).filter((n) => !numbers.includes(n));
      let missing = 0;
      for (let m = 1; m < 50; m++) {
        const got = carbon.fetch(`servers.outage.burst.m${m}`, t0 - 1, t1);
        for (const [t, v] of ref) if (got.get(t) !== v) missing++;
      }
      expect({ lostRuns: lost, missingPoints: missing, firstRun: numbers[0] }).toEqual({ lostRuns: [], missingPoints: 0, firstRun: 1 });
    } finally {
      s.kill('SIGKILL');
      await carbon.stop();
    }
  }, (Number(process.env.SONDE_OUTAGE_SECONDS ?? 60) + 60) * 1000);
});
