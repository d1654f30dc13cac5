// `sonde run` (the bundle) with the statsd handler while SIGHUP changes its section: each change
// makes a new instance that shares <state_dir>/handlers/statsd/counters.json with the one it
// replaces. A running total read from a file the test writes goes to a real Etsy statsd, whose
// admin interface must count exactly its growth: nothing lost, nothing twice.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunningSonde } from './helpers/sonde.js';
import { startStatsd, type Statsd } from './helpers/statsd.js';
import { tmpdir } from './helpers/tmp.js';

const PLUGINS = path.join(import.meta.dirname, 'fixtures/plugins-counter');
const NAME = 'servers.hup01.filecounter.total';

let sd: Statsd;
beforeAll(async () => {
  sd = await startStatsd(tmpdir());
});
afterAll(async () => {
  await sd?.stop();
});

async function counted(): Promise<number> {
  return (await sd.counters()).get(NAME) ?? 0;
}

async function until(what: string, check: () => Promise<boolean>, s: RunningSonde, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; statsd counted ${await counted()}\nlog:\n${(s.stdout + s.stderr).slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('statsd handler across SIGHUP reloads', () => {
  it('a changed, removed and re-added statsd section counts a counter\'s growth exactly once', async () => {
    const dir = tmpdir();
    const total = path.join(dir, 'total');
    const file = path.join(dir, 'state/handlers/statsd/counters.json');
    // Replaced whole (a new file renamed over it): the collector, reading every 200 ms, must never
    // see the empty file a rewrite in place leaves for a moment (Number('') is 0: a counter reset,
    // after which the whole total is growth).
    const setTotal = (v: number) => {
      writeFileSync(`${total}.new`, `${v}\n`);
      renameSync(`${total}.new`, total);
    };
    const config = path.join(dir, 'sonde.yaml');
    const write = (statsd: string | undefined) =>
      writeFileSync(
        config,
        [
          'hostname: hup01',
          `state_dir: ${dir}/state`,
          `plugin_paths: [${PLUGINS}]`,
          'self_metrics: { enabled: false }',
          'shutdown_timeout: 5s',
          'collectors:',
          `  filecounter: { file: ${total}, interval: 200ms }`,
          'handlers:',
          statsd === undefined ? '  stdout: { enabled: false }' : `  statsd: { ${statsd}, flush_interval: 100ms }`,
          '',
        ].join('\n'),
      );
    const saved = () => (JSON.parse(readFileSync(file, 'utf8')) as { counters: Record<string, [number, number]> }).counters[NAME]?.[0];
    const savedIs = (v: number) => async () => {
      try {
        return saved() === v;
      } catch {
        return false;
      }
    };
    const reload = async (statsd: string | undefined) => {
      const before = (s.stdout + s.stderr).split('config reloaded').length;
      write(statsd);
      s.kill('SIGHUP');
      await until('the reload', async () => (s.stdout + s.stderr).split('config reloaded').length > before, s);
    };

    setTotal(1000);
    write(`destination: "127.0.0.1:${sd.udpPort}"`);
    const s = new RunningSonde(['run', '--config', config]);
    try {
      await until('the first total to be saved', savedIs(1000), s);
      setTotal(1010);
      await until('a growth of 10', async () => (await counted()) === 10, s);

      await reload(`destination: "127.0.0.1:${sd.udpPort}", max_packet_bytes: 512`);
      setTotal(1030);
      await until('30 in all', async () => (await counted()) === 30, s);

      await reload(`destination: "127.0.0.1:${sd.tcpPort}", protocol: tcp`);
      setTotal(1060);
      await until('60 in all', async () => (await counted()) === 60, s);

      // Removed: the total grows unsent; re-added, the new instance sends that growth once.
      await until('1060 saved', savedIs(1060), s);
      await reload(undefined);
      setTotal(1100);
      await new Promise((r) => setTimeout(r, 600));
      expect(await counted()).toBe(60);
      await reload(`destination: "127.0.0.1:${sd.udpPort}"`);
      await until('100 in all', async () => (await counted()) === 100, s);
      setTotal(1101);
      await until('101 in all', async () => (await counted()) === 101, s);
      // A few more runs of the collector: the same total, nothing more.
      await new Promise((r) => setTimeout(r, 600));
      expect(await counted()).toBe(101);

      s.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      expect(saved()).toBe(1101);
      expect((s.stdout + s.stderr).split('\n').filter((l) => /"level":(40|50)/.test(l))).toEqual([]);
      expect((await sd.stats()).get('messages.bad_lines_seen')).toBe(0);
    } finally {
      s.kill('SIGKILL');
    }
  });
});
