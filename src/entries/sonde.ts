// Entry point of dist/sonde.cjs, the file `bin/sonde.cjs` runs (and /usr/bin/sonde links to). It only picks a bundle:
// `sonde logster`, which cron starts every few minutes, runs dist/sonde-logster.cjs (the log
// reader, the parsers and Logster's outputs: about a fifth of the agent's code), everything else
// runs dist/sonde-agent.cjs. Compiling the whole agent was ~50 ms of every cron run. Both run from
// V8's code cache made at build time (dist/<bundle>.cache); `sonde run` imports the same agent
// built as an ES module (see runAgent).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type v8 from 'node:v8';
import vm from 'node:vm';

interface Bundle {
  run(argv: readonly string[], importModule: (url: string) => Promise<unknown>): Promise<number>;
}

/**
 * Runs a CommonJS bundle with V8's code cache made at build time (dist/<name>.cache): the compiled
 * functions of a representative run are reused instead of being compiled again on every start.
 * V8 rejects a cache made by another node version or with other V8 flags; the bundle is then
 * compiled as usual, only slower. With SONDE_WRITE_CODE_CACHE=1 (the build does this) the cache
 * is written after the run, so it holds what the run compiled.
 */
function runCached(file: string, argv: readonly string[]): Promise<number> {
  const cacheFile = file.replace(/\.cjs$/, '.cache');
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // No cache (a development build): compiled as usual.
  }
  // Read as latin1: the build writes these bundles in ASCII only (esbuild escapes the rest, and
  // scripts/bundle.mjs refuses a bundle that is not), for which latin1 gives the same text without
  // UTF-8 decoding (~1 ms of 1.2 MB).
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'latin1')}\n})`, {
    filename: file,
    cachedData,
  });
  const module = { exports: {} as Bundle };
  (script.runInThisContext() as (...a: unknown[]) => void)(module.exports, createRequire(file), module, file, path.dirname(file));
  // import() inside a script made from a code cache has no loader on node 20; the bundle has none
  // (the build turns them into require) and imports plugin files with this one.
  const done = module.exports.run(argv, (url) => import(url));
  if (process.env.SONDE_WRITE_CODE_CACHE !== '1') return done;
  return done.then((code) => {
    writeFileSync(cacheFile, script.createCachedData());
    return code;
  });
}

// A reader that goes away (`sonde once | head`) must not crash sonde with an unhandled EPIPE:
// the write's own callback reports it, so the stdout handler counts it as a failed send.
process.stdout.on('error', () => undefined);

const argv = process.argv.slice(2);

/**
 * V8 settings for the long-running agent, unless the operator chose their own (node options or
 * NODE_OPTIONS): every second it reads a few /proc files, work that V8's optimizing compiler
 * (TurboFan) makes no faster but whose code and compiler memory stay resident (~4 MB), and a
 * young generation that grew during start-up stays large (~2 MB). Both apply from here on.
 * TurboFan makes parsing a large log backlog about a third faster; `node --max-opt=3 sonde.cjs run`
 * keeps it (node refuses --max-opt in NODE_OPTIONS; the check below reads both anyway).
 */
const AGENT_V8_FLAGS: Record<string, string> = {
  'max-opt': '--max-opt=1',
  'semi-space-growth-factor': '--semi-space-growth-factor=1',
  // The old generation grows 2 MB past what a full GC left, not 8: ~6 MB less with ten MySQL
  // instances, same CPU. A pattern, so that `--no-optimize-for-size` is a choice too.
  '(?:no-)?optimize-for-size': '--optimize-for-size',
};
if (argv[0] === 'run') {
  // Required here, not imported: node:v8 (with its heap utilities) is about 3 ms of a cron run.
  const { setFlagsFromString } = createRequire(import.meta.url)('node:v8') as typeof v8;
  const chosen = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`;
  for (const [name, flag] of Object.entries(AGENT_V8_FLAGS)) {
    if (!new RegExp(`--${name}\\b|--${name.replaceAll('-', '_')}\\b`).test(chosen)) setFlagsFromString(flag);
  }
}
const dist = path.dirname(fileURLToPath(import.meta.url));

declare const SONDE_VERSION: string | undefined;

/**
 * `sonde --version` alone is answered here, as the agent's command line would answer it, without
 * loading the agent: a package's post-install script or a configuration-management run that asks
 * for the version gets it in the time node itself takes to start.
 */
function versionOnly(args: readonly string[]): boolean {
  if (args.length !== 1 || args[0] !== '--version' || typeof SONDE_VERSION !== 'string') return false;
  process.stdout.write(`${SONDE_VERSION}\n`);
  return true;
}


/**
 * `sonde run` imports the same agent built as an ES module, dist/sonde-agent.mjs, without a cache:
 * V8 would reject one anyway (the flags above differ from the build's), a long-running agent
 * would only keep the start-up code it holds resident, and loaded as CommonJS the agent holds
 * about 2 MB more for as long as it runs.
 */
function runAgent(argv: readonly string[]): Promise<number> {
  return (import(new URL('./sonde-agent.mjs', import.meta.url).href) as Promise<Bundle>).then((b) => b.run(argv, (url) => import(url)));
}

function main(args: readonly string[]): Promise<number> {
  if (args[0] === 'logster') return runCached(path.join(dist, 'sonde-logster.cjs'), args.slice(1));
  if (args[0] === 'run') return runAgent(args);
  return runCached(path.join(dist, 'sonde-agent.cjs'), args);
}

if (!versionOnly(argv)) {
  main(argv).then(
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
}
