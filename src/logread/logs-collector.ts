// The `logs` collector: follows log files (paths or globs) through the core's follower, hands
// their complete lines to a parser per entry, and at each interval emits the parser's report for
// the lines since the last one, divided by the measured time. Offsets live in the collector's
// state directory in logtail2's format, saved only after the figures they cover were emitted, so
// a restart neither reads a line twice nor skips one.
//
// It lives in the core, not in collectors/: reading, offsets and rotation are the core's job
// (DESIGN.md), and parsers stay pure.
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { globSync, isDynamicPattern } from 'tinyglobby';
import { LineFeeder } from './line-feeder.js';
import { LogFollower } from './follower.js';
import { formatState, readState, StateFileError, writeState } from './offset-file.js';
import { bytes, defineCollector, duration, z, type CollectorContext, type ParserInstance } from '../plugin-api.js';
import { closest } from '../schema/introspect.js';

/** Keys of a file entry that are the collector's; every other key is an option of its parser. */
const ENTRY_KEYS = new Set(['path', 'parser', 'name', 'from_start']);

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

type FileEntry = z.output<typeof fileEntry>;

const schema = z.object({
  files: z.array(fileEntry).default([]).describe('The logs to follow, each with its parser and metric name'),
  max_line_bytes: bytes().prefault('1MiB').describe('Lines longer than this are counted and skipped, never buffered whole'),
  rotate_wait: duration()
    .prefault('30s')
    .describe('After a rotation, the old file is still read until it has not grown for this long (a writer that reopens late)'),
});

type Config = z.output<typeof schema>;

function parserOptions(entry: FileEntry): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entry)) if (!ENTRY_KEYS.has(k)) out[k] = v;
  return out;
}

/** Names a rotated copy of another log carries: `<f>.1`, `<f>.2.gz`, `<f>-20261122`, `<f>-2026112213`. */
function rotatedBase(file: string): string | undefined {
  const plain = file.endsWith('.gz') ? file.slice(0, -3) : file;
  const m = /^(.*?)(?:\.\d+|-\d{8}(?:\d{2})?)$/.exec(plain);
  return m ? m[1] : undefined;
}

/** A state file name for a log path: readable, unique, short enough for any filesystem. */
function stateName(file: string): string {
  const enc = file.replaceAll('%', '%25').replaceAll('/', '%2F');
  if (enc.length <= 200) return `${enc}.offset`;
  return `${enc.slice(-120)}-${createHash('sha256').update(file).digest('hex').slice(0, 16)}.offset`;
}

interface Tracked {
  readonly file: string;
  readonly follower: LogFollower;
  readonly stateFile: string | undefined;
  /** With no saved position, read from the first line (a file that appeared after we looked). */
  fromStart: boolean;
  /** The state text last written, to skip writes that change nothing. */
  saved: string | undefined;
  /** Warned that it does not exist (explicit paths only), so it is said once. */
  warnedMissing: boolean;
}

interface Source {
  readonly entry: FileEntry;
  readonly name: string;
  readonly glob: boolean;
  readonly parser: ParserInstance;
  readonly feeder: LineFeeder;
  readonly files: Map<string, Tracked>;
  readonly dir: string | undefined;
  /** Monotonic ms of the last report; undefined until the first positions are recorded. */
  lastReport: number | undefined;
  /** Files were looked for once: later ones are new files. */
  scanned: boolean;
  /** Bytes read since the last report: nonzero means the parser holds figures not yet emitted. */
  pendingBytes: number;
  /** Counts at the last report, for per-interval figures. */
  reported: { parsed: number; tooLong: number; failed: number };
  /** Globbed files passed over as rotated copies, said once each. */
  readonly passedOver: Set<string>;
}

interface State {
  readonly sources: Source[];
}

