// `sonde watch LOG --parser NAME [--every 5s]`: a live preview of a parser's figures on a growing
// log, for someone writing a pattern or checking a parser against a real log. Every --every it
// prints what the lines added meanwhile gave: in place on a terminal, as repeated blocks when the
// output is a file or a pipe. The file is followed with the `tail` package: a line lost across a
// rotation is harmless in a preview. The agent's own follower (src/logread/), which never loses
// one, is not used here: it keeps offsets and reads rotated files, which a preview need not.
import { accessSync, constants, statSync } from 'node:fs';
import { load as parseYaml } from 'js-yaml';
import { Tail } from 'tail';
import { parseDuration } from '../model/duration.js';
import { formatValue } from '../model/value-format.js';
import type { ParsedMetric, ParserDefinition, ParserInstance } from '../plugin-api.js';
import { parserOptions, resolveParser } from '../logster/parser-choice.js';
import { LogsterUsageError } from '../logster/args.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.js';

export interface WatchArgs {
  readonly file: string;
  readonly parser: string | undefined;
  readonly every: string;
  /** --pattern: a regular expression, or a pattern mapping in YAML flow style (regex parser). */
  readonly patterns: readonly string[];
  readonly parserOptions: string | undefined;
  readonly fromStart: boolean;
}

export interface WatchIo {
  out(s: string): void;
  err(s: string): void;
  /** Redraw in place (a terminal) rather than print block after block. */
  readonly tty: boolean;
}

class WatchUsageError extends Error {}

/** Shortest ms that makes sense between two looks: a person reads the figures. */
const MIN_EVERY_MS = 200;
const MAX_EVERY_MS = 3_600_000;

/**
 * A bare regular expression given to --pattern: every matching line counts, under a name made of
 * its named captures (`status=(?<status>\d+)` counts `status_200`, `status_404`, ...), or
 * `matched` when it has none.
 */
