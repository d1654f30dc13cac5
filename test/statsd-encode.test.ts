// The statsd handler's encoder, packer, counter totals and pacer, on their own: numbers against
// Python's printing (Diamond's `%0.<precision>f`) and the graphite wire's formatValue, lines and
// names against hand-written expectations, packing against every line of random batches.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CounterState } from '../handlers/statsd/counter-state.js';
import { Encoder, withoutExponent, writeNumber } from '../handlers/statsd/encode.js';
import { Packer } from '../handlers/statsd/pack.js';
import { bufferCost, BURST_COST, Pacer } from '../handlers/statsd/pacing.js';
import { NameTable, PathRenderer } from '../src/model/naming.js';
import type { Sample, SampleKind } from '../src/model/sample.js';
import { formatValue } from '../src/model/value-format.js';
import { RejectedSamplesError } from '../src/plugin-api.js';
import { tmpdir } from './helpers/tmp.js';

const out = new Uint8Array(1024);
const text = (v: number, p: number | undefined): string => Buffer.from(out.subarray(0, writeNumber(out, 0, v, p))).toString('latin1');

/** A deterministic stream of awkward doubles: tiny, huge, halves, negatives, integers. */
function values(n: number): number[] {
  let x = 0x9e3779b9;
  const rnd = () => ((x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6b) >>> 0) / 2 ** 32);
  const out: number[] = [0, -0, 1, -1, 0.5, 1.5, 2.5, -2.5, 0.125, 1.005, 2 ** 53, 2 ** 53 + 2, -(2 ** 60), 1e21, 1e-7, 5e-324, 1.7976931348623157e308];
  while (out.length < n) {
    const exp = Math.floor(rnd() * 60) - 30;
    const v = (rnd() - 0.3) * 10 ** exp;
    out.push(rnd() < 0.2 ? Math.round(v) : v);
  }
  return out;
}

describe('statsd values', () => {
  it('print as Python prints them (Diamond\'s %0.<precision>f, repr digits without exponent), ties and -0 aside', () => {
    const cases: [number, number | null][] = [];
    for (const v of values(3000)) if (Math.abs(v) < 1e21) for (const p of [null, 0, 1, 2, 3, 6, 20]) cases.push([v, p]);
    // Python decides which cases are exact ties (it rounds them to even, sonde up, as formatValue).
    const py = JSON.parse(
      execFileSync(
        'python3',
        [
          '-c',
          `
import json, sys
from decimal import Decimal, getcontext
getcontext().prec = 2000
out = []
for v, p in json.load(sys.stdin):
    if p is None:
        out.append([format(Decimal(repr(v)), 'f'), False])
    else:
        out.append(['%.*f' % (p, v), abs(Decimal(v)).scaleb(p) % 1 == Decimal('0.5')])
print(json.dumps(out))
`,
        ],
        { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 64 << 20 },
      ),
    ) as [string, boolean][];
    let compared = 0;
    cases.forEach(([v, p], i) => {
      const [want, tie] = py[i]!;
      if (tie) return;
      // Python keeps the sign of what rounds to zero (-0.00); a level of -0 is 0 on sonde's wires.
      const expected = /^-[0.]+$/.test(want) ? want.slice(1) : want;
      expect({ v, p, got: text(v, p ?? undefined) }).toEqual({ v, p, got: expected });
      compared++;
    });
    expect(compared).toBeGreaterThan(15_000);
  });

  it('print as the graphite wire prints them (formatValue), without its exponent notation', () => {
    for (const v of values(20_000)) {
      for (const p of [undefined, 0, 2, 5]) {
        const ours = text(v, p);
        const theirs = formatValue(v, p);
        expect(ours).not.toMatch(/e/i);
        if (/e/.test(theirs)) expect(Number(ours)).toBe(Number(theirs));
        else expect({ v, p, ours }).toEqual({ v, p, ours: theirs });
      }
    }
  });

  it('never use exponent notation, however large or small', () => {
    expect(text(1e-7, undefined)).toBe('0.0000001');
    expect(text(-2.5e-8, undefined)).toBe('-0.000000025');
    expect(text(1e21, undefined)).toBe('1000000000000000000000');
    expect(text(1e21, 2)).toBe('1000000000000000000000.00');
    expect(text(-1.5e22, 0)).toBe('-15000000000000000000000');
    expect(text(5e-324, undefined)).toBe(`0.${'0'.repeat(323)}5`);
    expect(text(123.456, 20)).toBe((123.456).toFixed(20));
    expect(withoutExponent('1.25e+3')).toBe('1250');
    expect(withoutExponent('1.25e-3')).toBe('0.00125');
  });

  it('print -0, and negatives that round to zero, as 0', () => {
    expect(text(-0, undefined)).toBe('0');
    expect(text(-0, 2)).toBe('0.00');
    expect(text(-0.001, 2)).toBe('0.00');
    expect(text(-0.4, 0)).toBe('0');
    expect(text(-0.5, 0)).toBe('-1');
  });
});

