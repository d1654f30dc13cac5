// `sonde run` with its state directory on a tmpfs of a few KiB: the graphite handler's spool fills
// the disk while carbon is down. The agent keeps running, says where the disk is full, counts the
// drops in its self-metrics, and the stdout handler beside it never misses a run.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunningSonde } from './helpers/sonde.js';
import { freePort } from './helpers/carbon.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';
import { tmpfs } from './helpers/tmpfs.js';

const PLUGINS = path.join(import.meta.dirname, 'fixtures', 'plugins-e2e');

/** The values of one metric in Graphite lines, in the order they arrived. */
function series(text: string, metric: string): number[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${metric} `))
    .map((l) => Number(l.split(' ')[1]));
}

describe('a full spool disk', () => {
  it('drops and counts for the handler whose spool is full, and every other handler keeps receiving', async () => {
    const dir = tmpdir();
    const state = tmpfs('16k');
    const port = await freePort();
    const cfg = writeFiles(dir, {
      'sonde.yaml': `hostname: h\nstate_dir: ${state}\nplugin_paths: [${PLUGINS}]\nshutdown_timeout: 1s\nself_metrics: { interval: 500ms }\ncollectors:\n  ticker: { interval: 100ms }\n  burst: { interval: 100ms, count: 100 }\nhandlers:\n  stdout: {}\n  graphite: { destinations: ["127.0.0.1:${port}"], batch_size: 100, queue_size: 100, retry_min: 1s, retry_max: 1s }\n`,
    })['sonde.yaml']!;
    const s = new RunningSonde(['run', '--config', cfg]);
    try {
      const spoolDir = path.join(state, 'spool', 'graphite');
      await s.until('the spool disk to fill', () => s.stdout.includes('out of space') || s.stderr.includes('out of space'));
      const seen = series(s.stdout, 'servers.h.ticker.seq').length;
      await s.until('stdout to keep receiving', () => series(s.stdout, 'servers.h.ticker.seq').length >= seen + 10);
      await s.until('the drops in self-metrics', () => series(s.stdout, 'servers.h.sonde.handler.graphite.dropped').some((v) => v > 0));
      s.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      const log = s.stdout + s.stderr;
      expect(log).toContain(`handler graphite: the disk spool in ${spoolDir} is out of space`);
      // Once per episode (the disk stayed full), not once per spill.
      expect(log.split(`the disk spool in ${spoolDir} is out of space`).length - 1).toBe(1);
      // stdout got every run, in order, while graphite's spool was full.
      const seq = series(s.stdout, 'servers.h.ticker.seq');
      expect(seq).toEqual(Array.from({ length: seq.length }, (_, i) => i + 1));
      expect(series(s.stdout, 'servers.h.sonde.handler.stdout.dropped').every((v) => v === 0)).toBe(true);
    } finally {
      s.kill('SIGKILL');
    }
  });
});
