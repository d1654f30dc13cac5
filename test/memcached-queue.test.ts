// The memcached_queue handler against Debian's memcached and a reader that follows esmond's get()
// line for line (test/helpers/memcached-reader.py, python3-memcache): every sample read exactly
// once and in order per queue, while the reader polls, when memcached runs out of memory, hangs,
// or restarts empty, and when a reader has already passed the slot a writer claims.
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import memcachedQueue from '../handlers/memcached_queue/memcached_queue.js';
import { MemcachedClient } from '../src/memcached/client.js';
import { NameTable } from '../src/model/naming.js';
import type { Sample } from '../src/model/sample.js';
import { PYTHON, startMemcached, startQueueHandler, startReader, type Memcached, type ReadItem, type Reader } from './helpers/memcached.js';
import { tmpdir } from './helpers/tmp.js';

const T0 = 1_700_000_000_000;
const tables = new Map<string, NameTable>();
function name(collector: string, metric: string, instance?: string) {
  let t = tables.get(collector);
  if (t === undefined) tables.set(collector, (t = new NameTable(collector)));
  return t.get(metric, instance);
}

/** One collector run: `n` samples at second `run`, values that say where they come from. */
function run(collector: string, runNo: number, n: number, instance?: string, leaf = 'v'): Sample[] {
  return Array.from({ length: n }, (_, i) => ({ name: name(collector, `m${i}.${leaf}`, instance), value: runNo * 1000 + i, kind: 'gauge' as const, timestamp: T0 + runNo * 10_000, precision: undefined }));
}

/** A read item's samples as `collector|device|timestamp|path|value` lines. */
function flatten(items: readonly ReadItem[]): string[] {
  return items.flatMap((r) => r.item.data.map(([p, v]) => `${r.item.oidset_name}|${r.item.device_name}|${r.item.timestamp}|${p.join('.')}|${v}`));
}

/** Pushed samples as the same lines, for device `host` and oidset = collector. */
function expected(samples: readonly Sample[], host = 'web01'): string[] {
  return samples.map((s) => `${s.name.collector}|${s.name.instance ?? host}|${Math.floor(s.timestamp / 1000)}|${[...s.name.segments].join('.')}|${s.value}`);
}

const stoppers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const s of stoppers.splice(0).reverse()) await s();
});

async function memcached(opts: Parameters<typeof startMemcached>[0] = {}): Promise<Memcached> {
  const mc = await startMemcached(opts);
  stoppers.push(() => mc.stop());
  return mc;
}

function reader(mc: Memcached, queues: readonly string[]): Reader {
  const r = startReader(mc.address, queues);
  stoppers.push(() => r.kill());
  return r;
}

