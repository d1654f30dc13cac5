// Where a run keeps its position and its lock: Logster's file names, so a crontab line switched
// from logster to sonde logster carries on from the position Logster saved.
import path from 'node:path';
import type { LogsterArgs } from './args.js';

/** Logster's file names: `<state-dir>/<tailer>-<parser>-<log with / as ->.state` and `.lock`. */
export function stateFileNames(a: Pick<LogsterArgs, 'stateDir' | 'tailer' | 'logFile'>, dottedParser: string): { state: string; lock: string } {
  const safe = a.logFile.split(path.sep).join('-');
  const base = path.join(a.stateDir, `${a.tailer}-${dottedParser}${safe}`);
  return { state: `${base}.state`, lock: `${base}.lock` };
}
