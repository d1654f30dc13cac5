// Schema building blocks shared by the core config and plugins: durations and byte sizes.
import { z } from 'zod';
import { parseBytes } from '../model/bytes.js';
import { parseDuration } from '../model/duration.js';
import { valueKinds } from './introspect.js';

// sonde validates its config once per start or reload: zod's JIT (new Function per object schema)
// costs more to build than it saves on one parse, and is refused by hardened V8 settings anyway.
z.config({ jitless: true });

/** A duration written as `500ms`, `10s`, `5m`, `1h`, `7d` (a bare number is seconds); output in ms. */
export function duration() {
  const input = z.union([z.string(), z.number()]);
  valueKinds.set(input, 'duration');
  return input.transform((v, ctx): number => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration such as 500ms, 10s, 5m or 1h, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return ms;
  });
}

/** A byte size written as `64MiB`, `1GiB`, `500MB` (a bare number is bytes); output in bytes. */
export function bytes() {
  const input = z.union([z.string(), z.number()]);
  valueKinds.set(input, 'size');
  return input.transform((v, ctx): number => {
    const n = parseBytes(v);
    if (n === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a size such as 512KiB, 64MiB or 1GiB, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  });
}

/** A regular expression, checked when the config is loaded (kept as its source text). */
export function regex() {
  return z.string().superRefine((v, ctx) => {
    try {
      new RegExp(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(err as Error).message}` });
    }
  });
}
