// Entry point of dist/sonde-agent.mjs: every command but `sonde logster` (see src/entry.ts).
import { main } from './cli.js';

export function run(argv: readonly string[]): Promise<number> {
  return main(argv);
}