function openSource(entry: FileEntry, ctx: CollectorContext<Config, undefined>): Source {
  const def = ctx.parser(entry.parser)!; // check() made sure it exists
  const parser = def.create(def.schema.parse(parserOptions(entry)));
  const name = entry.name ?? def.name;
  const dir = ctx.stateDir === undefined ? undefined : path.join(ctx.stateDir, name.replaceAll('/', '_'));
  return {
    entry,
    name,
    glob: isDynamicPattern(entry.path),
    parser,
    feeder: new LineFeeder(parser),
    files: new Map(),
    dir,
    lastReport: undefined,
    scanned: false,
    pendingBytes: 0,
    reported: { parsed: 0, tooLong: 0, failed: 0 },
    passedOver: new Set(),
  };
}

/** The files an entry names now: the path itself, or the glob's matches minus rotated copies. */
function currentFiles(src: Source, ctx: CollectorContext<Config, State>): string[] {
  if (!src.glob) return [src.entry.path];
  let matches: string[];
  try {
    matches = globSync(src.entry.path, { absolute: true, onlyFiles: true, dot: true, followSymbolicLinks: true, expandDirectories: false });
  } catch (err) {
    ctx.log.warn(`logs ${src.name}: cannot list ${src.entry.path}: ${(err as Error).message}; files already followed are still read`);
    return [...src.files.keys()];
  }
  const all = new Set(matches);
  const out: string[] = [];
  for (const f of matches.sort()) {
    const base = rotatedBase(f);
    if (f.endsWith('.gz') || (base !== undefined && all.has(base))) {
      // The live log's follower reads its rotated copies itself; following them too would count twice.
      if (!src.passedOver.has(f)) {
        src.passedOver.add(f);
        ctx.log.info(`logs ${src.name}: ${f} matches ${src.entry.path} but is a rotated or compressed copy; not followed on its own (its live log's rotations are read through the live log)`);
      }
      continue;
    }
    out.push(f);
  }
  return out;
}

function track(src: Source, file: string, fromStart: boolean, ctx: CollectorContext<Config, State>): Tracked {
  const stateFile = src.dir === undefined ? undefined : path.join(src.dir, stateName(file));
  let saved;
  let savedText: string | undefined;
  if (stateFile !== undefined) {
    try {
      saved = readState(stateFile);
      if (saved) savedText = formatState(saved);
    } catch (err) {
      if (!(err instanceof StateFileError)) throw err;
      ctx.log.warn(`logs ${src.name}: offset file ${stateFile} is damaged (${err.message}); ${file} is followed from its end, lines written while sonde was stopped are not counted`);
    }
  }
  const follower = new LogFollower(file, saved, { maxLineBytes: ctx.config.max_line_bytes, rotateWaitMs: ctx.config.rotate_wait, keepOpen: true });
  return { file, follower, stateFile, fromStart, saved: savedText, warnedMissing: false };
}

function save(src: Source, ctx: CollectorContext<Config, State>): void {
  for (const t of src.files.values()) {
    if (t.stateFile === undefined) continue;
    const s = t.follower.state();
    if (!s) continue;
    const text = formatState(s);
    if (text === t.saved) continue;
    try {
      mkdirSync(path.dirname(t.stateFile), { recursive: true, mode: 0o750 });
      writeState(t.stateFile, s);
      t.saved = text;
    } catch (err) {
      ctx.log.error(`logs ${src.name}: cannot save the offset of ${t.file} to ${t.stateFile}: ${(err as Error).message}. After a restart its lines since the last saved offset are counted again; check that state_dir is writable`);
    }
  }
}

