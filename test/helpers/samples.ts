// Numbered samples for the delivery tests: sample i has value i and timestamp i, so what arrives
// can be compared with the numbers that were pushed.
import { NameTable } from '../../src/model/naming.js';
import type { Sample } from '../../src/model/sample.js';

const names = new NameTable('t');

export const sample = (i: number): Sample => ({ name: names.get('m'), value: i, kind: 'gauge', timestamp: i, precision: undefined });
/** Samples from..to-1. */
export const range = (from: number, to: number): Sample[] => Array.from({ length: to - from }, (_, i) => sample(from + i));
export const values = (xs: readonly Sample[] | undefined): number[] => (xs ?? []).map((s) => s.value);
