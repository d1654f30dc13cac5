// Entry point of dist/sonde-logster.mjs: `sonde logster` alone, so a cron run loads and compiles
// only what Logster's command needs (see src/entry.ts).
import { logsterMain } from './logster.js';

export function run(argv: readonly string[]): Promise<number> {
  return logsterMain(argv, { out: (s) => void process.stdout.write(s), err: (s) => void process.stderr.write(s) });
}
