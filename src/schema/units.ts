// Schema building blocks shared by the core config and plugins: durations and byte sizes.
import { z } from 'zod';
import { parseBytes } from '../model/bytes.js';
import { parseHostPort } from '../model/host-port.js';
import { formatDuration, parseDuration } from '../model/duration.js';
import { valueKinds, valueRanges } from './introspect.js';

// sonde validates its config once per start or reload: zod's JIT (new Function per object schema)
// costs more to build than it saves on one parse, and is refused by hardened V8 settings anyway.
z.config({ jitless: true });

/** The smallest and largest value a duration or size accepts, written as in the config (`100ms`, `1d`, `64MiB`). */
export interface Bounds {
  readonly min?: string;
  readonly max?: string;
}

/** A duration, or a size, with no `max` of its own: longer is no setting but a mistake (and past 24.8 days a timer fires at once). */
const DEFAULT_MAX_DURATION = '7d';
const DEFAULT_MAX_BYTES = '1TiB';

function bound(text: string, parse: (s: string) => number | undefined): number {
  const v = parse(text);
  if (v === undefined) throw new Error(`bad bound ${JSON.stringify(text)}`);
  return v;
}

/** How a duration reads in a message: `0ms`, `250ms`, `10s`, `5m`, `1d`. */
function showDuration(ms: number): string {
  return ms === 0 ? '0ms' : formatDuration(ms);
}

/** How a size reads in a message: the largest binary unit that divides it, else bytes. */
function showBytes(n: number): string {
  for (const [unit, size] of [['TiB', 1024 ** 4], ['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (n !== 0 && n % size === 0) return `${n / size}${unit}`;
  }
  return `${n}B`;
}

const DURATION_EXAMPLE = 'a duration such as 500ms, 10s, 5m or 1h';
const SIZE_EXAMPLE = 'a size such as 512KiB, 64MiB or 1GiB';

/** A number YAML reads but no setting can use: `.inf`, `1.0e400`, `.nan`. */
function unusableNumber(v: number): string {
  return Number.isNaN(v) ? 'NaN (not a number)' : `${v} (a number too large to use)`;
}

/**
 * Text or any number: z.number() would refuse NaN and Infinity before the transform could say
 * what it expected, leaving the operator "expected a duration or size".
 */
function textOrNumber() {
  return z.union([z.string(), z.custom<number>((v) => typeof v === 'number')]);
}

/** Parses `v` and checks it against [min, max]; `example` words the complaint about a value that is no duration or size, `unit` is what a bare number counts. */
function checked(
  v: string | number,
  ctx: z.core.$RefinementCtx<string | number>,
  parse: (v: string | number) => number | undefined,
  show: (n: number) => string,
  min: number,
  max: number,
  example: string,
  unit: number,
): number {
  if (typeof v === 'number' && !Number.isFinite(v)) {
    ctx.addIssue({ code: 'custom', message: `expected ${example}, got ${unusableNumber(v)}` });
    return z.NEVER;
  }
  // A negative number is a value out of range, not a typo: say which range.
  const n = typeof v === 'number' && v < 0 ? v * unit : parse(v);
  if (n === undefined || !Number.isFinite(n)) {
    ctx.addIssue({ code: 'custom', message: `expected ${example}, got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  if (n < min) {
    ctx.addIssue({ code: 'custom', message: `must be at least ${show(min)}, got ${show(n)}` });
    return z.NEVER;
  }
  if (n > max) {
    ctx.addIssue({ code: 'custom', message: `must be at most ${show(max)}, got ${show(n)}` });
    return z.NEVER;
  }
  return n;
}

/** What a duration or size schema is built from. */
interface Unit {
  readonly kind: 'duration' | 'size';
  readonly parse: (v: string | number) => number | undefined;
  readonly show: (n: number) => string;
  readonly example: string;
  /** What a bare number counts, in the output's unit. */
  readonly unit: number;
}

const DURATION: Unit = { kind: 'duration', parse: parseDuration, show: showDuration, example: DURATION_EXAMPLE, unit: 1000 };
const SIZE: Unit = { kind: 'size', parse: parseBytes, show: showBytes, example: SIZE_EXAMPLE, unit: 1 };

function unitSchema(u: Unit, min: number, max: number) {
  const input = textOrNumber();
  valueKinds.set(input, u.kind);
  valueRanges.set(input, { min: u.show(min), max: u.show(max), zero: min === 0 });
  return input.transform((v, ctx): number => checked(v, ctx, u.parse, u.show, min, max, u.example, u.unit));
}

/**
 * One schema per kind and range: every section's interval, timeout, retry and spool settings ask
 * for the same few, and building zod schemas is most of what loading the plugins costs a `sonde
 * once`. Schemas are immutable (describe, default and optional make new ones), so sharing is safe.
 */
const built = new Map<string, ReturnType<typeof unitSchema>>();
function cached(u: Unit, min: number, max: number): ReturnType<typeof unitSchema> {
  const key = `${u.kind}:${min}:${max}`;
  let s = built.get(key);
  if (s === undefined) built.set(key, (s = unitSchema(u, min, max)));
  return s;
}

/**
 * A duration written as `500ms`, `10s`, `5m`, `1h`, `7d` (a bare number is seconds); output in ms.
 * Refuses values below `min` (default 0) or above `max` (default 7d) with `must be at least ...`;
 * the range is added to the option's help text.
 */
export function duration(bounds: Bounds = {}) {
  const min = bound(bounds.min ?? '0s', parseDuration);
  const max = bound(bounds.max ?? DEFAULT_MAX_DURATION, parseDuration);
  return cached(DURATION, min, max);
}

/**
 * A byte size written as `64MiB`, `1GiB`, `500MB` (a bare number is bytes); output in bytes.
 * Refuses values below `min` (default 0) or above `max` (default 1TiB); the range is added to
 * the option's help text.
 */
export function bytes(bounds: Bounds = {}) {
  const min = bound(bounds.min ?? '0', parseBytes);
  const max = bound(bounds.max ?? DEFAULT_MAX_BYTES, parseBytes);
  return cached(SIZE, min, max);
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

/**
 * A destination written `host:port`, `[v6 address]:port` for IPv6 (parse it with parseHostPort),
 * checked when the config is loaded.
 */
export function hostPort() {
  return z.string().superRefine((v, ctx) => {
    if (!parseHostPort(v)) ctx.addIssue({ code: 'custom', message: `expected host:port (or [v6 address]:port), got ${JSON.stringify(v)}` });
  });
}
