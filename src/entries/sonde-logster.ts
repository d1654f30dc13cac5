// Entry point of dist/sonde-logster.cjs: `sonde logster` alone, so a cron run loads and compiles
// only what Logster's command needs (see sonde.ts).
import { runOneShot } from '../logging/stray-errors.js';
import { setModuleImporter } from '../plugins/esm-import.js';
import { logsterMain } from '../logster/run.js';

/** `importModule` loads parser plugin files (this bundle has no import() of its own). */
export function run(argv: readonly string[], importModule: (url: string) => Promise<unknown>): Promise<number> {
  setModuleImporter(importModule);
  // A stray error (a parser plugin's timer, say) is one sentence for cron's mail, not a stack.
  return runOneShot('sonde logster', (line) => void process.stderr.write(`${line}\n`), [], () =>
    logsterMain(argv, { out: (s) => void process.stdout.write(s), err: (s) => void process.stderr.write(s) }),
  );
}