const paths = new PathRenderer({ prefix: 'servers', host: 'web01', suffix: '' });
const names = new NameTable('t');
const path_ = (n: Sample['name']) => paths.render(n);

function s(name: string | string[], value: number, kind: SampleKind = 'gauge', precision?: number): Sample {
  return { name: names.get(name), value, kind, timestamp: 0, precision };
}

function lines(enc: Encoder): string[] {
  return enc.buf.subarray(0, enc.len).toString('latin1').split('\n').slice(0, -1);
}

function encoder(opts: { prefix?: string; countersAs?: 'counter' | 'gauge'; state?: CounterState } = {}): Encoder {
  return new Encoder(opts.prefix ?? '', opts.countersAs ?? 'counter', opts.state ?? new CounterState('boot-a'));
}

describe('statsd lines', () => {
  it('gauges and rates are |g; a negative gauge is set to 0 first, in that order; zero is just 0', () => {
    const enc = encoder();
    enc.encode([s('a', 12.5, 'gauge', 2), s('b', -3, 'gauge', 0), s('c', 0), s('d', 7.25, 'rate', 1), s('e', -0.001, 'gauge', 2)], path_, 0);
    expect(lines(enc)).toEqual([
      'servers.web01.t.a:12.50|g',
      'servers.web01.t.b:0|g',
      'servers.web01.t.b:-3|g',
      'servers.web01.t.c:0|g',
      'servers.web01.t.d:7.3|g',
      'servers.web01.t.e:0.00|g',
    ]);
  });

  it('counters send their growth since the last total sent: nothing the first time, nothing after a reset', () => {
    const state = new CounterState('boot-a');
    const enc = encoder({ state });
    const send = (v: number) => {
      enc.encode([s('rx', v, 'counter', 0)], path_, 0);
      state.commit(0);
      return lines(enc);
    };
    expect(send(1000)).toEqual([]);
    expect(send(1250)).toEqual(['servers.web01.t.rx:250|c']);
    expect(send(1250)).toEqual(['servers.web01.t.rx:0|c']);
    expect(send(40)).toEqual([]);
    expect(send(45)).toEqual(['servers.web01.t.rx:5|c']);
  });

  it('a batch that was not sent counts for nothing: sent again, it gives the same growth', () => {
    const state = new CounterState('boot-a');
    const enc = encoder({ state });
    enc.encode([s('rx', 100, 'counter')], path_, 0);
    state.commit(0);
    enc.encode([s('rx', 130, 'counter'), s('rx', 170, 'counter')], path_, 0);
    expect(lines(enc)).toEqual(['servers.web01.t.rx:30|c', 'servers.web01.t.rx:40|c']);
    // the send failed: no commit
    enc.encode([s('rx', 130, 'counter'), s('rx', 170, 'counter')], path_, 0);
    expect(lines(enc)).toEqual(['servers.web01.t.rx:30|c', 'servers.web01.t.rx:40|c']);
    state.commit(0);
    enc.encode([s('rx', 171, 'counter')], path_, 0);
    expect(lines(enc)).toEqual(['servers.web01.t.rx:1|c']);
  });

  it('counters_as gauge sends the running total as a gauge', () => {
    const enc = encoder({ countersAs: 'gauge' });
    enc.encode([s('rx', 1000, 'counter'), s('rx', 1250, 'counter')], path_, 0);
    expect(lines(enc)).toEqual(['servers.web01.t.rx:1000|g', 'servers.web01.t.rx:1250|g']);
  });

  it('names never carry : | @ whitespace or newlines, in the path or the prefix', () => {
    const enc = encoder({ prefix: 'st a:t@s|d\n.x' });
    enc.encode([s(['db:primary@eu', 'a|b c\nd'], 1), s('ok', 2)], path_, 0);
    expect(lines(enc)).toEqual(['st_a_t_s_d_.x.servers.web01.t.db_primary_eu.a_b_c_d:1|g', 'st_a_t_s_d_.x.servers.web01.t.ok:2|g']);
  });

  it('refuses what StatsD cannot take, before writing anything of the batch', () => {
    const enc = encoder();
    expect(() => enc.encode([s('a', 1), s('b', NaN)], path_, 0)).toThrow(RejectedSamplesError);
    expect(() => enc.encode([s('a', Infinity)], path_, 0)).toThrow(/not a finite number/);
    const p = new Packer();
    expect(() => enc.encode([s('a', 1), s(['x'.repeat(600)], 1)], path_, 0, p, 512)).toThrow(/takes 6\d\d bytes, more than max_packet_bytes \(512\)/);
  });
});

