// carbon's plaintext line for one sample, or a RejectedSamplesError for a sample that has none:
// carbon drops NaN without a word, stores infinities as junk, and closes the connection on a line
// over 16384 bytes (Twisted's LineOnlyReceiver.MAX_LENGTH, newline not counted), which would fail
// every send of the batch again and again (see docs/compat.md, "carbon").
import { plaintextLine, RejectedSamplesError, type Sample } from '../../src/plugin-api.js';

export const MAX_LINE_BYTES = 16384;

/** The line with its newline; throws a RejectedSamplesError for a sample carbon cannot take. */
export function carbonLine(path: string, s: Sample): string {
  if (!Number.isFinite(s.value)) throw new RejectedSamplesError(`value ${s.value} is not a finite number; carbon stores finite numbers only`);
  if (!Number.isFinite(s.timestamp)) throw new RejectedSamplesError(`timestamp ${s.timestamp} is not a finite number`);
  let line: string;
  try {
    line = plaintextLine(path, s.value, s.precision, s.timestamp);
  } catch (err) {
    throw new RejectedSamplesError(`cannot be written as a plaintext line: ${(err as Error).message}`);
  }
  // UTF-8 takes at most 3 bytes per UTF-16 unit: only a long line needs its bytes counted.
  if (line.length * 3 > MAX_LINE_BYTES + 1) {
    const bytes = Buffer.byteLength(line) - 1;
    if (bytes > MAX_LINE_BYTES) throw new RejectedSamplesError(`its plaintext line is ${bytes} bytes, over carbon's limit of ${MAX_LINE_BYTES} (a longer line makes carbon close the connection)`);
  }
  return line;
}
