// jsonlines: an example sonde handler. It appends every sample to a file as one JSON object a line,
// for a log shipper (Vector, Filebeat, fluent-bit) to pick up:
//   {"path":"servers.web01.cpu.total.user","value":20.5,"time":1700000000,"kind":"gauge","host":"web01"}
// Try it: put this folder in plugin_paths and a "handlers: { jsonlines: { file: /var/log/sonde/metrics.jsonl } }" section in the config.
// Test it: sonde test .
import { appendFile } from 'node:fs/promises';

/** @param {import('sonde/plugin').Api} api */
export default (api) =>
  api.defineHandler({
    name: 'jsonlines',
    description: 'Appends samples to a file as JSON lines (path, value, time, kind, host), for a log shipper',
    schema: api.z.object({
      file: api.z.string().min(1).default('/var/log/sonde/metrics.jsonl').describe('The file the lines are appended to; created if missing, never truncated (rotate it with logrotate\'s copytruncate or create)'),
      host: api.z.boolean().default(true).describe('Add the host as a field of its own'),
    }),
    async send(batch, ctx) {
      let out = '';
      for (const s of batch) {
        // JSON has no NaN or Infinity: such a sample can never be written. Refused before anything
        // is written, the core drops just that sample (counted and logged) and sends the rest.
        if (!Number.isFinite(s.value)) throw new api.RejectedSamplesError(`${ctx.path(s.name)} has the value ${s.value}, which JSON cannot hold`);
        const line = { path: ctx.path(s.name), value: s.value, time: Math.floor(s.timestamp / 1000), kind: s.kind };
        if (ctx.config.host && ctx.host !== undefined) line.host = ctx.host;
        out += `${JSON.stringify(line)}\n`;
      }
      // One write per batch: resolved, the lines are in the file; thrown (a full disk), the core retries the batch later.
      await appendFile(ctx.config.file, out);
    },
  });
