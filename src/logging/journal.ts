// Log lines for journald. systemd connects a service's stdout/stderr to the journal and says so in
// $JOURNAL_STREAM ("<device>:<inode>" of that stream). There, a line that starts with "<N>" gets
// syslog priority N (SyslogLevelPrefix=, on by default), so `journalctl -p warning -u sonde`
// works; the journal stamps time, pid and host itself, so the line carries the message and its
// fields as key=value. Anywhere else sonde keeps writing JSON lines.
import { fstatSync, writeSync } from 'node:fs';

/** True when `fd` is the stream $JOURNAL_STREAM names (a pipe to a shell or a file is not). */
export function isJournalStream(fd: number, env: NodeJS.ProcessEnv = process.env): boolean {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (!m) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return st.dev === BigInt(m[1]!) && st.ino === BigInt(m[2]!);
  } catch {
    return false;
  }
}

/** pino's numeric levels to syslog priorities (trace and debug: 7, info 6, warn 4, error 3, fatal 2). */
function priority(level: number): number {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

/** What the journal already records for each entry. */
const DROPPED = new Set(['level', 'time', 'pid', 'hostname', 'msg']);

/** A field as key=value text: lists of plain values joined by commas, other objects as JSON; quoted when it holds spaces. */
function fieldValue(v: unknown): string {
  const plain = (x: unknown) => x === null || typeof x !== 'object';
  const s = typeof v === 'string' ? v : Array.isArray(v) && v.every(plain) ? v.join(',') : (JSON.stringify(v) ?? String(v));
  return s !== '' && !/[\s"]/.test(s) ? s : JSON.stringify(s);
}

/** One pino JSON line as a journal line: `<6>message key=value ...`. A line that is not JSON passes as it is. */
export function journalLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  let line = `<${priority(typeof entry.level === 'number' ? entry.level : 30)}>${typeof entry.msg === 'string' ? entry.msg : ''}`;
  for (const [k, v] of Object.entries(entry)) {
    if (DROPPED.has(k) || v === undefined) continue;
    line += ` ${k}=${fieldValue(v)}`;
  }
  // A message with a newline would be split into entries of the wrong priority.
  return `${line.replace(/\r?\n/g, ' ')}\n`;
}

/** A pino destination that writes journal lines to `fd`, synchronously (nothing is lost on exit). */
export function journalDestination(fd: number): { write(chunk: string): boolean } {
  return {
    write(chunk: string): boolean {
      for (const json of chunk.split('\n')) if (json !== '') writeSync(fd, journalLine(json));
      return true;
    },
  };
}

/** Plain text for the journal: every line gets syslog priority `pri` (3 = error). */
export function withPriority(text: string, pri: number): string {
  return text.replace(/^(?=.)/gm, `<${pri}>`);
}
