// NameTable.intern: the door a plugin's names go through (refusals, the cap, collisions), and
// retain, which makes room in a full table.
import { describe, expect, it } from 'vitest';
import { NameTable, relativePath } from '../src/model/naming.js';

describe('name table', () => {
  it('refuses names without a segment, names that are not text and empty instances, and makes nothing for them', () => {
    const t = new NameTable('app');
    const loose = t as unknown as { intern(name: unknown, instance?: unknown): unknown };
    expect(t.intern('')).toBe('empty');
    expect(t.intern('...')).toBe('empty');
    expect(t.intern([])).toBe('empty');
    expect(t.intern(['', ''])).toBe('empty');
    expect(loose.intern(['a', 1])).toBe('not-text');
    expect(loose.intern(['a', 'b', undefined])).toBe('not-text');
    expect(loose.intern(7)).toBe('not-text');
    expect(loose.intern(null)).toBe('not-text');
    expect(t.intern('x', '')).toBe('bad-instance');
    expect(loose.intern('x', 3)).toBe('bad-instance');
    expect(t.size).toBe(0);
    // get() (sonde's own names) keeps its old, lenient way.
    expect(t.get('').segments).toEqual(['_']);
  });

  it('refuses new names past maxNames while the names it holds keep coming back', () => {
    const t = new NameTable('app', undefined, { maxNames: 3 });
    const a = t.intern('a');
    const b = t.intern(['b']);
    const c = t.intern(['c', 'd']);
    expect([a, b, c].map((n) => (typeof n === 'string' ? n : relativePath(n)))).toEqual(['app.a', 'app.b', 'app.c.d']);
    expect(t.intern('e')).toBe('full');
    expect(t.intern(['e'])).toBe('full');
    expect(t.intern(['e', 'f'])).toBe('full');
    expect(t.intern('e', 'i1')).toBe('full');
    expect(t.intern('a')).toBe(a);
    expect(t.intern(['b'])).toBe(b);
    expect(t.intern(['c', 'd'])).toBe(c);
    expect(t.size).toBe(3);
  });

  it('forgets the names retain() is not told to keep, making room for new ones', () => {
    const t = new NameTable('app', undefined, { maxNames: 4 });
    const keep = [t.intern('a'), t.intern(['b', 'c'])];
    t.intern(['d']);
    t.intern('e', 'i1');
    expect(t.intern('f')).toBe('full');
    t.retain((n) => keep.includes(n));
    expect(t.size).toBe(2);
    expect(t.intern('a')).toBe(keep[0]);
    expect(t.intern(['b', 'c'])).toBe(keep[1]);
    expect(typeof t.intern('f')).toBe('object');
    expect(typeof t.intern('g')).toBe('object');
    expect(t.intern('h')).toBe('full');
  });

  it('tells of two different names that sanitise to one path, once, and not of one name written two ways', () => {
    const said: string[] = [];
    const t = new NameTable('diskspace', undefined, { onCollision: (a, b, p) => said.push(`${a} | ${b} | ${p}`) });
    t.intern(['/srv/data', 'byte_avail']);
    t.intern(['_srv_data', 'byte_avail']);
    t.intern(['?srv?data', 'byte_avail']);
    t.intern('total.user');
    t.intern(['total', 'user']);
    t.intern('total..user');
    t.intern('x', 'db 1');
    t.intern('x', 'db_1');
    expect(said).toEqual([
      '"/srv/data.byte_avail" | "_srv_data.byte_avail" | diskspace._srv_data.byte_avail',
      '"x" (instance "db 1") | "x" (instance "db_1") | diskspace.db_1.x',
    ]);
  });

  it('shows a name whose segment holds a dot as its segments', () => {
    const said: string[] = [];
    const t = new NameTable('d', undefined, { onCollision: (a, b) => said.push(`${a} | ${b}`) });
    t.intern(['a.b', 'c']);
    t.intern(['a_b', 'c']);
    expect(said).toEqual(['["a.b","c"] | "a_b.c"']);
  });
});
