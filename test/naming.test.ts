import { describe, expect, it } from 'vitest';
import { GRAPHITE_CHARS, NameTable, PathRenderer, sanitizeDotted, sanitizeSegment, sanitizeSegmentIn, splitDotted, STATSD_CHARS } from '../src/model/naming.js';

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

  it('keeps ordinary dotted names as they are, for Graphite and StatsD alike', () => {
    for (const name of ['numSent', 'http_2xx', 'some.metric.time.90th_percentile', 'servers.mx1.postfix', 'hosts.0', 'squid_TCP_MEM_HIT', 'a-b+c=d~e']) {
      expect(sanitizeDotted(name), name).toBe(name);
      expect(sanitizeDotted(name, STATSD_CHARS), name).toBe(name);
    }
    expect(sanitizeDotted('db:primary@eu')).toBe('db:primary@eu');
  });

  it('sanitises a dotted name: one line, one field, no empty segment, whatever the input', () => {
    // Hand-worked: whitespace and `|` become `_`, dots split, empty parts are dropped.
    expect(sanitizeDotted('a b\nservers.other.cpu 99 0')).toBe('a_b_servers.other.cpu_99_0');
    expect(sanitizeDotted('a..b')).toBe('a.b');
    expect(sanitizeDotted('.lead.trail.')).toBe('lead.trail');
    expect(sanitizeDotted('...')).toBe('_');
    expect(sanitizeDotted('')).toBe('_');
    expect(sanitizeDotted('k:1|c@0.5')).toBe('k:1_c@0.5');
    expect(sanitizeDotted('k:1|c@0.5', STATSD_CHARS)).toBe('k_1_c_0.5');
    expect(sanitizeDotted('x\tsvc;host\u0017\r\n')).toBe('x_svc_host___');
    expect(sanitizeDotted('métrique/é')).toBe('m_trique__');
    expect(sanitizeSegmentIn('a:b@c|d', STATSD_CHARS)).toBe('a_b_c_d');
    expect(sanitizeSegmentIn('a:b@c|d', GRAPHITE_CHARS)).toBe('a:b@c_d');
    // Random strings of the characters that matter on some wire.
    const alphabet = ['a', 'Z', '9', '.', '.', ' ', '\t', '\n', '\r', ':', '|', '@', '#', ';', '=', '/', '*', '{', '}', ',', '"', "'", '\u0000', '\u0017', 'é', '-', '_'];
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 2000; i++) {
      const raw = Array.from({ length: rnd(12) }, () => alphabet[rnd(alphabet.length)]).join('');
      expect(sanitizeDotted(raw), JSON.stringify(raw)).toMatch(/^[A-Za-z0-9_\-:@+=~]+(\.[A-Za-z0-9_\-:@+=~]+)*$/);
      expect(sanitizeDotted(raw, STATSD_CHARS), JSON.stringify(raw)).toMatch(/^[A-Za-z0-9_\-+=~]+(\.[A-Za-z0-9_\-+=~]+)*$/);
      // Safe already means unchanged: sanitising twice gives the same name.
      expect(sanitizeDotted(sanitizeDotted(raw))).toBe(sanitizeDotted(raw));
    }
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
