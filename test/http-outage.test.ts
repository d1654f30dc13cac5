// The http handler through a 30 s outage of its upstream (503 all along), driven by the real
// outbox: nothing is lost and the order is kept once the server answers 200 again.
import { afterEach, expect, it } from 'vitest';
import { NameTable } from '../src/model/naming.js';
import type { Sample } from '../src/model/sample.js';
import { startHttp, startServer, until, type TestServer } from './helpers/https-server.js';

let srv: TestServer | undefined;
afterEach(async () => srv?.stop());

it('a server that answers 503 for 30 s then 200: nothing lost, order kept', { timeout: 60_000 }, async () => {
  const outageUntil = Date.now() + 30_000;
  srv = await startServer({}, () => (Date.now() < outageUntil ? { status: 503, body: 'down for maintenance' } : { status: 204 }));
  const h = startHttp({ url: srv.url, format: 'graphite' }, { batchSize: 50, retryMin: 100, retryMax: 2000 });
  const names = new NameTable('o');
  const name = names.get('seq');
  let n = 0;
  // Samples keep coming through the outage, as a collector's would.
  const timer = setInterval(() => {
    const batch: Sample[] = [];
    for (let i = 0; i < 20; i++, n++) batch.push({ name, value: n, kind: 'gauge', timestamp: 1_700_000_000_000 + n * 1000, precision: undefined });
    h.push(batch);
  }, 250);
  await new Promise((r) => setTimeout(r, 31_000));
  clearInterval(timer);
  const pushed = n;
  const ok = () => srv!.received.filter((r) => r.at >= outageUntil);
  await until('every sample delivered', () => ok().reduce((a, r) => a + r.body.toString().split('\n').filter(Boolean).length, 0) >= pushed, 15_000);
  expect(await h.stop()).toEqual([]);
  const values = ok().flatMap((r) => r.body.toString().split('\n').filter(Boolean).map((l) => Number(l.split(' ')[1])));
  expect(values).toEqual(Array.from({ length: pushed }, (_, i) => i));
  expect(srv.received.some((r) => r.at < outageUntil)).toBe(true);
  expect(h.failures[0]!.message).toMatch(/answered 503 Service Unavailable: "down for maintenance"; the batch is sent again later$/);
  expect(h.outbox.stats.dropped).toBe(0);
});
