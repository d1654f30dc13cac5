// Diamond's HttpPostHandler body in its default (PLAIN) format: str() of each metric, which already
// ends in a newline, joined with "\n", so lines are separated by an empty one (see docs/compat.md).
import { plaintextLine, RejectedSamplesError, type Sample } from '../../src/plugin-api.js';
import type { BodyEncoder, Naming } from './body-encoder.js';

export class GraphiteBody implements BodyEncoder {
  readonly contentType = 'text/plain; charset=utf-8';
  constructor(private readonly naming: Naming) {}

  encode(batch: readonly Sample[]): string {
    let out = '';
    for (let i = 0; i < batch.length; i++) {
      const s = batch[i]!;
      if (!Number.isFinite(s.value)) throw new RejectedSamplesError(`value ${s.value} is not a finite number; a graphite line carries finite numbers only`);
      if (!Number.isFinite(s.timestamp)) throw new RejectedSamplesError(`timestamp ${s.timestamp} is not a finite number`);
      if (i > 0) out += '\n';
      out += plaintextLine(this.naming.path(s.name), s.value, s.precision, s.timestamp);
    }
    return out;
  }
}
