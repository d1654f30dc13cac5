// host:port destinations (statsd, memcached_queue, sonde queue): hand-written cases.
import { describe, expect, it } from 'vitest';
import { parseHostPort } from '../src/model/host-port.js';
import { hostPort } from '../src/schema/units.js';

describe('parseHostPort', () => {
  it('splits names, IPv4 and bracketed IPv6 addresses from their port', () => {
    expect(parseHostPort('127.0.0.1:8125')).toEqual({ host: '127.0.0.1', port: 8125 });
    expect(parseHostPort(' statsd.example.com:1 ')).toEqual({ host: 'statsd.example.com', port: 1 });
    expect(parseHostPort('[::1]:11211')).toEqual({ host: '::1', port: 11211 });
    expect(parseHostPort('[2001:db8::7]:65535')).toEqual({ host: '2001:db8::7', port: 65535 });
  });

  it('refuses what is not one', () => {
    for (const bad of ['', 'localhost', 'localhost:', ':8125', 'host:0', 'host:65536', 'host:123456', '::1:8125', '[::1]', '[not v6]:1', 'a b:1', 'host:80x', 'host:-1']) {
      expect([bad, parseHostPort(bad)]).toEqual([bad, undefined]);
    }
  });

  it('backs the schema, whose message names the value', () => {
    expect(hostPort().parse('[::1]:8125')).toBe('[::1]:8125');
    const r = hostPort().safeParse('localhost');
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe('expected host:port (or [v6 address]:port), got "localhost"');
  });
});