function client(mc: Memcached): MemcachedClient {
  const c = new MemcachedClient({ host: '127.0.0.1', port: mc.port, connectTimeout: 2000, commandTimeout: 2000 });
  stoppers.push(() => c.close());
  return c;
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('memcached_queue handler', () => {
  it('writes the item esmond reads: its JSON keys, Unix seconds, [path, value] pairs; counters flags 2, items flags 0', async () => {
    const mc = await memcached();
    const h = startQueueHandler({ destination: mc.address, queues: { cassandra: 1 } });
    h.push([
      { name: name('cpu', 'total.user'), value: 12.5, kind: 'gauge', timestamp: T0 + 999, precision: undefined },
      { name: name('cpu', 'total.idle'), value: 3, kind: 'counter', timestamp: T0 + 999, precision: 2 },
    ]);
    expect(await h.stop()).toEqual([]);
    const c = client(mc);
    const got = await c.get(['_mcpq__cassandra_last_added', '_mcpq__cassandra_last_read', '_mcpq__cassandra_1']);
    expect(got.get('_mcpq__cassandra_last_added')).toMatchObject({ flags: 2 });
    expect(got.get('_mcpq__cassandra_last_added')!.value.toString()).toBe('1');
    expect(got.get('_mcpq__cassandra_last_read')!.value.toString()).toBe('0');
    expect(got.get('_mcpq__cassandra_last_read')!.flags).toBe(2);
    expect(got.get('_mcpq__cassandra_1')!.flags).toBe(0);
    // python-memcached, as esmond's reader: counters come back as int, the item as esmond's JSON.
    const py = execFileSync(PYTHON, ['-c', `
import json, memcache
mc = memcache.Client(['${mc.address}'])
la = mc.get('_mcpq__cassandra_last_added')
item = json.loads(mc.get('_mcpq__cassandra_1'))
print(type(la).__name__, la)
print(json.dumps(item, sort_keys=True))
`], { encoding: 'utf8' });
    const [types, json] = py.trim().split('\n');
    expect(types).toBe('int 1');
    expect(JSON.parse(json!)).toEqual({
      oidset_name: 'cpu',
      device_name: 'web01',
      oid_name: 'cpu',
      timestamp: 1_700_000_000,
      data: [[['total', 'user'], 12.5], [['total', 'idle'], 3]],
      metadata: { tsdb_flags: 1 },
    });
  });

  it('sends an (oidset, device) pair always to the same queue of a family, chosen by FNV-1a as a separate Python computation says', async () => {
    const mc = await memcached();
    const h = startQueueHandler({ destination: mc.address, queues: { cassandra: 4, streaming: 1 }, device_name: '{instance}' });
    const pushed: Sample[] = [];
    for (let r = 0; r < 3; r++) for (let d = 0; d < 12; d++) pushed.push(...run('mysql', r, 2, `db${d}`));
    h.push(pushed);
    expect(await h.stop()).toEqual([]);
    const rd = reader(mc, ['cassandra_1', 'cassandra_2', 'cassandra_3', 'cassandra_4', 'streaming']);
    const items = await rd.finish();
    // FNV-1a 32 of "oidset:device", modulo the worker count, plus one: computed apart from the handler.
    const py = execFileSync(PYTHON, ['-c', `
for d in range(12):
    h = 0x811c9dc5
    for b in ("mysql:db%d" % d).encode():
        h = ((h ^ b) * 0x01000193) & 0xffffffff
    print("db%d cassandra_%d" % (d, h % 4 + 1))
`], { encoding: 'utf8' });
    const want = new Map(py.trim().split('\n').map((l) => l.split(' ') as [string, string]));
    const seen = new Map<string, Set<string>>();
    for (const it of items.filter((i) => i.queue !== 'streaming')) {
      const s = seen.get(it.item.device_name) ?? new Set();
      s.add(it.queue);
      seen.set(it.item.device_name, s);
    }
    for (const [dev, qs] of seen) expect([dev, [...qs]]).toEqual([dev, [want.get(dev)]]);
    expect(seen.size).toBe(12);
    expect(new Set([...want.values()]).size).toBeGreaterThan(1);
    // Every family gets every item: the streaming queue holds all of them too.
    expect(flatten(items.filter((i) => i.queue === 'streaming')).sort()).toEqual(expected(pushed).sort());
    expect(flatten(items.filter((i) => i.queue !== 'streaming')).sort()).toEqual(expected(pushed).sort());
  });

  it('a reader polling while the agent writes gets every sample exactly once, in order per queue but for items it skipped (logged)', async () => {
    const mc = await memcached();
    const queues = ['cassandra_1', 'cassandra_2', 'cassandra_3'];
    const rd = reader(mc, queues);
    const h = startQueueHandler({ destination: mc.address, queues: { cassandra: 3 }, device_name: '{instance}' }, { outbox: { batchSize: 50, flushInterval: 1 } });
    const pushed: Sample[] = [];
    for (let r = 0; r < 120; r++) {
      const batch = [...run('mysql', r, 7, 'db1'), ...run('mysql', r, 5, 'db2'), ...run('mysql', r, 3, 'db3'), ...run('mysql', r, 4, 'db4')];
      pushed.push(...batch);
      h.push(batch);
      if (r % 10 === 0) await new Promise((res) => setTimeout(res, 5));
    }
    expect(await h.stop()).toEqual([]);
    const items = await rd.finish();
    const all = flatten(items);
    expect(all.slice().sort()).toEqual(expected(pushed).sort());
    expect(new Set(all).size).toBe(all.length);
    // In order per queue: what each queue gave is the pushed samples of its devices, in push order,
    // except an item the reader skipped (it polled between the handler's incr and its set, as
    // esmond's get() does) when it read the ones after it before they could be taken back: that
    // item comes later, and the handler says so. esmond's own writer loses such an item.
    const readEarly = h.said.filter((l) => /items written after a failed one were read by a persister/.test(l)).length;
    let late = 0;
    for (const q of queues) {
      const fromQ = items.filter((i) => i.queue === q);
      const newest = new Map<string, number>();
      const inOrder: ReadItem[] = [];
      for (const it of fromQ) {
        const seen = newest.get(it.item.device_name) ?? -Infinity;
        if (it.item.timestamp < seen) late++;
        else (inOrder.push(it), newest.set(it.item.device_name, it.item.timestamp));
      }
      const devices = new Set(fromQ.map((i) => i.item.device_name));
      const lateOnes = new Set(flatten(fromQ.filter((i) => !inOrder.includes(i))));
      expect(flatten(inOrder)).toEqual(expected(pushed.filter((s) => devices.has(s.name.instance!))).filter((x) => !lateOnes.has(x)));
    }
    if (late > 0) expect(readEarly).toBeGreaterThan(0);
    expect(rd.stderr()).not.toMatch(/died/);
  });

  it('claims past last_read when a reader has passed the slots (esmond\'s overshoot): the item is written again where it is read', async () => {
    const mc = await memcached();
    const c = client(mc);
    // As esmond's get() leaves a queue whose last slot was empty: last_read one past last_added.
    await c.set('_mcpq__q_last_added', '3', 2);
    await c.set('_mcpq__q_last_read', '4', 2);
    const h = startQueueHandler({ destination: mc.address, queues: { q: 1 } });
    const pushed = run('cpu', 1, 3);
    h.push(pushed);
    expect(await h.stop()).toEqual([]);
    // Slot 4 was claimed, found passed, taken back; the item went to slot 5.
    const got = await c.get(['_mcpq__q_4', '_mcpq__q_5', '_mcpq__q_last_added']);
    expect(got.has('_mcpq__q_4')).toBe(false);
    expect(got.has('_mcpq__q_5')).toBe(true);
    expect(got.get('_mcpq__q_last_added')!.value.toString()).toBe('5');
    const items = await reader(mc, ['q']).finish();
    expect(flatten(items)).toEqual(expected(pushed));
  });

  it('memcached out of memory (-M): refusals counted and logged as esmond\'s operators know them; all delivered once the reader frees memory', async () => {
    const mc = await memcached({ memoryMb: 2, noEvict: true });
    const h = startQueueHandler({ destination: mc.address, queues: { cassandra: 2 }, device_name: '{instance}' }, { outbox: { batchSize: 200, retryMin: 50, retryMax: 300 } });
    const pushed: Sample[] = [];
    // About 6 MB of items (some 6 KB each) into 2 MB.
    for (let r = 0; r < 250; r++) for (let d = 0; d < 4; d++) pushed.push(...run('disk', r, 150, `sd${d}`, 'reads_merged_per_second'));
    h.push(pushed);
    await until('a refusal', () => h.outbox.stats.refused > 0);
    expect(h.said.some((l) => l.startsWith('error ') && l.includes("memcache 'set' failed! Polling data lost!") && l.includes('SERVER_ERROR out of memory storing object') && /queue cassandra_[12]/.test(l))).toBe(true);
    expect(h.failures.some((e) => e.message.includes('out of memory'))).toBe(true);
    const rd = reader(mc, ['cassandra_1', 'cassandra_2']);
    expect(await h.stop(60_000)).toEqual([]);
    const items = await rd.finish();
    const all = flatten(items);
    expect(all.length).toBe(pushed.length);
    expect(all.slice().sort()).toEqual(expected(pushed).sort());
    expect(h.outbox.stats.sent).toBe(pushed.length);
  }, 90_000);

  it('a hung memcached (no replies after the incr): the batch is written again after command_timeout, every sample still read exactly once', async () => {
    const mc = await memcached();
    const rd = reader(mc, ['cassandra']);
    const h = startQueueHandler({ destination: mc.address, queues: { cassandra: 1 }, command_timeout: '200ms' }, { outbox: { batchSize: 20, retryMin: 50, retryMax: 200 } });
    const pushed: Sample[] = [];
    for (let r = 0; r < 30; r++) pushed.push(...run('load', r, 5));
    h.push(pushed.slice(0, 50));
    await until('the first items read', () => rd.items.length > 0);
    await mc.pause();
    h.push(pushed.slice(50));
    await until('a failed send', () => h.failures.length > 0);
    expect(h.failures[0]!.message).toMatch(/no reply within 200 ms|cannot connect/);
    mc.resume();
    expect(await h.stop()).toEqual([]);
    const all = flatten(await rd.finish());
    expect(all.slice().sort()).toEqual(expected(pushed).sort());
    expect(all.length).toBe(pushed.length);
  });

  it('memcached stopped and started again (empty): the agent spools while it is down, then creates the counters again', async () => {
    const mc = await memcached();
    const rd = reader(mc, ['cassandra']);
    const spoolDir = tmpdir();
    const h = startQueueHandler({ destination: mc.address, queues: { cassandra: 1 }, command_timeout: '200ms' }, { spoolDir, outbox: { queueSize: 40, batchSize: 20, retryMin: 50, retryMax: 200 } });
    const before = run('cpu', 1, 30);
    h.push(before);
    await until('the first run read', () => rd.items.reduce((n, i) => n + i.item.data.length, 0) === 30);
    await mc.stop();
    const during: Sample[] = [];
    for (let r = 2; r < 12; r++) during.push(...run('cpu', r, 30));
    h.push(during);
    await until('samples in the spool', () => h.outbox.spooled > 0);
    const again = await startMemcached({ port: mc.port });
    stoppers.push(() => again.stop());
    expect(await h.stop(30_000)).toEqual([]);
    const all = flatten(await rd.finish());
    expect(all.slice().sort()).toEqual(expected([...before, ...during]).sort());
    expect(h.said.some((l) => l.includes('queue cassandra had no counters in memcached'))).toBe(true);
    // The counters started again: last_added counts only the items written since the restart.
    const la = (await client(again).get(['_mcpq__cassandra_last_added'])).get('_mcpq__cassandra_last_added');
    expect(Number(la!.value.toString())).toBeLessThan(40);
  }, 60_000);

  it('splits an item larger than max_item_bytes into several, each within it, and never refuses it', async () => {
    const mc = await memcached();
    const h = startQueueHandler({ destination: mc.address, queues: { cassandra: 1 }, max_item_bytes: 2048 });
    const pushed = run('vmstat', 1, 1000);
    h.push(pushed);
    expect(await h.stop()).toEqual([]);
    const c = client(mc);
    const n = Number((await c.get(['_mcpq__cassandra_last_added'])).get('_mcpq__cassandra_last_added')!.value.toString());
    expect(n).toBeGreaterThan(5);
    const keys = Array.from({ length: n }, (_, i) => `_mcpq__cassandra_${i + 1}`);
    for (const it of (await c.get(keys)).values()) expect(it.value.length).toBeLessThanOrEqual(2048);
    const items = await reader(mc, ['cassandra']).finish();
    expect(flatten(items)).toEqual(expected(pushed));
  });

  it('carries hostile names into the JSON intact: quotes, backslashes, non-ASCII', async () => {
    const mc = await memcached();
    const h = startQueueHandler({ destination: mc.address, queues: { cassandra: 1 }, oidset_name: 'set "{collector}"', device_name: '{instance}\\x' });
    const nm = name('app', 'a.b', 'dé"v');
    h.push([{ name: nm, value: -0.25, kind: 'gauge', timestamp: T0, precision: undefined }]);
    expect(await h.stop()).toEqual([]);
    const [it] = await reader(mc, ['cassandra']).finish();
    expect(it!.item.oidset_name).toBe('set "app"');
    expect(it!.item.device_name).toBe(`${nm.instance}\\x`);
    expect(it!.item.data).toEqual([[['a', 'b'], -0.25]]);
  });
});

describe('memcached_queue config', () => {
  const bad = (cfg: Record<string, unknown>) => {
    const r = memcachedQueue.schema.safeParse(cfg);
    return r.success ? 'accepted' : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  };
  it('refuses what it could not write, saying which key and why', () => {
    expect(bad({ queues: {} })).toMatch(/queues: name at least one queue/);
    expect(bad({ queues: { 'two words': 2 } })).toMatch(/queues\.two words: .*letters, digits/);
    expect(bad({ queues: { cassandra: 0 } })).toMatch(/queues\.cassandra/);
    expect(bad({ oidset_name: '{colector}' })).toMatch(/oidset_name: unknown field \{colector\}/);
    expect(bad({ device_name: '{host' })).toMatch(/device_name: unbalanced brace/);
    expect(bad({ destination: 'localhost' })).toMatch(/destination: expected host:port/);
    expect(bad({ command_timeout: '0s' })).toMatch(/command_timeout/);
    expect(bad({ queues: { cassandra: 4 }, destination: '[::1]:11211' })).toBe('accepted');
  });
});
