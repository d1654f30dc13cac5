// The memcached_queue handler writes values straight into its buffers: the bytes must be
// formatValue's (what the graphite handler sends), for any value and precision.
import { describe, expect, it } from 'vitest';
import { VALUE_MAX_BYTES, valueBound, writeSampleValue, writeSeconds, writeValue } from '../handlers/memcached_queue/value-bytes.js';
import { formatValue } from '../src/model/value-format.js';
import { rng } from './helpers/rng.js';

const buf = Buffer.alloc(VALUE_MAX_BYTES + 8);
function written(value: number, precision: number | undefined, sample = false): string {
  buf.fill(0x7e);
  const end = sample ? writeSampleValue(buf, 3, { value, precision }) : writeValue(buf, 3, value, precision);
  // Nothing written outside what it says it wrote.
  if (buf[2] !== 0x7e || buf[end] !== 0x7e) expect(`${value} at ${precision} wrote past its bytes`).toBe('');
  return buf.toString('latin1', 3, end);
}

function check(value: number, precision: number | undefined): void {
  const want = formatValue(value, precision);
  const got = written(value, precision);
  if (got !== want) expect(`${got} for ${value} at ${precision}`).toBe(`${want} for ${value} at ${precision}`);
  const fromSample = written(value, precision, true);
  if (fromSample !== want) expect(`${fromSample} for ${value} at ${precision} (writeSampleValue)`).toBe(`${want} for ${value} at ${precision}`);
  if (got.length > valueBound(precision)) expect(`${got} for ${value} at ${precision}`).toBe(`at most ${valueBound(precision)} bytes`);
}

const PRECISIONS: (number | undefined)[] = [undefined, 0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 16, 17, 20];

describe('writeValue and writeSampleValue', () => {
  it('writes what formatValue returns for values that need care', () => {
    const values = [
      0, -0, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 0.125, 0.005, -0.005, 0.015, 1.005, 1.045, 12.5, 3.4, 16384000000, -0.001, 0.1, 1 / 3, -1 / 3, 1234,
      2 ** 31, 2 ** 31 - 1, -(2 ** 31), -(2 ** 31) + 1, -(2 ** 31) - 1, 2 ** 31 / 100, -(2 ** 31) / 100, 21474836.47, 21474836.475, -21474836.48,
      2 ** 53, 2 ** 53 - 1, -(2 ** 53), 2 ** 53 + 2, 2 ** 52 + 0.5, 9007199254740.99, 90071992547409.91, 8.999999999999999, 8999999999.999999,
      1e15, 1e16, 1e20, 1e21, -1e21, 999999999999999900000, 1e22, 1.7976931348623157e308, -1.7976931348623157e308, 5e-324, -5e-324, 1e-7, 1.5e-7, 1e-300,
      0.49999999999999994, 0.5000000000000001, 4.35, 4.345, 1.255, 8.675, 0.045, 10.235, 1e-16, 123456.789, 99.995, 99.9949999, 0.9999999999999999,
    ];
    for (const v of values) for (const p of [...PRECISIONS, 1.5, 2.9, -0.5]) check(v, p);
  });

  it('writes what formatValue returns for many random values and precisions', () => {
    const r = rng(16);
    for (let i = 0; i < 200_000; i++) {
      const kind = i % 6;
      let v: number;
      if (kind === 0) v = (r() - 0.5) * 10 ** Math.floor(r() * 50 - 25);
      else if (kind === 1) v = Math.floor((r() - 0.5) * 2 ** Math.floor(r() * 60));
      else if (kind === 2) v = Math.round((r() - 0.5) * 2e6) / 100 + (r() < 0.5 ? 0.005 : 0);
      else if (kind === 3) v = (Math.floor(r() * 1e6) + 0.5) / 10 ** Math.floor(r() * 8);
      else if (kind === 4) v = new Float64Array(new Uint32Array([Math.floor(r() * 2 ** 32), Math.floor(r() * 2 ** 32)]).buffer)[0]!;
      else v = ((i * 7.3) % 10000) / 4;
      if (!Number.isFinite(v)) continue;
      check(v, PRECISIONS[Math.floor(r() * PRECISIONS.length)]);
    }
  });

  it('rounds as toFixed does at and next to ties: the decimal halfway values and one ulp either side', () => {
    const r = rng(1605);
    const f64 = new Float64Array(1);
    const bits = new BigInt64Array(f64.buffer);
    const step = (v: number, by: bigint): number => {
      f64[0] = v;
      bits[0]! += by;
      return f64[0]!;
    };
    for (let i = 0; i < 30_000; i++) {
      const p = i % 16;
      const tie = (Math.floor(r() * 10 ** Math.floor(r() * 12)) + 0.5) / 10 ** p;
      for (const v of [tie, step(tie, 1n), step(tie, -1n), step(tie, 2n), step(tie, -2n)]) {
        check(v, p);
        check(-v, p);
      }
    }
  });

  it('writeSeconds writes a timestamp as the item\'s Unix seconds, String(Math.floor(ms / 1000))', () => {
    const r = rng(44);
    const stamps = [0, -0, 999, 1000, -1, -999, -1000, -1001, 1_700_000_000_999, 2 ** 31 * 1000 - 1, 2 ** 31 * 1000, -(2 ** 31) * 1000, -(2 ** 31) * 1000 - 1, 8.64e15, -8.64e15, 1e300, NaN, 0.5, -0.5];
    for (let i = 0; i < 20_000; i++) stamps.push(Math.floor((r() - 0.3) * 10 ** Math.floor(r() * 17)) + (r() < 0.2 ? r() : 0));
    for (const ms of stamps) {
      buf.fill(0x7e);
      const end = writeSeconds(buf, 3, { timestamp: ms });
      const got = buf.toString('latin1', 3, end);
      const want = String(Math.floor(ms / 1000));
      if (got !== want || buf[end] !== 0x7e) expect(`${got} for ${ms}`).toBe(`${want} for ${ms}`);
    }
  });

  it('writes what formatValue returns for precisions it does not handle itself, and throws where it throws', () => {
    for (const v of [0, 1.25, -7.5, 1e300, 123.456]) for (const p of [2.5, 30, 100]) check(v, p);
    expect(() => writeValue(buf, 0, 1, 101)).toThrow(RangeError);
    expect(() => writeValue(buf, 0, 1, -1)).toThrow(RangeError);
    expect(() => writeSampleValue(buf, 0, { value: 1, precision: 101 })).toThrow(RangeError);
    expect(written(-1e20 - 0.5, 100).length).toBeLessThanOrEqual(VALUE_MAX_BYTES);
  });
});
