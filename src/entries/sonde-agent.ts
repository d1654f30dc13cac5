// Entry point of dist/sonde-agent.cjs: every command but `sonde logster` (see sonde.ts).
import { main } from '../cli/commands.js';
import { setModuleImporter } from '../plugins/esm-import.js';

/** `importModule` loads plugin files (this bundle has no import() of its own: see sonde.ts). */
export function run(argv: readonly string[], importModule: (url: string) => Promise<unknown>): Promise<number> {
  setModuleImporter(importModule);
  return main(argv);
}
