// `sonde logster`: a drop-in replacement for a Logster crontab line. Reads the lines added since
// the last run, sends the parser's figures, and saves the position only when every output took them.
import { statSync, utimesSync } from 'node:fs';
import { findByInode } from '../logread/rotated.js';
import { LineFeeder } from '../logread/line-feeder.js';
import { LogFollower } from '../logread/follower.js';
import { LogFileError } from '../logread/open-log.js';
import { LockHeld, takeLock } from '../logread/lock.js';
import { readState, StateFileError, writeState, type LogState } from '../logread/offset-file.js';
import { LOGSTER_USAGE, LogsterUsageError, parseLogsterArgs, type LogsterArgs } from './args.js';
import { createOutput, outputProblem, type LogsterOutput } from './outputs.js';
import { parserHelp, parserOptions, resolveParser, type ResolvedParser } from './parser-choice.js';
import { RunLog, type Io } from './run-log.js';
import { stateFileNames } from './state-files.js';
import type { ConfigHandlers } from './config-handlers.js';
import type { ParsedMetric, ParserInstance } from '../plugin-api.js';
import { makeDirs } from '../files/make-dirs.js';
import { suggestion } from '../config/suggest.js';
import { parserInstanceProblem } from '../plugins/registry.js';

export const EXIT_LOGSTER_USAGE = 2;

export async function logsterMain(argv: readonly string[], io: Io): Promise<number> {
  const startMs = Date.now();
  const startSec = Math.floor(startMs / 1000);
  let a: LogsterArgs;
  let resolved: ResolvedParser;
  let parser: ParserInstance;
  let handlers: ConfigHandlers | undefined;
  try {
    const parsed = parseLogsterArgs(argv);
    if ('help' in parsed) {
      io.out(parsed.help);
      return 0;
    }
    a = parsed;
    const config = a.config;
    const loadHandlers = async (file: string): Promise<ConfigHandlers> =>
      (handlers ??= await (await import('./config-handlers.js')).loadConfigHandlers(file, (m) => new LogsterUsageError(m)));
    // The config is read for a parser only when the name is no built-in: its plugin_paths may have it.
    resolved = await resolveParser(a.parser, config ? () => loadHandlers(config) : undefined);
    if (a.parserHelp) {
      io.out(await parserHelp(resolved.def));
      return 0;
    }
    if (config) await loadHandlers(config);
    for (const o of a.outputs) {
      if (handlers?.names.has(o)) continue; // a handler section of --config, by that name
      if (o === 'cloudwatch') {
        throw new LogsterUsageError(
          'output cloudwatch is not supported by sonde. Send to Graphite or StatsD instead (-o graphite --graphite-host HOST:2003, -o statsd --statsd-host HOST:8125).',
        );
      }
      const problem = outputProblem(o, a);
      if (problem) throw new LogsterUsageError(problem);
    }
    const opts = resolved.def.schema.safeParse(parserOptions(resolved.def, a.parserOptions));
    if (!opts.success) {
      const def = resolved.def;
      const named = (key: string): string => {
        const f = def.flags?.find((x) => x.key === key);
        return f ? `${[f.short, f.long].filter(Boolean).join('/')} (${key})` : key;
      };
      throw new LogsterUsageError(`parser ${def.name}: ${opts.error.issues.map((i) => `${named(String(i.path[0] ?? ''))}${i.path.length > 1 ? `.${i.path.slice(1).join('.')}` : ''}: ${i.message}`).join('; ')}; check --parser-options`);
    }
    parser = resolved.def.create(opts.data);
    const problem = parserInstanceProblem(`parser ${resolved.def.name}`, parser);
    if (problem) throw new LogsterUsageError(problem);
  } catch (err) {
    if (err instanceof LogsterUsageError) {
      io.err(`${LOGSTER_USAGE}\n\nsonde logster: error: ${err.message}\n`);
      return EXIT_LOGSTER_USAGE;
    }
    throw err;
  }

  const log = new RunLog(a.logDir, a.debug, io);
  const { state: stateFile, lock: lockFile } = stateFileNames(a, resolved.dotted);
  log.info(`Executing parser ${resolved.dotted} on logfile ${a.logFile}`);
  log.debug(`Using state file ${stateFile}`);
  let outputs: LogsterOutput[];
  try {
    outputs = a.outputs.map((o) => makeOutput(o, a, io, log, handlers));
  } catch (err) {
    if (err instanceof LogsterUsageError) {
      io.err(`${LOGSTER_USAGE}\n\nsonde logster: error: ${err.message}\n`);
      return EXIT_LOGSTER_USAGE;
    }
    throw err;
  }
  try {
    makeDirs(a.stateDir, 0o777);
  } catch (err) {
    log.error(`cannot create the state directory ${a.stateDir}: ${(err as Error).message}. Create it or pass -s DIR.`);
    return 1;
  }
  let release: () => void;
  try {
    release = takeLock(lockFile);
  } catch (err) {
    if (err instanceof LockHeld) {
      log.warn(`${err.message}; this run does nothing (exit 1). If no sonde or logster run is active, delete the lock file.`);
      return 1;
    }
    log.error(`cannot create the lock file ${lockFile}: ${(err as Error).message}`);
    return 1;
  }
  try {
    return await runLocked(a, parser, stateFile, outputs, startSec, log);
  } catch (err) {
    log.error(`run failed: ${(err as Error).stack ?? (err as Error).message}; the saved position is unchanged, the next run reads the same lines`);
    return 1;
  } finally {
    release();
  }
}

