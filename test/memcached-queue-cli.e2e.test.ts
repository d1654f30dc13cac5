// `sonde queue status` against queues written by the memcached_queue handler (and read in part),
// compared line by line with esmond's own espersistq run on the same memcached
// (test/helpers/memcached-espersistq.py); `sonde queue peek` reading without consuming.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemcachedClient } from '../src/memcached/client.js';
import { NameTable } from '../src/model/naming.js';
import type { Sample } from '../src/model/sample.js';
import { PYTHON, startMemcached, startQueueHandler, type Memcached } from './helpers/memcached.js';
import { sonde } from './helpers/sonde.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';

const ESPERSISTQ = path.join(import.meta.dirname, 'helpers', 'memcached-espersistq.py');
const names = new NameTable('mysql');
const T0 = 1_700_000_000_000;

function runs(count: number, devices: number): Sample[] {
  const out: Sample[] = [];
  for (let r = 0; r < count; r++) for (let d = 0; d < devices; d++) for (let i = 0; i < 3; i++) out.push({ name: names.get(`m${i}`, `db${d}`), value: r * 10 + i, kind: 'gauge', timestamp: T0 + r * 10_000, precision: undefined });
  return out;
}

/** esmond's espersistq, one round, on `mc`: its stdout and stderr. */
function espersistq(mc: Memcached, queues: string[]): { stdout: string; stderr: string } {
  const r = spawnSync(PYTHON, [ESPERSISTQ, mc.address, ...queues], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`espersistq failed (${r.status}): ${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

const warnings = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('warning:'));

const stoppers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const s of stoppers.splice(0).reverse()) await s();
});

function config(dir: string, mc: Memcached, queues: string): string {
  return writeFiles(dir, {
    'sonde.yaml': `hostname: web01\nstate_dir: ${dir}/state\nplugin_paths: []\ncollectors:\n  loadavg: {}\nhandlers:\n  memcached_queue:\n    destination: "${mc.address}"\n    queues: ${queues}\n    device_name: "{instance}"\n`,
  })['sonde.yaml']!;
}

describe('sonde queue', () => {
  it('status --once prints what esmond\'s espersistq prints for the same queues, line by line, warnings included', async () => {
    const mc = await startMemcached();
    stoppers.push(() => mc.stop());
    const h = startQueueHandler({ destination: mc.address, queues: { cassandra: 3 }, device_name: '{instance}' });
    h.push(runs(40, 6));
    expect(await h.stop()).toEqual([]);
    const c = new MemcachedClient({ host: '127.0.0.1', port: mc.port, connectTimeout: 2000, commandTimeout: 2000 });
    stoppers.push(() => c.close());
    // A reader has been through part of cassandra_1; nobody has read cassandra_2 (last_read 0);
    // the streaming queue has nothing yet; big: a counter past eight digits.
    await c.incr('_mcpq__cassandra_1_last_read', 7);
    await c.set('_mcpq__big_last_added', '123456789', 2);
    await c.set('_mcpq__big_last_read', '23456789', 2);
    const conf = config(tmpdir(), mc, '{ cassandra: 3, streaming: 1, big: 1 }');
    const r = sonde(['queue', 'status', '--once', '--config', conf]);
    const peer = espersistq(mc, ['cassandra:3', 'streaming:1', 'big:1']);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')).toEqual(peer.stdout.split('\n'));
    expect(warnings(r.stderr)).toEqual(peer.stderr.trim().split('\n'));
    // The figures themselves, from the counters: pending = last_added - last_read.
    const la1 = Number((await c.get(['_mcpq__cassandra_1_last_added'])).get('_mcpq__cassandra_1_last_added')!.value.toString());
    expect(r.stdout).toContain(`${'cassandra_1'.padStart(20)} ${String(la1 - 7).padStart(8)}`);
    expect(r.stdout).toContain(`${'big'.padStart(20)}  100000000        0        0        0      123456789`);
  });

  it('says plainly that a queue is missing and warns as espersistq does about a counter that is 0', async () => {
    const mc = await startMemcached();
    stoppers.push(() => mc.stop());
    const c = new MemcachedClient({ host: '127.0.0.1', port: mc.port, connectTimeout: 2000, commandTimeout: 2000 });
    stoppers.push(() => c.close());
    await c.set('_mcpq__cassandra_last_added', '4', 2);
    await c.set('_mcpq__cassandra_last_read', '0', 2);
    const conf = config(tmpdir(), mc, '{ cassandra: 1, absent: 1 }');
    const r = sonde(['queue', 'status', '--once', '--config', conf]);
    const peer = espersistq(mc, ['cassandra:1', 'absent:1']);
    expect(r.status).toBe(0);
    // esmond warns in the order of its config's dict; sonde in the sorted order of its table.
    expect(warnings(r.stderr)).toEqual(['warning: no stats, no work queue absent in memcache', 'warning: no stats, no work queue cassandra in memcache']);
    expect(warnings(r.stderr).slice().sort()).toEqual(peer.stderr.trim().split('\n').sort());
    expect(r.stdout).toBe(peer.stdout);
    expect(r.stderr).toContain('memcached has no _mcpq__absent_last_read: nothing was written to queue absent since memcached started');
    expect(r.stderr).toContain('_mcpq__cassandra_last_read is 0: nothing has been read from queue cassandra yet');
    const lines = r.stdout.split('\n');
    expect(lines[1]).toBe(`${'absent'.padStart(20)}        0        0        0        0              0`);
    expect(lines[2]).toBe(`${'cassandra'.padStart(20)}        4        4        0        4              4`);
  });

  it('status --json gives the same figures; peek shows the oldest unread items and consumes nothing', async () => {
    const mc = await startMemcached();
    stoppers.push(() => mc.stop());
    const h = startQueueHandler({ destination: mc.address, queues: { cassandra: 1 }, device_name: '{instance}' });
    h.push(runs(3, 2));
    expect(await h.stop()).toEqual([]);
    const conf = config(tmpdir(), mc, '{ cassandra: 1 }');
    const j = sonde(['queue', 'status', '--once', '--json', '--config', conf]);
    expect(j.status).toBe(0);
    const doc = JSON.parse(j.stdout.trim()) as { queues: { queue: string; pending: number; max: number }[]; total: { pending: number } };
    expect(doc.queues).toEqual([{ queue: 'cassandra', pending: 6, new: 6, done: 0, delta: 6, max: 6 }]);
    expect(doc.total.pending).toBe(6);
    const p = sonde(['queue', 'peek', 'cassandra', '-n', '2', '--config', conf]);
    expect(p.status).toBe(0);
    const lines = p.stdout.trim().split('\n');
    expect(lines[0]).toBe(`queue cassandra in memcached at ${mc.address}: last_added 6, last_read 0, 6 pending`);
    expect(lines.slice(1).map((l) => l.slice(0, l.indexOf(' ('))).map((l) => l.trim())).toEqual(['_mcpq__cassandra_1', '_mcpq__cassandra_2']);
    expect(lines[1]).toContain('oidset "mysql", device "db0", oid "mysql", 2023-11-14T22:13:20.000Z, 3 values: [["m0"],0] [["m1"],1] [["m2"],2]');
    // Nothing was consumed: the same figures again.
    expect(JSON.parse(sonde(['queue', 'status', '--once', '--json', '--config', conf]).stdout.trim()).queues[0].pending).toBe(6);
  });

  it('a memcached that is down, a config without the handler, a bad action: what happened and what to do', async () => {
    const mc = await startMemcached();
    await mc.stop();
    const dir = tmpdir();
    const conf = config(dir, mc, '{ cassandra: 1 }');
    const r = sonde(['queue', 'status', '--once', '--config', conf]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`sonde queue: cannot read the queues in memcached at 127\\.0\\.0\\.1:${mc.port} \\(handler memcached_queue\\): .*cannot connect .*ECONNREFUSED`));
    const none = writeFiles(dir, { 'none.yaml': `hostname: x\nstate_dir: ${dir}/state\nplugin_paths: []\ncollectors:\n  loadavg: {}\nhandlers:\n  stdout: {}\n` })['none.yaml']!;
    const n = sonde(['queue', 'status', '--once', '--config', none]);
    expect([n.status, n.stderr.trim()]).toEqual([78, `sonde queue: ${none} configures no enabled memcached_queue handler, so there are no queues to show. Add one under handlers: (see "sonde list --options")`]);
    expect(sonde(['queue', 'drain', '--config', conf]).status).toBe(64);
    expect(sonde(['queue', 'peek', 'two words', '--config', conf]).status).toBe(64);
  });
});
