// The memcached text-protocol client against Debian's memcached: flags and values read back as
// stored, pipelined replies matched to their commands, and the faults a real server produces
// (stopped, hung, out of memory) reported per command, the uncertain ones marked as such.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemcachedClient, MemcachedError } from '../src/memcached/client.js';
import { startMemcached, type Memcached } from './helpers/memcached.js';

const clients: MemcachedClient[] = [];
function client(port: number, commandTimeout = 2000): MemcachedClient {
  const c = new MemcachedClient({ host: '127.0.0.1', port, connectTimeout: 2000, commandTimeout });
  clients.push(c);
  return c;
}

describe('memcached client', () => {
  let mc: Memcached;
  beforeAll(async () => {
    mc = await startMemcached();
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await mc.stop();
  });

  it('stores with flags and reads back the same bytes and flags', async () => {
    const c = client(mc.port);
    expect(await c.set('k1', 'hello', 0)).toEqual({ stored: true, reply: 'STORED' });
    expect(await c.set('k2', '42', 2)).toEqual({ stored: true, reply: 'STORED' });
    const bin = Buffer.from([0, 13, 10, 255, 13, 10]);
    await c.set('k3', bin, 7);
    const got = await c.get(['k1', 'k2', 'k3', 'absent']);
    expect([...got.keys()].sort()).toEqual(['k1', 'k2', 'k3']);
    expect(got.get('k1')!.value.toString()).toBe('hello');
    expect(got.get('k1')!.flags).toBe(0);
    expect(got.get('k2')!.flags).toBe(2);
    expect(got.get('k3')!.value.equals(bin)).toBe(true);
    expect(got.get('k3')!.flags).toBe(7);
    const withCas = await c.gets(['k1']);
    expect(typeof withCas.get('k1')!.cas).toBe('bigint');
  });

  it('add refuses an existing key; incr counts, keeps the flags and says when the key is missing', async () => {
    const c = client(mc.port);
    expect((await c.add('ctr', '0', 2)).stored).toBe(true);
    expect(await c.add('ctr', '9', 2)).toEqual({ stored: false, reply: 'NOT_STORED' });
    expect(await c.incr('ctr', 5)).toBe(5n);
    expect(await c.incr('ctr', 1)).toBe(6n);
    expect((await c.get(['ctr'])).get('ctr')).toMatchObject({ flags: 2 });
    expect((await c.get(['ctr'])).get('ctr')!.value.toString()).toBe('6');
    expect(await c.incr('no-such-counter', 1)).toBeUndefined();
    expect(await c.delete('ctr')).toBe(true);
    expect(await c.delete('ctr')).toBe(false);
  });

  it('answers pipelined commands from several callers in the order they were written', async () => {
    const c = client(mc.port);
    const items = Array.from({ length: 500 }, (_, i) => ({ key: `p${i}`, value: `v${i}`.repeat(i % 7 + 1) }));
    const [stored, n] = await Promise.all([c.storeMany('set', items), c.incr('missing', 1)]);
    expect(stored.every((r) => r.stored)).toBe(true);
    expect(n).toBeUndefined();
    const got = await c.get(items.map((i) => i.key));
    for (const it of items) expect(got.get(it.key)!.value.toString()).toBe(it.value);
  });

  it('refuses keys memcached cannot take, before writing anything', async () => {
    const c = client(mc.port);
    await expect(c.set('two words', 'x')).rejects.toThrow(/space or a control character/);
    await expect(c.set('line\nbreak', 'x')).rejects.toThrow(/control character/);
    await expect(c.incr('k'.repeat(251), 1)).rejects.toThrow(/251 bytes/);
    // The connection is still in step.
    expect((await c.set('after', 'ok')).stored).toBe(true);
  });

  it('a hung memcached: commands fail after command_timeout as uncertain; their late replies are heard, and the connection goes on', async () => {
    const own = await startMemcached();
    try {
      const c = client(own.port, 300);
      await c.set('x', '1', 2);
      await own.pause();
      const err = await c.incr('x', 1).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(MemcachedError);
      expect((err as MemcachedError).uncertain).toBe(true);
      expect((err as MemcachedError).message).toMatch(/"incr x 1" got no reply within 300 ms \(command_timeout\); the server may or may not have applied it/);
      // A store whose reply is late: the caller hears of it once the server runs again.
      const late: string[] = [];
      const stores = await c.storeMany('set', [{ key: 'l1', value: 'a' }, { key: 'l2', value: 'b' }], (i, r) => late.push(`${i} ${r.reply}`));
      expect(stores.map((r) => r.error?.uncertain)).toEqual([true, true]);
      own.resume();
      // The incr was written before the pause: memcached applies it once it runs again.
      for (let i = 0; i < 250 && late.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      expect(late).toEqual(['0 STORED', '1 STORED']);
      expect(await c.incr('x', 1)).toBe(3n);
    } finally {
      await own.stop();
    }
  });

  it('a stopped memcached: a plain connect error naming the command; a restarted one is used again', async () => {
    const own = await startMemcached();
    const c = client(own.port);
    await c.set('x', '1');
    await own.stop();
    // The client hears of the closed connection first.
    await new Promise((r) => setTimeout(r, 100));
    const err = await c.set('y', '1').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(MemcachedError);
    expect((err as MemcachedError).message).toMatch(/cannot connect \(.*ECONNREFUSED.*\) for "set y 0 0 1"/);
    expect((err as MemcachedError).uncertain).toBe(false);
    const again = await startMemcached({ port: own.port });
    try {
      expect((await c.get(['x'])).size).toBe(0);
      expect((await c.set('y', '1')).stored).toBe(true);
    } finally {
      await again.stop();
    }
  });

  it('memcached -M out of memory: the refusal comes back as the reply, the connection stays usable', async () => {
    const full = await startMemcached({ memoryMb: 2, noEvict: true });
    try {
      const c = client(full.port);
      const big = Buffer.alloc(100_000, 120);
      let refused: string | undefined;
      for (let i = 0; i < 200 && refused === undefined; i++) {
        const r = await c.set(`big${i}`, big);
        if (!r.stored) refused = r.reply;
      }
      expect(refused).toBe('SERVER_ERROR out of memory storing object');
      expect(await c.incr('none', 1)).toBeUndefined();
    } finally {
      await full.stop();
    }
  });
});
