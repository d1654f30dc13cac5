// The `logs` collector: follows log files (paths or globs) through `ctx.logs`, hands their complete
// lines to a parser per entry, and at each interval emits the parser's report for the lines since
// the last one, divided by the measured time. The core keeps the offsets in the collector's state
// dir and saves them only when told to, after the figures they cover were emitted, so a restart
// neither reads a line twice nor skips one.
import { bytes, closest, defineCollector, duration, z, type CollectorContext, type FollowedLogs, type ParserInstance } from '../src/plugin-api.js';

/** Keys of a file entry that are the collector's; every other key is an option of its parser. */
const ENTRY_KEYS = new Set(['path', 'parser', 'name', 'from_start']);

/** The collector's schema: built when a config has a logs section (see SchemaSource). */
function configSchema() {
  const fileEntry = z.looseObject({
    path: z.string().min(1).describe('An absolute path, or a glob such as `/var/log/app/*.log`: files that start matching later are picked up and read from their first line'),
    parser: z
      .string()
      .min(1)
      .describe('A built-in parser (postfix, apache, squid, log4j, errorlog, metric, json, regex), a Logster name such as PostfixLogster, or a parser plugin; its options go beside it (e.g. `patterns` for regex)'),
    name: z.string().min(1).optional().describe("Metric path of this entry's figures below the host (`servers.<host>.<name>.numSent`); defaults to the parser's name"),
    from_start: z
      .boolean()
      .default(false)
      .describe('Read files that already exist when sonde first sees them, with no saved offset, from their first line. Default: from their end, as Logster\'s first run'),
  });

  return z.object({
    files: z.array(fileEntry).default([]).describe('The logs to follow, each with its parser and metric name'),
    max_line_bytes: bytes({ min: '64B', max: '64MiB' }).prefault('1MiB').describe('Lines longer than this are counted and skipped, never buffered whole'),
    rotate_wait: duration({ max: '1d' })
      .prefault('30s')
      .describe('After a rotation, the old file is still read until it has not grown for this long (a writer that reopens late)'),
  });
}

type Config = z.output<ReturnType<typeof configSchema>>;
type FileEntry = Config['files'][number];

function parserOptions(entry: FileEntry): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entry)) if (!ENTRY_KEYS.has(k)) out[k] = v;
  return out;
}

interface Source {
  readonly name: string;
  readonly parser: ParserInstance;
  readonly logs: FollowedLogs;
  /** Monotonic ms of the last report; undefined until the first positions are recorded. */
  lastReport: number | undefined;
  /** Read once: the first read's saved offsets set the first report's duration. */
  started: boolean;
  /** Bytes read since the last report: nonzero means the parser holds figures not yet emitted. */
  pendingBytes: number;
  /** Counts at the last report, for per-interval figures. */
  reported: { parsed: number; tooLong: number; failed: number };
}

interface State {
  readonly sources: Source[];
}

function openSource(entry: FileEntry, ctx: CollectorContext<Config, undefined>): Source {
  const def = ctx.parser(entry.parser)!; // check() made sure it exists
  const parser = def.create(def.schema.parse(parserOptions(entry)));
  const name = entry.name ?? def.name;
  const logs = ctx.logs.follow({ path: entry.path, parser, fromStart: entry.from_start, maxLineBytes: ctx.config.max_line_bytes, rotateWait: ctx.config.rotate_wait, name });
  return { name, parser, logs, lastReport: undefined, started: false, pendingBytes: 0, reported: { parsed: 0, tooLong: 0, failed: 0 } };
}

