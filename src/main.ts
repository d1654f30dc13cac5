// Entry point of dist/sonde.mjs.
import { main } from './cli.js';

// A reader that goes away (`sonde once | head`) must not crash sonde with an unhandled EPIPE:
// the write's own callback reports it, so the stdout handler counts it as a failed send.
process.stdout.on('error', () => undefined);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Give stdout a chance to drain before a forced exit (pipes are asynchronous).
    if (process.stdout.writableLength === 0) process.exit(code);
    else process.stdout.once('drain', () => process.exit(code));
  },
  (err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    process.stderr.write(`sonde: unexpected error: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
