// `sonde logster --config FILE -o <handler>`: a handler configured in sonde.yaml as an output.
// Not available yet: the run refuses it plainly (exit 2) instead of pretending to send.
import { LogsterUsageError, type LogsterArgs } from './logster-args.js';
import type { LogsterOutput } from './logster-outputs.js';

export async function configHandlerOutput(name: string, a: LogsterArgs): Promise<LogsterOutput> {
  throw new LogsterUsageError(
    `-o ${name} with --config ${a.config}: sending through a handler of sonde.yaml is not available in this version. Use -o graphite or -o statsd, or follow the log with the agent's logs collector.`,
  );
}
