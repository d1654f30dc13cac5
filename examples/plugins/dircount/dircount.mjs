// dircount: an example sonde collector. It counts the files in a directory (a spool, a queue, an
// upload folder) and their bytes: a backlog that grows is something to graph and alert on.
// Try it: sonde collect ./dircount.mjs --config sonde.yaml   (with a "collectors: { dircount: { dir: ... } }" section)
// Test it: sonde test .
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** @param {import('sonde/plugin').Api} api */
export default (api) =>
  api.defineCollector({
    name: 'dircount',
    description: 'Files in a directory and their total size (a spool or queue backlog)',
    schema: api.z.object({
      dir: api.z.string().min(1).default('/var/spool').describe('The directory whose files are counted'),
      hidden: api.z.boolean().default(false).describe('Count files whose name starts with a dot too'),
    }),
    async collect(ctx) {
      let entries;
      try {
        entries = await readdir(ctx.config.dir, { withFileTypes: true });
      } catch (err) {
        // Thrown, the run counts as failed and sonde logs why; nothing is emitted, so a graph shows a gap, not a false 0.
        throw new Error(`cannot list ${ctx.config.dir}: ${err.code ?? err.message}; check the dir option and that sonde's user may read it`);
      }
      let files = 0;
      let bytes = 0;
      let subdirs = 0;
      for (const e of entries) {
        if (ctx.signal.aborted) return;
        if (!ctx.config.hidden && e.name.startsWith('.')) continue;
        if (e.isDirectory()) subdirs++;
        else if (e.isFile()) {
          // A file removed between readdir and stat (a queue being worked) is simply not counted.
          const st = await stat(path.join(ctx.config.dir, e.name)).catch(() => undefined);
          if (st === undefined) continue;
          files++;
          bytes += st.size;
        }
      }
      ctx.emit('files', files);
      ctx.emit('bytes', bytes);
      ctx.emit('subdirs', subdirs);
    },
  });
