// Where /proc is missing (macOS, BSD), the system collectors read through systeminformation
// instead. It is imported only then: on Linux its calls spawn processes and sum devices together,
// which is why /proc is read directly there (and the bundle keeps it in a file of its own).
import type { FileReader, Source, SystemFallback } from '../plugin-api.js';

type Si = typeof import('systeminformation');
let si: Promise<Si> | undefined;
const systeminformation = (): Promise<Si> => (si ??= import('systeminformation'));

/** The fallback a collector's context offers; `proc` is the reader `auto` probes. */
export function systemFallback(proc: FileReader): SystemFallback {
  return {
    systeminformation,
    async use(source: Source, probe: string): Promise<boolean> {
      if (source === 'systeminformation') return true;
      if (source === 'proc') return false;
      // On Linux, auto means /proc: no probe, no second read of the file every run.
      if (process.platform === 'linux') return false;
      try {
        await proc.read(probe);
        return false;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        return code === 'ENOENT' || code === 'ENOTDIR';
      }
    },
  };
}
