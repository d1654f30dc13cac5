// How schema issues read in config errors. Each case makes zod complain about one value and
// compares the sentence an operator sees, written out by hand.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RawConfig } from '../src/config/read-files.js';
import { describeValue, issueProblems } from '../src/config/issue-wording.js';
import { duration } from '../src/schema/units.js';

// The "line" is the key path's length, to show each problem is located at its full path.
const raw: RawConfig = { value: {}, files: ['sonde.yaml'], originOf: (p) => ({ file: 'sonde.yaml', line: p.length }) };

const schema = z.strictObject({
  port: z.number().int().min(1).max(65535).optional(),
  host: z.string().optional(),
  tls: z.boolean().optional(),
  transport: z.enum(['tcp', 'udp']).optional(),
  timeout: duration().optional(),
  tags: z.array(z.string()).optional(),
  name: z.string().superRefine((v, ctx) => {
    if (v.includes(' ')) ctx.addIssue({ code: 'custom', message: 'must not contain spaces' });
  }).optional(),
  required: z.string(),
});

/** The located lines for one section, as `<line> <dotted path>: <message>`. */
function lines(value: unknown): string[] {
  const r = schema.safeParse(value, { reportInput: true });
  if (r.success) return [];
  return r.error.issues.flatMap((i) => issueProblems(i, ['handlers', 'h'], schema, raw)).map((p) => `${p.origin.line} ${p.path.join('.')}: ${p.message}`);
}

describe('config issue wording', () => {
  it('describes values by what they look like in YAML', () => {
    expect(describeValue(undefined)).toBe('nothing');
    expect(describeValue(null)).toBe('null (an empty value)');
    expect(describeValue('ten')).toBe('"ten"');
    expect(describeValue([1])).toBe('a list');
    expect(describeValue({ a: 1 })).toBe('a mapping');
    expect(describeValue(3.5)).toBe('3.5');
    expect(describeValue(false)).toBe('false');
  });

  it('a missing key and a value of the wrong type', () => {
    expect(lines({})).toEqual(['3 handlers.h.required: is required (a string)']);
    expect(lines({ required: 'x', port: 'ten', tls: 'yes', tags: 'a' })).toEqual([
      '3 handlers.h.port: expected a number, got "ten"',
      '3 handlers.h.tls: expected true or false, got "yes"',
      '3 handlers.h.tags: expected a list, got "a"',
    ]);
  });

  it('an unknown key, with the closest known one or else the list of known keys', () => {
    expect(lines({ required: 'x', prot: 1 })).toEqual(['3 handlers.h.prot: unknown key; did you mean "port"?']);
    expect(lines({ required: 'x', zzzzzzzz: 1 })).toEqual(['3 handlers.h.zzzzzzzz: unknown key; known keys here: port, host, tls, transport, timeout, tags, name, required']);
  });

  it('a value outside its choices or its range', () => {
    expect(lines({ required: 'x', transport: 'ftp' })).toEqual(['3 handlers.h.transport: expected one of "tcp", "udp", got "ftp"']);
    expect(lines({ required: 'x', port: 0 })).toEqual(['3 handlers.h.port: must be at least 1, got 0']);
    expect(lines({ required: 'x', port: 70000 })).toEqual(['3 handlers.h.port: must be at most 65535, got 70000']);
  });

  it('a duration that is neither text nor a number, and a plugin\'s own message', () => {
    expect(lines({ required: 'x', timeout: true })).toEqual(['3 handlers.h.timeout: expected a duration or size such as 10s or 64MiB, got true']);
    expect(lines({ required: 'x', timeout: 'soon' })).toEqual(['3 handlers.h.timeout: expected a duration such as 500ms, 10s, 5m or 1h, got "soon"']);
    expect(lines({ required: 'x', name: 'a b' })).toEqual(['3 handlers.h.name: must not contain spaces']);
  });

  it('a list item\'s position is part of its path', () => {
    expect(lines({ required: 'x', tags: ['a', 2] })).toEqual(['4 handlers.h.tags.1: expected a string, got 2']);
  });
});
