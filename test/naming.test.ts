import { describe, expect, it } from 'vitest';
import { NameTable, PathRenderer, sanitizeSegment, splitDotted } from '../src/model/naming.js';

describe('metric names', () => {
  it('keeps ordinary segments as they are', () => {
    expect(sanitizeSegment('Threads_connected')).toBe('Threads_connected');
    expect(sanitizeSegment('cpu0')).toBe('cpu0');
    expect(sanitizeSegment('05_normalized')).toBe('05_normalized');
  });

  it('can never produce whitespace, a semicolon, a dot, a slash, a glob or an empty segment', () => {
    const nasty = ['a b', 'a\tb', 'a\nb', 'a;b=c', 'a.b', '/var/log', 'a*b', 'a{b,c}', '[x]', '(y)', '', 'é', 'a?b'];
    for (const raw of nasty) {
      const s = sanitizeSegment(raw);
      expect(s, raw).toMatch(/^[A-Za-z0-9_\-:@+=~]+$/);
    }
    expect(sanitizeSegment('/var/log')).toBe('_var_log');
    expect(sanitizeSegment('')).toBe('_');
  });

  it('splits dotted names and drops empty parts instead of making empty segments', () => {
    expect(splitDotted('total.user')).toEqual(['total', 'user']);
    expect(splitDotted('a..b.')).toEqual(['a', 'b']);
    expect(splitDotted('...')).toEqual(['_']);
  });

  it('renders Diamond paths: prefix, host, suffix, collector, instance, segments', () => {
    const r = new PathRenderer({ prefix: 'servers', host: 'web01', suffix: '' });
    const names = new NameTable('mysql', 'm1');
    expect(r.render(names.get('Threads_connected'))).toBe('servers.web01.mysql.m1.Threads_connected');
    const r2 = new PathRenderer({ prefix: 'servers.dc1', host: 'web 01', suffix: 'prod' });
    expect(r2.render(new NameTable('cpu').get('total.user'))).toBe('servers.dc1.web_01.prod.cpu.total.user');
    const r3 = new PathRenderer({ prefix: 'servers', host: undefined, suffix: '' });
    expect(r3.render(new NameTable('loadavg').get('01'))).toBe('servers.loadavg.01');
  });

  it('keeps a dot inside an array segment from splitting the metric', () => {
    const r = new PathRenderer({ prefix: 'servers', host: 'h', suffix: '' });
    const n = new NameTable('diskspace').get(['/srv/data.d', 'byte_avail']);
    expect(r.render(n)).toBe('servers.h.diskspace._srv_data_d.byte_avail');
    expect(r.render(n).split('.')).toHaveLength(5);
  });

  it('interns names: the same name gives the same object', () => {
    const t = new NameTable('cpu');
    expect(t.get('total.user')).toBe(t.get('total.user'));
    expect(t.get(['total', 'user'])).not.toBe(t.get(['total', 'system']));
    expect(t.get('x', 'i1')).not.toBe(t.get('x', 'i2'));
  });
});