describe('statsd packing', () => {
  it('no datagram over max_packet_bytes, no line split, every line once and in order', () => {
    for (const max of [128, 512, 1432, 8932]) {
      const batch: Sample[] = [];
      for (let i = 0; i < 3000; i++) batch.push(s(['g', `n${i}`, 'x'.repeat(i % 23)], (i % 7) - 3, 'gauge', i % 3));
      const enc = encoder();
      const p = new Packer();
      enc.encode(batch, path_, 0, p, max);
      const all = lines(enc);
      const got: string[] = [];
      for (let i = 0; i < p.count; i++) {
        const d = enc.buf.subarray(p.starts[i]!, p.ends[i]!).toString('latin1');
        expect(d.length).toBeLessThanOrEqual(max);
        expect(d.endsWith('\n')).toBe(false);
        const ls = d.split('\n');
        // a negative gauge's two lines travel together
        expect(ls[0]!.includes(':-')).toBe(false);
        got.push(...ls);
        if (i + 1 < p.count) {
          // the next datagram's first line (with its pair) would not have fitted in this one
          const [l1, l2] = enc.buf.subarray(p.starts[i + 1]!, p.ends[i + 1]!).toString('latin1').split('\n');
          const pair = l2 !== undefined && l1!.endsWith(':0|g') && l2.startsWith(`${l1!.slice(0, -4)}:-`);
          expect(d.length + 1 + l1!.length + (pair ? 1 + l2.length : 0)).toBeGreaterThan(max);
        }
      }
      expect(got).toEqual(all);
    }
  });

  it('fills 1432-byte datagrams with more than 25 ordinary samples each', () => {
    const batch = Array.from({ length: 1000 }, (_, i) => s(['cpu', `cpu${i % 16}`, `m${i}`], i * 1.37, 'rate', 2));
    const enc = encoder();
    const p = new Packer();
    enc.encode(batch, path_, 0, p, 1432);
    expect(p.count).toBeLessThanOrEqual(1000 / 25);
  });
});

