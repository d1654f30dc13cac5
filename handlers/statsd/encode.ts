// StatsD lines for a batch, written into one reused buffer: `name:value|g` for gauges and rates,
// `name:growth|c` for counters. A negative gauge goes as `name:0|g` then `name:-N|g`, together:
// a leading sign makes a StatsD gauge relative. Values are written without exponent notation, with
// the collector's precision (fixed decimals, as `formatValue`), digit by digit so that a sample
// costs no allocation (a fraction without a precision, a value near halfway between two outputs and
// one past 2^52 at its precision are printed by String() or toFixed()); names are made once per
// metric path and kept.
import { RejectedSamplesError, statsdName, writeFixedAscii as writeFixed, writeIntAscii as writeInt, type MetricName, type Sample } from '../../src/plugin-api.js';
import type { CounterEntry, CounterState } from './counter-state.js';
import type { Packer } from './pack.js';

const NL = 10;
const MINUS = 45;
const ZERO = 48;
const COLON = 58;
const PIPE = 124;
const G = 103;
const C = 99;

/** Longest value text: 309 integer digits of 1.8e308, a point and 100 decimals, a sign. */
const MAX_NUMBER = 420;
const TWO52 = 2 ** 52;
/** 10^0 .. 10^22, all exact doubles. */
const P10: number[] = [];
for (let i = 0, p = 1; i <= 22; i++, p *= 10) P10.push(p);

/** `1.5e-7` as `0.00000015`, `1e+21` as `1000000000000000000000`: the same digits, no exponent. */
export function withoutExponent(text: string): string {
  const e = text.indexOf('e');
  if (e < 0) return text;
  const neg = text.charCodeAt(0) === MINUS;
  const mant = text.slice(neg ? 1 : 0, e);
  const exp = Number(text.slice(e + 1));
  const dot = mant.indexOf('.');
  const digits = dot < 0 ? mant : mant.slice(0, dot) + mant.slice(dot + 1);
  const point = (dot < 0 ? mant.length : dot) + exp;
  let plain: string;
  if (point <= 0) plain = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) plain = digits + '0'.repeat(point - digits.length);
  else plain = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return neg ? `-${plain}` : plain;
}

function writeText(out: Uint8Array, pos: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[pos++] = text.charCodeAt(i);
  return pos;
}

/**
 * Writes a finite value as `formatValue` prints it (fixed decimals with a precision, the shortest
 * exact form without; never `-0`), but never in exponent notation. Returns the end.
 */
export function writeNumber(out: Uint8Array, pos: number, v: number, precision: number | undefined): number {
  if (precision === undefined) {
    if (Number.isSafeInteger(v)) return writeInt(out, pos, v);
    return writeText(out, pos, withoutExponent(String(v)));
  }
  if (precision <= 20 && precision >= 0 && Number.isInteger(precision)) {
    const a = v < 0 ? -v : v;
    const s = a * P10[precision]!;
    if (s < TWO52) {
      const floor = Math.floor(s);
      const f = s - floor;
      // s is a·10^p within half an ulp: unless it is about halfway, it rounds as the exact value
      // does. Halfway cases go to toFixed, which rounds the exact value.
      if (Math.abs(f - 0.5) > s * 4.5e-16) {
        const n = f > 0.5 ? floor + 1 : floor;
        if (v < 0 && n !== 0) out[pos++] = MINUS;
        return writeFixed(out, pos, n, precision);
      }
    }
  }
  let text: string;
  try {
    text = v.toFixed(precision);
  } catch (err) {
    throw new RejectedSamplesError(`its precision ${precision} cannot be printed (${(err as Error).message})`);
  }
  // toFixed keeps the sign of what rounds to zero ("-0.00"); a level of -0 is 0.
  if (text.charCodeAt(0) === MINUS && Number(text) === 0) text = text.slice(1);
  if (text.indexOf('e') >= 0) {
    // Past 1e21 toFixed gives the shortest form, exponent and all: an integer, then the decimals.
    text = withoutExponent(text);
    if (precision > 0) text += `.${'0'.repeat(precision)}`;
  }
  return writeText(out, pos, text);
}

interface NameEntry {
  /** The StatsD name (prefix and Graphite path, made safe), ASCII. */
  readonly bytes: Uint8Array;
  readonly key: string;
  counter: CounterEntry | undefined;
  /** Date.now() of the last send that carried it. */
  used: number;
}

