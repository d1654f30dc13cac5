// Entry point of dist/sonde-agent.mjs: every command but `sonde logster` (see sonde.ts).
import { main } from '../cli/commands.js';

export function run(argv: readonly string[]): Promise<number> {
  return main(argv);
}
