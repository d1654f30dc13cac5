// The name table finds a name by the strings it was given (instance, dotted name, or segment by
// segment), never by a key joined from them; it tells of collisions while holding nothing for the
// names written as their path. And the paths the renderer makes of names.
import { describe, expect, it } from 'vitest';
import { NameTable, PathRenderer, type NameRefusal } from '../src/model/naming.js';
import type { MetricName } from '../src/model/sample.js';

/** The name, or the test fails with the refusal. */
function named(n: MetricName | NameRefusal): MetricName {
  if (typeof n === 'string') throw new Error(`refused: ${n}`);
  return n;
}

describe('name table: finding names', () => {
  it('keeps apart array names whose segments hold NUL characters, which a joined key would mix up', () => {
    const t = new NameTable('app');
    const a = t.intern(['a\u0000b', 'c', 'd']);
    const b = t.intern(['a', 'b\u0000c', 'd']);
    const c = t.intern(['a', 'b', 'c\u0000d'], 'i1');
    const d = t.intern(['a\u0000b', 'c\u0000d'], 'i1');
    expect(new Set([a, b, c, d]).size).toBe(4);
    expect(t.intern(['a', 'b\u0000c', 'd'])).toBe(b);
    expect(t.size).toBe(4);
  });

  it('gives the same object back for the same name and instance, and another for another instance', () => {
    const t = new NameTable('mysql');
    const m0 = named(t.intern('Questions', 'm0'));
    const deep = t.intern(['replication', 'a', 'Slave_IO_Running'], 'm0');
    expect(t.intern('Questions', 'm0')).toBe(m0);
    expect(t.intern(['replication', 'a', 'Slave_IO_Running'], 'm0')).toBe(deep);
    const m1 = named(t.intern('Questions', 'm1'));
    expect(m1).not.toBe(m0);
    expect(m1).toEqual({ collector: 'mysql', instance: 'm1', segments: ['Questions'] });
    // One frozen array of segments serves the instances that share a name.
    expect(m1.segments).toBe(m0.segments);
    expect(Object.isFrozen(m0.segments)).toBe(true);
    expect(t.intern('Questions')).not.toBe(m0);
    expect(t.size).toBe(4);
  });

  it('forgets instance names and deep array names retain() is not told to keep, and makes them anew', () => {
    const t = new NameTable('app', undefined, { maxNames: 3 });
    const keep = t.intern('x', 'i1');
    const gone = t.intern(['a', 'b', 'c'], 'i2');
    const gone2 = t.intern(['a', 'b']);
    expect(t.intern('y')).toBe('full');
    t.retain((n) => n === keep);
    expect(t.size).toBe(1);
    expect(t.intern('x', 'i1')).toBe(keep);
    const again = t.intern(['a', 'b', 'c'], 'i2');
    expect(again).not.toBe(gone);
    expect(again).toEqual(gone);
    expect(t.intern(['a', 'b'])).not.toBe(gone2);
    expect(t.size).toBe(3);
  });
});

describe('name table: collisions', () => {
  function table() {
    const said: string[] = [];
    return { said, t: new NameTable('d', undefined, { onCollision: (a, b, p) => said.push(`${a} | ${b} | ${p}`) }) };
  }

  it('tells of a name that sanitises onto the path of one written as that path before it', () => {
    const { said, t } = table();
    t.intern('a_b.c');
    t.intern('a b.c');
    t.intern(['x', 'y_z']);
    t.intern(['x', 'y z']);
    t.intern('q', 'db_1');
    t.intern('q', 'db 1');
    t.intern('a?b.c');
    expect(said).toEqual(['"a_b.c" | "a b.c" | d.a_b.c', '"x.y_z" | "x.y z" | d.x.y_z', '"q" (instance "db_1") | "q" (instance "db 1") | d.db_1.q']);
  });

  it('takes one name written two ways for one name, whichever way comes first', () => {
    const { said, t } = table();
    t.intern('total..user');
    t.intern('total.user');
    t.intern(['total', 'user']);
    t.intern('idle.');
    t.intern(['idle']);
    expect(said).toEqual([]);
  });

  it('says nothing of a name that lands where a forgotten one was', () => {
    const { said, t } = table();
    t.intern('a_b');
    t.retain(() => false);
    t.intern('a b');
    expect(said).toEqual([]);
    t.intern('a_b');
    expect(said).toEqual(['"a b" | "a_b" | d.a_b']);
  });
});

describe('path renderer', () => {
  it('writes prefix, host, suffix, collector, instance and segments with one dot between each', () => {
    const r = new PathRenderer({ prefix: 'servers.dc1', host: 'web 1', suffix: 'prod' });
    expect(r.render({ collector: 'mysql', instance: 'm0', segments: ['Questions'] })).toBe('servers.dc1.web_1.prod.mysql.m0.Questions');
    expect(r.render({ collector: 'cpu', instance: undefined, segments: ['total', 'user'] })).toBe('servers.dc1.web_1.prod.cpu.total.user');
    expect(r.render({ collector: '', instance: undefined, segments: ['mail', 'sent'] })).toBe('servers.dc1.web_1.prod.mail.sent');
    expect(r.render({ collector: '', instance: 'i', segments: [] })).toBe('servers.dc1.web_1.prod.i');
    // A name with nothing in it keeps the dot it always had after the head.
    expect(r.render({ collector: '', instance: undefined, segments: [] })).toBe('servers.dc1.web_1.prod.');
    const bare = new PathRenderer({ prefix: '', host: undefined, suffix: '' });
    expect(bare.render({ collector: 'loadavg', instance: undefined, segments: ['01'] })).toBe('loadavg.01');
    expect(bare.render({ collector: '', instance: undefined, segments: [] })).toBe('');
  });

  it('gives the same string for the same name object every time', () => {
    const r = new PathRenderer({ prefix: 'servers', host: 'h', suffix: '' });
    const n = named(new NameTable('mysql').intern('Questions', 'm0'));
    expect(r.render(n)).toBe(r.render(n));
    expect(r.render(n)).toBe('servers.h.mysql.m0.Questions');
  });
});
