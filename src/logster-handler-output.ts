// `sonde logster --config FILE -o <handler>`: a handler configured in sonde.yaml as an output.
import type { LogsterArgs } from './logster-args.js';
import type { LogsterOutput } from './logster-outputs.js';

export async function configHandlerOutput(name: string, a: LogsterArgs, print: (s: string) => void): Promise<LogsterOutput> {
  void print;
  throw new Error(`-o ${name} with --config ${a.config}: not built yet`);
}