describe('statsd counter totals on disk', () => {
  it('survive a restart in the same boot; totals from another boot are dropped', () => {
    const dir = tmpdir();
    const file = path.join(dir, 'h', 'counters.json');
    const a = new CounterState('boot-a');
    const e = a.entry('servers.web01.t.rx', 1000);
    a.begin();
    a.growth(e, 500);
    a.commit(1000);
    a.saveSync(file);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ version: 1, boot: 'boot-a', counters: { 'servers.web01.t.rx': [500, 1000] } });

    const b = new CounterState('boot-a');
    expect(b.load(file, 2000, 3600_000)).toEqual({ result: 'loaded', totals: 1 });
    b.begin();
    expect(b.growth(b.entry('servers.web01.t.rx', 2000), 520)).toBe(20);

    expect(new CounterState('boot-b').load(file, 2000, 3600_000)).toEqual({ result: 'other-boot' });
    expect(new CounterState('boot-a').load(path.join(dir, 'none.json'), 2000, 3600_000)).toEqual({ result: 'missing' });
    // too old to trust: forgotten
    expect(new CounterState('boot-a').load(file, 1000 + 3600_001, 3600_000)).toEqual({ result: 'loaded', totals: 0 });
  });

  it('an unreadable file is said to be one, not taken as totals', () => {
    const dir = tmpdir();
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'counters.json');
    writeFileSync(file, '{"version": 1, "counters": ');
    expect(() => new CounterState('b').load(file, 0, 1000)).toThrow(SyntaxError);
    writeFileSync(file, '[1,2]');
    expect(() => new CounterState('b').load(file, 0, 1000)).toThrow(/not a statsd counter state/);
  });

  it('are bounded: names not sent for the TTL go, then the least recently sent past max_names', () => {
    const st = new CounterState('b');
    for (let i = 0; i < 1200; i++) st.entry(`n${i}`, i);
    expect(st.sweep(1200, 1000, 10_000)).toBe(0);
    expect(st.size).toBe(1000); // n0..n199 were older than the TTL
    expect(st.sweep(1200, 1000, 500)).toBe(1000 - 450);
    expect(st.size).toBe(450);
    // the least recently sent went: n750 is the first one kept
    const e = st.entry('n750', 0);
    expect(e.at).toBe(750);
    expect(st.entry('n749', 5000).at).toBe(5000); // made anew
  });
});

describe('statsd counter totals past max_names', () => {
  it('of names last sent together, the newest are forgotten first: a long-lived name outlives a wave of new ones', () => {
    const st = new CounterState('b');
    const stay = st.entry('stay', 0);
    // one send carried stay and 1,500 names seen for the first time; the bound keeps 900 of them
    const wave = Array.from({ length: 1500 }, (_, i) => st.entry(`w${i}`, 0));
    st.begin();
    for (const e of [stay, ...wave]) st.growth(e, 1);
    st.commit(5);
    expect(st.sweep(10, 1000, 1000)).toBe(1501 - 900);
    expect(st.size).toBe(900);
    expect(st.entry('stay', 10).at).toBe(5);
    // the wave's first 899 stayed with it, its last 601 went
    expect(st.entry('w898', 10).at).toBe(5);
    expect(st.entry('w899', 10).at).toBe(10);
  });
});

describe('statsd pacing', () => {
  it('lets a burst of about half a default socket buffer go at once, then paces at udp_rate', () => {
    let t = 0;
    const pacer = new Pacer(4 * 1024 * 1024, 1432, () => t);
    let sent = 0;
    while (pacer.take(1432) === 0) sent++;
    expect(sent * bufferCost(1432)).toBeLessThanOrEqual(BURST_COST + bufferCost(1432));
    // the kernel charges 2304 bytes for a 1432-byte datagram on loopback: the burst fits in half of 212992
    expect(sent * 2304).toBeLessThan(212_992 / 2);
    // then 4 MiB a second of payload: 1000 ms of datagrams
    let paid = 0;
    for (let n = 0; n < 10_000; ) {
      const w = pacer.take(1432);
      if (w === 0) {
        n++;
        paid += 1432;
      } else t += w;
    }
    expect(paid / (t / 1000)).toBeGreaterThan(4 * 1024 * 1024 * 0.9);
    expect(paid / (t / 1000)).toBeLessThan(4 * 1024 * 1024 * 1.1);
  });

  it('udp_rate 0 never waits', () => {
    const pacer = new Pacer(0, 1432, () => 0);
    for (let i = 0; i < 10_000; i++) expect(pacer.take(1432)).toBe(0);
  });
});