export function patternFromRegex(source: string): Record<string, unknown> {
  const names = [...source.matchAll(/\(\?<([A-Za-z_$][\w$]*)>/g)].map((m) => m[1]!);
  return { match: source, counter: names.length === 0 ? 'matched' : names.map((n) => `${n}_{${n}}`).join('.') };
}

function patternArg(text: string): unknown {
  if (!text.trimStart().startsWith('{')) return patternFromRegex(text);
  try {
    return parseYaml(text);
  } catch (err) {
    throw new WatchUsageError(`--pattern ${JSON.stringify(text)} starts with { but is not a YAML mapping (${(err as Error).message.split('\n')[0]}); write a mapping such as "{match: 'time=(?<ms>\\d+)', timer: {name: latency, value: ms}}" (the regular expression in single quotes, where YAML keeps a backslash as it is), or a bare regular expression`);
  }
}

async function makeParser(a: WatchArgs): Promise<{ def: ParserDefinition; parser: ParserInstance }> {
  const name = a.parser ?? (a.patterns.length > 0 ? 'regex' : undefined);
  if (name === undefined) throw new WatchUsageError('name the parser: --parser NAME (a built-in such as postfix, regex with --pattern, or a .js/.mjs parser plugin; "sonde list" shows the built-ins)');
  let def: ParserDefinition;
  try {
    def = (await resolveParser(name)).def;
  } catch (err) {
    if (err instanceof LogsterUsageError) throw new WatchUsageError(err.message);
    throw err;
  }
  let options: Record<string, unknown>;
  if (def.name === 'regex') {
    if (a.patterns.length === 0) throw new WatchUsageError('the regex parser needs at least one --pattern (a regular expression with named captures, e.g. --pattern \'status=(?<status>\\d{3})\')');
    if (a.parserOptions !== undefined) throw new WatchUsageError('the regex parser takes --pattern, not --parser-options');
    options = { patterns: a.patterns.map(patternArg) };
  } else {
    if (a.patterns.length > 0) throw new WatchUsageError(`--pattern is for the regex parser; ${def.name} takes its options from --parser-options`);
    try {
      options = parserOptions(def, a.parserOptions);
    } catch (err) {
      if (err instanceof LogsterUsageError) throw new WatchUsageError(err.message);
      throw err;
    }
  }
  const parsed = def.schema.safeParse(options);
  if (!parsed.success) {
    throw new WatchUsageError(`parser ${def.name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('; ')}`);
  }
  return { def, parser: def.create(parsed.data) };
}

const clock = (ms: number): string => new Date(ms).toTimeString().slice(0, 8);

/** One block: a heading, then `name value` lines, the names aligned. */
export function formatBlock(heading: string, metrics: readonly ParsedMetric[], notes: readonly string[]): string {
  const width = Math.max(0, ...metrics.map((m) => m.name.length));
  let s = `${heading}\n`;
  for (const m of metrics) s += `  ${m.name.padEnd(width)}  ${Number.isFinite(m.value) ? formatValue(m.value, undefined) : String(m.value)}\n`;
  if (metrics.length === 0) s += '  (no figures)\n';
  for (const n of notes) s += `  ${n}\n`;
  return s;
}

/** Runs until SIGINT or SIGTERM (exit 0); a problem with the command line or the file exits before. */
export async function watchMain(a: WatchArgs, io: WatchIo): Promise<number> {
  const usage = (msg: string): number => {
    io.err(`sonde watch: ${msg}\nRun "sonde watch --help" for its options.\n`);
    return EXIT_USAGE;
  };
  const everyMs = parseDuration(a.every);
  if (everyMs === undefined || everyMs < MIN_EVERY_MS || everyMs > MAX_EVERY_MS) {
    return usage(`--every ${JSON.stringify(a.every)} is not a duration from ${MIN_EVERY_MS}ms to 1h (such as 2s, 5s or 1m)`);
  }
  let made: { def: ParserDefinition; parser: ParserInstance };
  try {
    made = await makeParser(a);
  } catch (err) {
    if (err instanceof WatchUsageError) return usage(err.message);
    throw err;
  }
  try {
    accessSync(a.file, constants.R_OK);
    if (statSync(a.file).isDirectory()) throw Object.assign(new Error('it is a directory'), { code: 'EISDIR' });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'does not exist (yet): start sonde watch once it does' : e.code === 'EISDIR' ? 'is a directory, not a log file' : e.code === 'EACCES' ? `cannot be read by this user (permission denied); on Debian, logs in /var/log are readable by group adm` : e.message;
    io.err(`sonde watch: ${a.file} ${why}\n`);
    return EXIT_FAILURE;
  }

  const { def, parser } = made;
  let lines = 0;
  let thrown = 0;
  let firstThrow = '';
  let tailError = '';
  const onLine = (line: string): void => {
    lines++;
    try {
      parser.parseLine(line);
    } catch (err) {
      if (thrown++ === 0) firstThrow = (err as Error).message;
    }
  };
  // The file followed now, by inode. tail's own handling of a rename (re-watching the name a second
  // later, from the old file's offset) would skip the start of the new file, or stop for good when
  // it is not there yet: sonde watch looks at the name itself at every block instead.
  // `dead` once tail gave up on its file (renamed or removed): a file made again by the name may
  // have the same inode number, and must still be followed anew.
  let followed: { tail: Tail; ino: number; dead: boolean } | undefined;
  const follow = (fromBeginning: boolean): string | undefined => {
    let ino: number;
    try {
      ino = statSync(a.file).ino;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone (removed, or rotated and not made again yet); waiting for it' : (err as Error).message;
    }
    if (followed?.ino === ino && !followed.dead) return undefined;
    const replaced = followed !== undefined;
    followed?.tail.unwatch();
    followed = undefined;
    try {
      const tail = new Tail(a.file, { fromBeginning, follow: false });
      const f = { tail, ino, dead: false };
      tail.on('line', onLine);
      tail.on('error', (err: unknown) => {
        tailError = err instanceof Error ? err.message : String(err);
        f.dead = true;
      });
      followed = f;
    } catch (err) {
      return (err as Error).message;
    }
    return replaced ? 'a new file by that name (rotated): following it from its first line' : undefined;
  };
  const first = follow(a.fromStart);
  if (followed === undefined) {
    io.err(`sonde watch: cannot follow ${a.file}: ${first}\n`);
    return EXIT_FAILURE;
  }

  const title = `sonde watch ${a.file} (${def.name})`;
  if (io.tty) io.out('\x1b[?25l'); // no cursor blinking over the figures
  else io.out(`${title}: figures every ${formatEvery(everyMs)} from the lines added meanwhile${a.fromStart ? ' (the first block also has the lines already there)' : ''}. Ctrl-C stops.\n`);
  let last = Date.now();
  const show = (): void => {
    const now = Date.now();
    const seconds = (now - last) / 1000;
    last = now;
    let metrics: ParsedMetric[];
    const notes: string[] = [];
    try {
      metrics = parser.report(seconds);
    } catch (err) {
      metrics = [];
      notes.push(`the parser's report failed: ${(err as Error).message}`);
    }
    if (thrown > 0) notes.push(`${thrown} line(s) the parser threw on, the first: ${firstThrow}`);
    // Rotated, removed or back: a new file by the name is read whole (the old one's last lines may be missed).
    const moved = follow(true);
    if (moved) notes.push(`${a.file}: ${moved}`);
    else if (tailError) notes.push(`following the file: ${tailError}`);
    const heading = `--- ${clock(now)}  ${lines} line(s) in ${seconds.toFixed(1)} s`;
    lines = 0;
    thrown = 0;
    tailError = '';
    const block = formatBlock(heading, metrics, notes);
    // On a terminal: home, the block, and clear what a longer previous block left below it.
    io.out(io.tty ? `\x1b[H\x1b[2J${title}  (every ${formatEvery(everyMs)}; Ctrl-C stops)\n${block}` : block);
  };
  const timer = setInterval(show, everyMs);
  return new Promise<number>((resolve) => {
    const stop = (): void => {
      clearInterval(timer);
      followed?.tail.unwatch();
      if (io.tty) io.out('\x1b[?25h\n');
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(EXIT_OK);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function formatEvery(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