export type CountersAs = 'counter' | 'gauge';

export class Encoder {
  /** The lines of the last batch are buf[0, len). */
  buf: Buffer = Buffer.allocUnsafe(64 * 1024);
  len = 0;
  private readonly names = new Map<string, NameEntry>();
  private readonly scratch = new Uint8Array(MAX_NUMBER);
  private readonly prefix: string;

  constructor(
    prefix: string,
    private readonly countersAs: CountersAs,
    readonly counters: CounterState,
  ) {
    this.prefix = prefix === '' ? '' : statsdName(prefix);
  }

  get nameCount(): number {
    return this.names.size;
  }

  /**
   * Writes the batch's lines into buf[0, len); with a packer, also cuts them into its datagrams
   * of at most `maxPacket` bytes. Throws a RejectedSamplesError, before anything is sent, for a
   * sample StatsD cannot take. Counter totals stay pending in `counters` until it commits them.
   */
  encode(batch: readonly Sample[], path: (name: MetricName) => string, now: number, packer?: Packer, maxPacket = 0): void {
    this.len = 0;
    this.counters.begin();
    packer?.reset(maxPacket);
    const scratch = this.scratch;
    for (let i = 0; i < batch.length; i++) {
      const s = batch[i]!;
      const v = s.value;
      if (!Number.isFinite(v)) throw new RejectedSamplesError(`value ${v} is not a finite number; StatsD takes finite numbers only`);
      const e = this.entry(path(s.name), now);
      let type = G;
      let numLen: number;
      if (s.kind === 'counter' && this.countersAs === 'counter') {
        let c = e.counter;
        if (c === undefined || c.gone) c = e.counter = this.counters.entry(e.key, now);
        const growth = this.counters.growth(c, v);
        if (growth === undefined) continue;
        numLen = writeNumber(scratch, 0, growth, s.precision);
        type = C;
      } else {
        numLen = writeNumber(scratch, 0, v, s.precision);
      }
      const name = e.bytes;
      this.ensure(2 * (name.length + 4) + numLen + 1);
      const buf = this.buf;
      const from = this.len;
      const pair = type === G && scratch[0] === MINUS;
      let p = from;
      if (pair) {
        // `name:-N|g` alone would subtract N from the gauge: set it to 0 first.
        buf.set(name, p);
        p += name.length;
        buf[p++] = COLON;
        buf[p++] = ZERO;
        buf[p++] = PIPE;
        buf[p++] = G;
        buf[p++] = NL;
      }
      buf.set(name, p);
      p += name.length;
      buf[p++] = COLON;
      for (let k = 0; k < numLen; k++) buf[p++] = scratch[k]!;
      buf[p++] = PIPE;
      buf[p++] = type;
      buf[p++] = NL;
      this.len = p;
      if (packer !== undefined && !packer.add(from, p)) {
        const what = pair ? 'its two StatsD lines (a negative gauge is set to 0 first, in the same datagram) take' : 'its StatsD line takes';
        throw new RejectedSamplesError(`${what} ${p - from - 1} bytes, more than max_packet_bytes (${maxPacket}) allows in one datagram; raise max_packet_bytes or shorten the name`);
      }
    }
    packer?.finish(this.len);
  }

  private entry(path: string, now: number): NameEntry {
    let e = this.names.get(path);
    if (e === undefined) {
      const key = statsdName(this.prefix === '' ? path : `${this.prefix}.${path}`);
      e = { bytes: Buffer.from(key, 'latin1'), key, counter: undefined, used: now };
      this.names.set(path, e);
    }
    e.used = now;
    return e;
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + extra));
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }

  /** After a send was abandoned (its bytes may still be referenced by a socket): a fresh buffer. */
  detach(): void {
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.len = 0;
  }

  /** Forgets the names not sent since `now - ttlMs`, then the least recently sent past `maxNames`. */
  sweep(now: number, ttlMs: number, maxNames: number): void {
    const before = now - ttlMs;
    for (const [k, e] of this.names) if (e.used < before) this.names.delete(k);
    if (this.names.size <= maxNames) return;
    // As CounterState.sweep: of names sent together, the newest go first.
    const byAge = [...this.names].reverse().sort((a, b) => a[1].used - b[1].used);
    const drop = this.names.size - Math.floor(maxNames * 0.9);
    for (let i = 0; i < drop; i++) this.names.delete(byAge[i]![0]);
  }
}