/** Picks up new files and reads every followed one into the parser. */
async function readAll(src: Source, ctx: CollectorContext<Config, State>): Promise<void> {
  const first = !src.scanned;
  src.scanned = true;
  const now = currentFiles(src, ctx);
  const live = new Set(now);
  for (const f of now) {
    if (src.files.has(f)) continue;
    // Present at the first look: the entry's from_start. Appeared later: every line is new.
    src.files.set(f, track(src, f, first ? src.entry.from_start : true, ctx));
    if (!first) ctx.log.info(`logs ${src.name}: following ${f} (new file matching ${src.entry.path})`);
  }
  for (const t of [...src.files.values()]) {
    let r;
    try {
      r = await t.follower.poll(src.feeder, t.fromStart, Date.now());
    } catch (err) {
      ctx.log.error(`logs ${src.name}: reading ${t.file} failed: ${(err as Error).message}; tried again next interval`);
      continue;
    }
    src.pendingBytes += r.bytes;
    for (const n of r.notes) ctx.log.info(`logs ${src.name}: ${n}`);
    for (const w of r.warnings) ctx.log.warn(`logs ${src.name}: ${w}`);
    const state = t.follower.state();
    if (r.missing && state === undefined) {
      // Not there yet: when it appears, all of it is new.
      t.fromStart = true;
      if (!src.glob && !t.warnedMissing) {
        t.warnedMissing = true;
        ctx.log.warn(`logs ${src.name}: ${t.file} does not exist (yet); it is read from its first line when it appears. Check the path if it should be there`);
      }
    } else if (!r.missing) {
      t.warnedMissing = false;
    }
    if (src.glob && r.missing && !live.has(t.file) && (state === undefined || state.draining.length === 0)) {
      // Gone for good (deleted, or rotated to a name the glob does not match) and fully read.
      t.follower.close();
      src.files.delete(t.file);
      if (t.stateFile !== undefined) rmSync(t.stateFile, { force: true });
      ctx.log.info(`logs ${src.name}: ${t.file} no longer exists; stopped following it`);
    }
  }
}

/** The oldest saved offset's age, for the first report's duration after a restart. */
function savedAgeMs(src: Source): number | undefined {
  let oldest: number | undefined;
  for (const t of src.files.values()) {
    if (t.stateFile === undefined || t.saved === undefined) continue;
    try {
      const m = statSync(t.stateFile).mtimeMs;
      oldest = oldest === undefined ? m : Math.min(oldest, m);
    } catch {
      /* removed meanwhile */
    }
  }
  return oldest === undefined ? undefined : Math.max(0, Date.now() - oldest);
}

export default defineCollector({
  name: 'logs',
  description:
    "Follows log files (paths or globs) without losing a line across rotations and restarts, and emits each parser's figures per interval (Logster's parsers, regex patterns, or parser plugins).",
  path: '',
  schema,
  check(config, env) {
    const names = new Map<string, number>();
    config.files.forEach((entry, i) => {
      if (!path.isAbsolute(entry.path)) {
        env.problem(['files', i, 'path'], `must be an absolute path (sonde runs from / under systemd), got ${JSON.stringify(entry.path)}`);
      }
      const def = env.parser(entry.parser);
      if (!def) {
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
      const first = !src.scanned;
      await readAll(src, ctx);
      if (first) {
        // Continuing from saved offsets: the lines since go into this report, over the time since
        // they were saved (Logster's duration rule).
        const age = savedAgeMs(src);
        if (age !== undefined) src.lastReport = ctx.now - age;
      }
      if (ctx.signal.aborted) return; // the figures stay in the parser for the next report
      if (src.lastReport === undefined) {
        // First positions recorded: a rate needs an interval behind it.
        src.lastReport = ctx.now;
        if (src.pendingBytes === 0) save(src, ctx);
        continue;
      }
      const seconds = Math.max(0, (ctx.now - src.lastReport) / 1000);
      src.lastReport = ctx.now;
      for (const m of src.parser.report(seconds)) ctx.emit(`${src.name}.${m.name}`, m.value, m.kind ?? 'gauge');
      const c = src.feeder.counts;
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
      ctx.health(`${src.name}_files`, src.files.size);
      src.pendingBytes = 0;
      // The figures for these bytes are emitted: only now may the offsets move past them.
      save(src, ctx);
    }
  },
  close(ctx) {
    for (const src of ctx.state.sources) {
      // Offsets move only when nothing read is waiting to be reported; otherwise the saved ones
      // stay, and the next start reads those lines again (once: they were never emitted).
      if (src.pendingBytes === 0) save(src, ctx);
      for (const t of src.files.values()) t.follower.close();
    }
  },
});