function makeOutput(name: string, a: LogsterArgs, io: Io, log: RunLog, handlers: ConfigHandlers | undefined): LogsterOutput {
  if (handlers?.names.has(name)) return handlers.output(name, a, log);
  const logsters = ['stdout', 'graphite', 'statsd', 'ganglia', 'nsca'];
  if (logsters.includes(name)) return createOutput(name, a, (s) => io.out(s));
  if (!handlers) {
    const hint = suggestion(name, logsters);
    throw new LogsterUsageError(`unknown output ${name}${hint ? ` (${hint})` : ''}: use stdout, graphite, statsd, ganglia or nsca, or name a handler of a sonde config with --config FILE`);
  }
  return handlers.output(name, a, log);
}

async function runLocked(a: LogsterArgs, parser: ParserInstance, stateFile: string, outputs: LogsterOutput[], startSec: number, log: RunLog): Promise<number> {
  let saved: LogState | undefined;
  let mtimeSec = 0;
  try {
    saved = readState(stateFile);
    if (saved) mtimeSec = Math.floor(statSync(stateFile).mtimeMs / 1000);
  } catch (err) {
    if (!(err instanceof StateFileError)) throw err;
    log.warn(`state file ${stateFile} is damaged (${err.message}); treating this as a first run: the end of the log is recorded and nothing is parsed`);
    saved = undefined;
  }
  try {
    statSync(a.logFile);
  } catch (err) {
    // Between logrotate's rename and the writer creating the new file, the log is missing but the
    // file we were reading is there under its rotated name: read it, as logrotate intends.
    const code = (err as NodeJS.ErrnoException).code;
    const rotated = saved && code === 'ENOENT' && saved.current.ino !== 0 ? findByInode(a.logFile, saved.current.ino) : undefined;
    const draining = saved !== undefined && code === 'ENOENT' && saved.current.ino === 0 && saved.draining.length > 0;
    if (!rotated && !draining) {
      log.error(`cannot read the log file ${a.logFile}: ${code ?? (err as Error).message}. The saved position is kept; check the path in the crontab line.`);
      return 1;
    }
    log.info(
      rotated
        ? `${a.logFile} does not exist, but the file last read is now ${rotated.file} (a rotation in progress): reading it to its end; the next file at ${a.logFile} is read from its first line`
        : `${a.logFile} still does not exist; reading what the writer still appends to the rotated file`,
    );
  }
  const follower = new LogFollower(a.logFile, saved, { maxLineBytes: a.maxLineBytes, rotateWaitMs: 30_000, keepOpen: false });
  const feeder = new LineFeeder(parser);
  let res;
  try {
    res = await follower.poll(feeder, a.fromStart);
  } catch (err) {
    // Not a regular file, or not readable: a sentence (Logster's exit 1 for a log it cannot read), no stack.
    if (!(err instanceof LogFileError)) throw err;
    log.error(`${err.message}. The saved position is kept; check the log path in the crontab line.`);
    return 1;
  }
  for (const n of res.notes) log.info(n);
  for (const w of res.warnings) log.warn(w);
  const c = feeder.counts;
  if (c.tooLong > 0) log.warn(`${c.tooLong} lines longer than ${a.maxLineBytes} bytes were skipped in ${a.logFile}`);
  if (c.failed > 0) log.warn(`${c.failed} lines of ${a.logFile} could not be parsed and were skipped (first: ${c.firstError})`);
  const next = follower.state()!;
  if (res.firstRun && !a.fromStart) {
    log.info('Writing new state file and exiting. (Was either first run, or state file went missing.)');
    if (!a.dryRun) saveState(stateFile, next, startSec);
    return 0;
  }
  // A state file dated after this run's start (the clock went back) counts as a duration of 0, the
  // case every parser handles (docs/compat.md, "Logster: parsers"), as the logs collector does.
  const duration = res.firstRun ? 0 : Math.max(0, startSec - mtimeSec);
  log.debug(`Setting duration to ${duration} seconds.`);
  const metrics: ParsedMetric[] = parser.report(duration);
  let failed = 0;
  for (const o of outputs) {
    try {
      await o.submit(metrics, startSec);
    } catch (err) {
      failed++;
      log.error(`output ${o.name} did not accept the figures: ${(err as Error).message}`);
    }
  }
  if (failed > 0) {
    log.error(`${failed} of ${outputs.length} outputs failed; the saved position is unchanged, so the next run sends these lines again`);
    return 1;
  }
  if (a.dryRun) return 0;
  saveState(stateFile, next, startSec);
  log.info(`Total execution time: ${((Date.now() - startSec * 1000) / 1000).toFixed(1)} seconds.`);
  return 0;
}

/** Writes the state and sets its mtime to the run's start second, as Logster does (the duration rule). */
function saveState(file: string, s: LogState, startSec: number): void {
  writeState(file, s);
  utimesSync(file, startSec, startSec);
}