/** Emits the parser's figures for the lines since the last report, and the entry's own health. */
function report(src: Source, ctx: CollectorContext<Config, State>, lastReport: number): void {
  // 0 when the saved offsets are dated in the future (the clock went back): each parser then keeps
  // every figure, as for a `sonde logster` run in the same second as the last (docs/compat.md).
  const seconds = Math.max(0, (ctx.now - lastReport) / 1000);
  for (const m of src.parser.report(seconds)) {
    // A name with nothing but dots (a JSON key "") would otherwise be the entry's own path.
    const leaf = /[^.]/.test(m.name) ? m.name : '_';
    ctx.emit(`${src.name}.${leaf}`, m.value, m.kind ?? 'gauge');
  }
  const c = src.logs.counts;
  const lines = c.parsed - src.reported.parsed;
  const tooLong = c.tooLong - src.reported.tooLong;
  const failed = c.failed - src.reported.failed;
  src.reported = { parsed: c.parsed, tooLong: c.tooLong, failed: c.failed };
  if (tooLong > 0) ctx.log.warn(`logs ${src.name}: skipped ${tooLong} lines longer than max_line_bytes (${ctx.config.max_line_bytes} bytes)`);
  if (failed > 0) ctx.log.warn(`logs ${src.name}: the parser failed on ${failed} lines, skipped (first error: ${c.firstError})`);
  ctx.health(`${src.name}_lines`, lines);
  ctx.health(`${src.name}_bytes`, src.pendingBytes);
  ctx.health(`${src.name}_long_lines`, tooLong);
  ctx.health(`${src.name}_failed_lines`, failed);
  ctx.health(`${src.name}_files`, src.logs.fileCount);
}

export default defineCollector({
  name: 'logs',
  description:
    "Follows log files (paths or globs) without losing a line across rotations and restarts, and emits each parser's figures per interval (Logster's parsers, regex patterns, or parser plugins).",
  path: '',
  schema: configSchema,
  check(config, env) {
    const names = new Map<string, number>();
    config.files.forEach((entry, i) => {
      // sonde runs on Linux only: an absolute path starts with `/`.
      if (!entry.path.startsWith('/')) {
        env.problem(['files', i, 'path'], `must be an absolute path (sonde runs from / under systemd), got ${JSON.stringify(entry.path)}`);
      }
      const def = env.parser(entry.parser);
      if (!def) {
        const failed = env.failedPlugin?.('parser', entry.parser);
        if (failed) {
          env.problem(['files', i, 'parser'], `${failed}; fix that file, or name another parser`);
          return;
        }
        const hint = closest(entry.parser, env.parserNames);
        env.problem(['files', i, 'parser'], `no parser named "${entry.parser}"${hint ? `; did you mean "${hint}"?` : ''} (available: ${env.parserNames.join(', ')}; parser plugins from plugin_paths count too)`);
        return;
      }
      env.validate(z.strictObject(def.schema.shape), parserOptions(entry), ['files', i]);
      const name = entry.name ?? def.name;
      const before = names.get(name);
      if (before !== undefined) {
        env.problem(['files', i, entry.name === undefined ? 'parser' : 'name'], `files ${before} and ${i} would both write ${name}.*; give one of them a different name: (one entry may name a glob to sum several files)`);
      } else {
        names.set(name, i);
      }
    });
  },
  init(ctx): State {
    if (ctx.config.files.length === 0) ctx.log.warn('logs: no files configured; add entries under collectors.logs.files');
    return { sources: ctx.config.files.map((e) => openSource(e, ctx)) };
  },
  async collect(ctx) {
    for (const src of ctx.state.sources) {
      src.pendingBytes += await src.logs.read();
      if (!src.started) {
        src.started = true;
        // Continuing from saved offsets: the lines since go into this report, over the time since
        // they were saved (Logster's duration rule).
        const age = src.logs.savedAgeMs();
        if (age !== undefined) src.lastReport = ctx.now - age;
      }
      if (ctx.signal.aborted) return; // the figures stay in the parser for the next report
      const last = src.lastReport;
      src.lastReport = ctx.now;
      if (last === undefined) {
        // First positions recorded: a rate needs an interval behind it.
        if (src.pendingBytes === 0) src.logs.commit();
        continue;
      }
      report(src, ctx, last);
      src.pendingBytes = 0;
      // The figures for these bytes are emitted: only now may the offsets move past them.
      src.logs.commit();
    }
  },
  close(ctx) {
    for (const src of ctx.state.sources) {
      // Offsets move only when nothing read is waiting to be reported; otherwise the saved ones
      // stay, and the next start reads those lines again (once: they were never emitted).
      if (src.pendingBytes === 0) src.logs.commit();
      src.logs.close();
    }
  },
});
