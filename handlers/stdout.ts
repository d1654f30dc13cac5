// stdout: Graphite plaintext lines on standard output, for trying sonde out and for pipelines.
import { defineHandler, formatValue, z } from '../src/plugin-api.js';

export default defineHandler({
  name: 'stdout',
  description: 'Prints samples as Graphite plaintext lines (<path> <value> <timestamp>) on standard output.',
  schema: z.object({}),
  // Printing last run's samples in the next one would only confuse: no disk spool.
  outbox: { batch_size: 1000, flush_interval: '200ms', spool: false },
  send(batch, ctx) {
    let out = '';
    for (const s of batch) {
      if (!Number.isFinite(s.value)) continue;
      out += `${ctx.path(s.name)} ${formatValue(s.value, s.precision)} ${Math.floor(s.timestamp / 1000)}\n`;
    }
    if (out.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      process.stdout.write(out, (err) => (err ? reject(err) : resolve()));
    });
  },
});
