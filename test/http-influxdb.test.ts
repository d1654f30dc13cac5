// The http handler's influx format against a real InfluxDB 1.x (Debian's influxdb, started here
// with its own config, data dirs and loopback ports): what is posted reads back through /query
// with the same values and timestamps, escaped names included, and a partial write is counted.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { MetricName, Sample } from '../src/model/sample.js';
import { startInfluxDb, type InfluxDb } from './helpers/influxdb.js';
import { startHttp } from './helpers/https-server.js';

let root: string;
let db: InfluxDb;
beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'sonde-influx-'));
  db = await startInfluxDb(root);
  await db.query('CREATE DATABASE sonde');
}, 30_000);
afterAll(async () => {
  await db?.stop();
  rmSync(root, { recursive: true, force: true });
});

const T = 1_700_000_000_000;
const mn = (collector: string, segments: string[], instance?: string): MetricName => ({ collector, instance, segments });
const s = (name: MetricName, value: number, timestamp: number): Sample => ({ name, value, kind: 'gauge', timestamp, precision: undefined });

it('samples posted in influx format read back with the same values and timestamps, spaces and commas in names included', async () => {
  const h = startHttp({ url: `${db.url}/write?db=sonde`, format: 'influx' });
  const cpu = mn('cpu', ['total', 'user']);
  const odd = mn('my sql', ['Threads connected'], 'db 1,primary=yes');
  h.push([s(cpu, 12.5, T), s(cpu, 3, T + 10_000), s(odd, 7, T), s(odd, -0.125, T + 10_000), s(mn('big', ['v']), 1e21, T)]);
  expect(await h.stop()).toEqual([]);
  expect(h.failures).toEqual([]);

  const a = await db.query('SELECT "total.user" FROM cpu', 'sonde');
  expect(a.results[0]!.series![0]!.values).toEqual([
    [1_700_000_000, 12.5],
    [1_700_000_010, 3],
  ]);
  const b = await db.query('SELECT "Threads connected", host, instance FROM "my sql"', 'sonde');
  expect(b.results[0]!.series![0]!.values).toEqual([
    [1_700_000_000, 7, 'h1', 'db 1,primary=yes'],
    [1_700_000_010, -0.125, 'h1', 'db 1,primary=yes'],
  ]);
  const c = await db.query('SELECT v FROM big', 'sonde');
  expect(c.results[0]!.series![0]!.values).toEqual([[1_700_000_000, 1e21]]);
  // Every value is a float: a later fraction never conflicts with an earlier whole number.
  const f = await db.query('SHOW FIELD KEYS FROM cpu', 'sonde');
  expect(f.results[0]!.series![0]!.values).toEqual([['total.user', 'float']]);
}, 30_000);

it('InfluxDB\'s partial write: the refused points are counted as dropped, the others stored, the queue goes on', async () => {
  await db.query('CREATE DATABASE mixed');
  // Another writer made the field an integer: sonde's floats for it are refused.
  const pre = await fetch(`${db.url}/write?db=mixed&precision=s`, { method: 'POST', body: 'disk,host=h1 used=1i 1699999990\n' });
  expect(pre.status).toBe(204);
  const h = startHttp({ url: `${db.url}/write?db=mixed`, format: 'influx' });
  h.push([s(mn('disk', ['used']), 2, T), s(mn('disk', ['free']), 5, T), s(mn('disk', ['used']), 3, T + 10_000)]);
  expect(await h.stop()).toEqual([]);
  expect(h.outbox.stats.dropped).toBe(2);
  expect(h.rejections[0]!.reason).toMatch(/answered 400 Bad Request: ".*partial write: field type conflict.*dropped=2.*"; InfluxDB stored the other points of the batch and refused 2/);
  const r = await db.query('SELECT free FROM disk', 'mixed');
  expect(r.results[0]!.series![0]!.values).toEqual([[1_700_000_000, 5]]);
  // The next batch goes through.
  const h2 = startHttp({ url: `${db.url}/write?db=mixed`, format: 'influx' });
  h2.push([s(mn('disk', ['free']), 6, T + 10_000)]);
  expect(await h2.stop()).toEqual([]);
  expect(h2.outbox.stats.dropped).toBe(0);
}, 30_000);
