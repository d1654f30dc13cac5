// Entry point of dist/sonde.mjs, the file `bin/sonde` and the .deb run. It only picks a bundle:
// `sonde logster`, which cron starts every few minutes, loads dist/sonde-logster.mjs (the log
// reader, the parsers and Logster's outputs: about a fifth of the agent's code), everything else
// loads dist/sonde-agent.mjs. Compiling the whole agent was ~50 ms of every cron run.

interface Bundle {
  run(argv: readonly string[]): Promise<number>;
}

// A reader that goes away (`sonde once | head`) must not crash sonde with an unhandled EPIPE:
// the write's own callback reports it, so the stdout handler counts it as a failed send.
process.stdout.on('error', () => undefined);

const argv = process.argv.slice(2);
const logster = argv[0] === 'logster';
const url = new URL(logster ? './sonde-logster.mjs' : './sonde-agent.mjs', import.meta.url).href;

(import(url) as Promise<Bundle>)
  .then((bundle) => bundle.run(logster ? argv.slice(1) : argv))
  .then(
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
