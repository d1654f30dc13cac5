// Whether a pid written to a file (pidfile, lock file) still names the process that wrote it.
import { readFileSync } from 'node:fs';

/**
 * True when `pid` is a live process (EPERM counts: it exists, owned by someone else) and, when
 * `writtenAtMs` is given, started no later than the file naming it was written: a process that
 * started afterwards got a reused pid and is not the owner. Without /proc the pid is trusted.
 */
export function processAlive(pid: number, writtenAtMs?: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (writtenAtMs === undefined) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTicks = Number(fields[19]);
    const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const startedMs = Date.now() - (uptime - startTicks / 100) * 1000;
    // 2 s of slack for clock-tick rounding.
    return startedMs <= writtenAtMs + 2000;
  } catch {
    return true;
  }
}
