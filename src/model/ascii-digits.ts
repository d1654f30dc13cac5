// Numbers written as ASCII digits straight into a byte buffer, for the handlers that encode samples
// for the wire without a string per value (statsd's lines, memcached_queue's item JSON).

const MINUS = 45;
const DOT = 46;
const ZERO = 48;

/** 10^0 .. 10^22, all exact doubles. */
const P10: readonly number[] = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** Writes a safe integer's digits (a minus sign first when negative) at `pos`; returns the end. */
export function writeIntAscii(out: Uint8Array, pos: number, v: number): number {
  if (v < 0) {
    out[pos++] = MINUS;
    v = -v;
  }
  let digits = 1;
  for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
  const end = pos + digits;
  for (let p = end - 1; p > pos; p--) {
    const q = Math.floor(v / 10);
    out[p] = ZERO + (v - q * 10);
    v = q;
  }
  out[pos] = ZERO + v;
  return end;
}

/**
 * Writes n / 10^p with p decimals and at least one digit before the point (`0.05` for n = 5,
 * p = 2); n a non-negative integer below 2^53, p from 0 to 22. Returns the end.
 */
export function writeFixedAscii(out: Uint8Array, pos: number, n: number, p: number): number {
  if (p === 0) return writeIntAscii(out, pos, n);
  const d = P10[p]!;
  // The quotient is rounded; the remainder says which way, and puts it right.
  let ip = Math.floor(n / d);
  let fr = n - ip * d;
  if (fr < 0) {
    ip--;
    fr += d;
  } else if (fr >= d) {
    ip++;
    fr -= d;
  }
  pos = writeIntAscii(out, pos, ip);
  out[pos++] = DOT;
  for (let i = pos + p - 1; i >= pos; i--) {
    const q = Math.floor(fr / 10);
    out[i] = ZERO + (fr - q * 10);
    fr = q;
  }
  return pos + p;
}
