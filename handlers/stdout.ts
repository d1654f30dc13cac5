// stdout: Graphite plaintext lines on standard output, for trying sonde out and for pipelines.
import { defineHandler, plaintextLine, RejectedSamplesError, z } from '../src/plugin-api.js';

export default defineHandler({
  name: 'stdout',
  description: 'Prints samples as Graphite plaintext lines (<path> <value> <timestamp>) on standard output.',
  schema: () => z.object({}),
  // Printing last run's samples in the next one would only confuse: no disk spool.
  outbox: { batch_size: 1000, flush_interval: '200ms', spool: false },
  send(batch, ctx) {
    // Joined once at the end: `out += line` would leave one more string object per sample.
    const lines = new Array<string>(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const s = batch[i]!;
      // A line with NaN or a precision toFixed refuses would fail every time: the core drops that sample and counts it.
      if (!Number.isFinite(s.value)) throw new RejectedSamplesError(`value ${s.value} is not a finite number`);
      const path = ctx.path(s.name);
      try {
        lines[i] = plaintextLine(path, s.value, s.precision, s.timestamp);
      } catch (err) {
        throw new RejectedSamplesError(`cannot be printed as a plaintext line: ${(err as Error).message}`);
      }
    }
    if (lines.length === 0) return Promise.resolve();
    const out = lines.join('');
    return new Promise<void>((resolve, reject) => {
      process.stdout.write(out, (err) => (err ? reject(err) : resolve()));
    });
  },
});
