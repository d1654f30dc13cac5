import { describe, expect, it } from 'vitest';
import { parseBytes } from '../src/model/bytes.js';
import { formatDuration, parseDuration } from '../src/model/duration.js';
import { formatValue, plaintextLine } from '../src/model/value-format.js';

describe('durations and sizes', () => {
  it('reads the units operators write', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration(10)).toBe(10_000);
    expect(parseDuration('1.5s')).toBe(1500);
  });
  it('refuses what is not a duration', () => {
    for (const bad of ['10x', '', 's', '-1s', '1 0s']) expect(parseDuration(bad), bad).toBeUndefined();
    expect(parseDuration(-1)).toBeUndefined();
  });
  it('prints durations in the largest whole unit', () => {
    expect(formatDuration(10_000)).toBe('10s');
    expect(formatDuration(1500)).toBe('1500ms');
    expect(formatDuration(3_600_000)).toBe('1h');
  });
  it('reads byte sizes', () => {
    expect(parseBytes('1GiB')).toBe(1024 ** 3);
    expect(parseBytes('64MiB')).toBe(64 * 1024 ** 2);
    expect(parseBytes('500MB')).toBe(500e6);
    expect(parseBytes(4096)).toBe(4096);
    expect(parseBytes('1XB')).toBeUndefined();
  });
});

describe('values on the wire', () => {
  it('uses fixed decimals for a precision, as Diamond does', () => {
    expect(formatValue(12.5, 2)).toBe('12.50');
    expect(formatValue(3.4, 0)).toBe('3');
    expect(formatValue(16384000000, 0)).toBe('16384000000');
  });
  it('never prints a negative zero', () => {
    expect(formatValue(-0.001, 2)).toBe('0.00');
    expect(formatValue(-0, undefined)).toBe('0');
  });
  it('uses the shortest exact form without a precision', () => {
    expect(formatValue(0.1, undefined)).toBe('0.1');
    expect(formatValue(1234, undefined)).toBe('1234');
    expect(Number(formatValue(1 / 3, undefined))).toBe(1 / 3);
  });
});

describe('Graphite plaintext lines', () => {
  it('are <path> <value> <unix seconds> and a newline', () => {
    expect(plaintextLine('servers.h.cpu.total.user', 12.5, 2, 1_795_382_080_999)).toBe('servers.h.cpu.total.user 12.50 1795382080\n');
    expect(plaintextLine('a.b', 0.1, undefined, 1000)).toBe('a.b 0.1 1\n');
  });
});
