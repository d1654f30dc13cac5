// The http handler's prometheus_remote_write format against a real Prometheus (Debian's, with
// --web.enable-remote-write-receiver, its own data dir and port): samples read back through
// /api/v1/query with the same values and timestamps, names and labels as the README maps them;
// a sample older than the head block is refused by Prometheus and counted as dropped.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { MetricName, Sample } from '../src/model/sample.js';
import { startPrometheus, type Prometheus } from './helpers/prometheus.js';
import { startHttp } from './helpers/https-server.js';

let root: string;
let prom: Prometheus;
beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'sonde-prom-'));
  prom = await startPrometheus(root);
}, 40_000);
afterAll(async () => {
  await prom?.stop();
  rmSync(root, { recursive: true, force: true });
});

const mn = (collector: string, segments: string[], instance?: string): MetricName => ({ collector, instance, segments });
const s = (name: MetricName, value: number, timestamp: number): Sample => ({ name, value, kind: 'gauge', timestamp, precision: undefined });
// Whole seconds a little in the past: inside the head block Prometheus accepts.
const T = Math.floor(Date.now() / 1000) * 1000 - 60_000;

it('samples posted in remote write read back with the same values and timestamps', async () => {
  const h = startHttp({ url: `${prom.url}/api/v1/write`, format: 'prometheus_remote_write' });
  const cpu = mn('cpu', ['total', 'user']);
  const my = mn('mysql', ['Threads-connected'], 'db 1,"x"');
  h.push([s(cpu, 12.5, T), s(my, 7, T), s(cpu, 3.25, T + 10_000), s(my, -1e-7, T + 10_123), s(mn('9lives', ['a:b']), Number.POSITIVE_INFINITY, T)]);
  expect(await h.stop()).toEqual([]);
  expect(h.failures).toEqual([]);
  expect(h.rejections).toEqual([]);
  const at = (T + 20_000) / 1000;
  const a = await prom.query('cpu_total_user[1m]', at);
  expect(a).toEqual([{ metric: { __name__: 'cpu_total_user', host: 'h1' }, values: [[T / 1000, '12.5'], [(T + 10_000) / 1000, '3.25']] }]);
  const b = await prom.query('mysql_Threads_connected[1m]', at);
  expect(b).toEqual([{ metric: { __name__: 'mysql_Threads_connected', host: 'h1', sonde_instance: 'db 1,"x"' }, values: [[T / 1000, '7'], [(T + 10_123) / 1000, '-1e-07']] }]);
  const c = await prom.query('_9lives_a_b', at);
  expect(c).toEqual([{ metric: { __name__: '_9lives_a_b', host: 'h1' }, value: [at, '+Inf'] }]);
}, 30_000);

it('a batch Prometheus refuses (samples older than its head block) is dropped and counted; the next batches are delivered', async () => {
  const h = startHttp({ url: `${prom.url}/api/v1/write`, format: 'prometheus_remote_write' }, { batchSize: 2 });
  const m = mn('late', ['x']);
  // Three hours back: past the head block, as after a long outage replayed from the spool.
  h.push([s(m, 1, T - 3 * 3600_000), s(m, 2, T - 3 * 3600_000 + 1000), s(m, 3, T + 20_000), s(m, 4, T + 30_000)]);
  expect(await h.stop()).toEqual([]);
  expect(h.outbox.stats.dropped).toBe(2);
  expect(h.rejections).toHaveLength(1);
  expect(h.rejections[0]!.reason).toMatch(/answered 400 Bad Request: ".*out of bounds.*"; the upstream will never take this batch of 2 samples/);
  const r = await prom.query('late_x[1h]', (T + 40_000) / 1000);
  expect(r[0]!.values).toEqual([[(T + 20_000) / 1000, '3'], [(T + 30_000) / 1000, '4']]);
}, 30_000);
