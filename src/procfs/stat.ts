// /proc/stat: the time each CPU spent per state (its `cpu` and `cpuN` lines).

/** The states /proc/stat lists, in its column order; older kernels show fewer. */
export const CPU_FIELDS = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal', 'guest', 'guest_nice'] as const;

export interface ProcStat {
  /** The aggregate `cpu` line: jiffies per state; empty when the file has none. */
  readonly total: readonly number[];
  /** `cpu0`, `cpu1`, ...: jiffies per state, in file order. Its size is the number of online CPUs. */
  readonly cpus: ReadonlyMap<string, readonly number[]>;
}

/** `cpu` followed by digits only (`cpu0`, `cpu12`): text[from, to). */
function isCpuN(text: string, from: number, to: number): boolean {
  if (to - from < 4) return false;
  for (let i = from + 3; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

const isBlank = (c: number): boolean => c === 32 || c === 9 || c === 13;

/**
 * The values after the label on the line text[from, to), at most CPU_FIELDS.length; undefined
 * when one is not a number. Scans for blanks instead of splitting, so only the numbers are new.
 */
function lineValues(text: string, from: number, to: number): number[] | undefined {
  const values: number[] = [];
  let i = from;
  while (i < to && values.length < CPU_FIELDS.length) {
    while (i < to && isBlank(text.charCodeAt(i))) i++;
    if (i === to) break;
    const start = i;
    while (i < to && !isBlank(text.charCodeAt(i))) i++;
    const v = Number(text.slice(start, i));
    if (!Number.isFinite(v)) return undefined;
    values.push(v);
  }
  return values;
}

/** Parses /proc/stat's cpu lines; a line with a value that is not a number is left out. */
export function parseStat(text: string): ProcStat {
  let total: number[] = [];
  const cpus = new Map<string, number[]>();
  let seen = false;
  let at = 0;
  while (at < text.length) {
    let nl = text.indexOf('\n', at);
    if (nl < 0) nl = text.length;
    if (text.startsWith('cpu', at)) {
      seen = true;
      let labelEnd = at + 3;
      while (labelEnd < nl && !isBlank(text.charCodeAt(labelEnd))) labelEnd++;
      const values = lineValues(text, labelEnd, nl);
      if (values !== undefined) {
        if (labelEnd === at + 3) total = values;
        else if (isCpuN(text, at, labelEnd)) cpus.set(text.slice(at, labelEnd), values);
      }
    } else if (seen) {
      // The kernel prints the cpu lines first: what follows (intr is thousands of numbers on a
      // large host) is not worth scanning.
      break;
    }
    at = nl + 1;
  }
  return { total, cpus };
}
