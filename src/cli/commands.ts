// The command line: sonde run | once | collect | logster | info | check-config | list.
import yargs from 'yargs';
import { existsSync } from 'node:fs';
import { DEFAULT_CONFIG_PATH } from '../config/defaults.js';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { LOG_LEVELS, type LogLevel } from '../logging/levels.js';
import { VERSION } from '../model/version.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { PluginFile } from '../plugins/builtin.js';
import { noHandlerHint } from '../config/issue-wording.js';
import { isJournalStream, withPriority } from '../logging/journal.js';

// Each command loads what it needs when it runs: `sonde --version` and `sonde once` from cron
// should not pay for parsing the agent, zod's schemas or pino-pretty they do not use.
const lazy = {
  agent: () => import('../runtime/agent.js'),
  config: () => import('../config/load-config.js'),
  errors: () => import('../config/errors.js'),
  logger: () => import('../logging/logger.js'),
  once: () => import('../runtime/once.js'),
  collect: () => import('./collect.js'),
  docs: () => import('../config/plugin-docs.js'),
  plugins: () => import('../plugins/builtin.js'),
  pidfile: () => import('../runtime/pidfile.js'),
  stateDir: () => import('../runtime/state-dir.js'),
  schema: () => import('../config/global-schema.js'),
  duration: () => import('../model/duration.js'),
  info: () => import('./info.js'),
  stray: () => import('../logging/stray-errors.js'),
};

class UsageError extends Error {}

interface Io {
  out(s: string): void;
  err(s: string): void;
}

// Under systemd, what sonde prints on stderr (a config it refuses, above all) is an error in the
// journal, not an info line.
let stderrIsJournal: boolean | undefined;
const stdio: Io = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write((stderrIsJournal ??= isJournalStream(2)) ? withPriority(s, 3) : s),
};

/** Loads the config, printing its problems for an operator; undefined means exit 78. */
async function load(file: string, io: Io, extra?: PluginFile): Promise<LoadedConfig | undefined> {
  const [{ loadConfig }, { isConfigProblem }] = await Promise.all([lazy.config(), lazy.errors()]);
  try {
    return await loadConfig(file, process.env, extra);
  } catch (err) {
    if (isConfigProblem(err)) {
      io.err(`${err.message}\n`);
      io.err(`sonde: the config is invalid; nothing was started. Fix the lines above, then run "sonde check-config --config ${file}".\n`);
      return undefined;
    }
    throw err;
  }
}

function usesStdout(loaded: LoadedConfig): boolean {
  return loaded.config.handlers.some((h) => h.enabled && h.plugin.name === 'stdout');
}

async function cmdRun(config: string, level: LogLevel | undefined, pidfile: string | undefined, io: Io): Promise<number> {
  const loaded = await load(config, io);
  if (!loaded) return EXIT_CONFIG;
  // Logs go to stdout for journald, unless samples do (stdout handler): then to stderr.
  const { createLogger } = await lazy.logger();
  const log = await createLogger(level ?? loaded.config.log_level, usesStdout(loaded) ? 2 : 1);
  let removePid: (() => void) | undefined;
  if (pidfile) {
    const { takePidfile } = await lazy.pidfile();
    try {
      removePid = takePidfile(pidfile);
    } catch (err) {
      log.fatal((err as Error).message);
      return EXIT_FAILURE;
    }
  }
  const [{ Agent }, { installAgentErrorHandlers }] = await Promise.all([lazy.agent(), lazy.stray()]);
  const agent = new Agent(config, log);
  // A plugin's stray exception or rejection is logged and counted, and the agent keeps collecting;
  // an uncaught exception in sonde's own code ends it (status 1) for its supervisor to restart.
  installAgentErrorHandlers(agent.strayErrors, log, () => {
    removePid?.();
    process.exit(EXIT_FAILURE);
  });
  await agent.start(loaded);
  // Keeps the process alive even when nothing is scheduled (every collector disabled).
  const keepAlive = setInterval(() => undefined, 2 ** 30);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) {
        log.warn(`${sig} again: exiting now without waiting for the flush`);
        removePid?.();
        process.exit(EXIT_FAILURE);
      }
      stopping = true;
      log.info(`${sig} received`);
      agent.stop().then(
        () => {
          clearInterval(keepAlive);
          removePid?.();
          resolve(EXIT_OK);
        },
        (err: Error) => {
          clearInterval(keepAlive);
          log.error({ err }, `shutdown failed: ${err.message}`);
          removePid?.();
          resolve(EXIT_FAILURE);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      log.info('SIGHUP received: reloading the config');
      agent.reload().catch((err: Error) => log.error({ err }, `reload failed: ${err.message}; still running the previous config`));
    });
  });
}

/**
 * One-shot commands say a stray error in one sentence instead of node's raw stack: a plugin's
 * lets the run finish and then fail (status 1); one in sonde itself exits 1 at once.
 */
async function oneShot(command: string, say: (line: string) => void, sources: ReadonlyMap<{ readonly name: string }, string>, run: () => Promise<number>): Promise<number> {
  const { runOneShot, pluginFilesOf } = await lazy.stray();
  return runOneShot(command, say, pluginFilesOf(sources), run);
}

async function cmdOnce(config: string, level: LogLevel | undefined, io: Io): Promise<number> {
  const loaded = await load(config, io);
  if (!loaded) return EXIT_CONFIG;
  const [{ createLogger }, { runOnce }] = await Promise.all([lazy.logger(), lazy.once()]);
  const log = await createLogger(level ?? loaded.config.log_level, 2);
  try {
    return await oneShot('sonde once', (line) => log.error(line), loaded.registry.sources, () => runOnce(loaded, log));
  } catch (err) {
    // An unusable state_dir is the config's to fix (exit 78), told in a sentence.
    const { StateDirError } = await lazy.stateDir();
    if (!(err instanceof StateDirError)) throw err;
    log.fatal(err.message);
    return EXIT_CONFIG;
  }
}

async function cmdCheck(config: string, io: Io): Promise<number> {
  const loaded = await load(config, io);
  if (!loaded) return EXIT_CONFIG;
  const c = loaded.config;
  const { failureText, positionText } = await import('../plugins/registry.js');
  // Files no section uses are a warning; those the errors below name are said there.
  const named = (f: { file: string; line?: number | undefined; column?: number | undefined }) => c.unloaded.some((u) => u.includes(` ${positionText(f.file, f.line, f.column)} `));
  for (const f of loaded.registry.failures) if (!named(f)) io.err(`warning: plugin not loaded: ${failureText(f)}\n`);
  const unloaded = new Set(c.unloaded);
  for (const w of c.warnings) if (!unloaded.has(w)) io.err(`warning: ${w}\n`);
  if (c.unloaded.length > 0) {
    // A section whose plugin failed to load would not run: the config is not valid as written.
    for (const u of c.unloaded) io.err(`${u}\n`);
    io.err(`sonde: the config names ${c.unloaded.length === 1 ? 'a plugin that' : 'plugins that'} failed to load. Fix the plugin file${c.unloaded.length === 1 ? '' : 's'} named above (or remove the section), then run "sonde check-config --config ${config}" again.\n`);
    return EXIT_CONFIG;
  }
  if (!c.handlers.some((h) => h.enabled)) io.err(`warning: ${noHandlerHint(c.files, 'agent')}\n`);
  const on = (xs: readonly { key: string; enabled: boolean }[]) => xs.filter((x) => x.enabled).map((x) => x.key).join(', ') || 'none';
  io.out(`${c.files.join(', ')}: OK\n  collectors: ${on(c.collectors)}\n  handlers: ${on(c.handlers)}\n`);
  return EXIT_OK;
}

async function cmdList(config: string | undefined, options: boolean, markdown: boolean, io: Io): Promise<number> {
  let paths: string[] = [];
  if (config && existsSync(config)) {
    const loaded = await load(config, io);
    if (!loaded) return EXIT_CONFIG;
    paths = loaded.config.plugin_paths;
  }
  const [{ buildRegistry }, { markdownReference, textList }] = await Promise.all([lazy.plugins(), lazy.docs()]);
  const { registry } = await buildRegistry(paths);
  io.out(markdown ? `${markdownReference(registry)}\n` : textList(registry, options));
  return EXIT_OK;
}

async function cmdCollect(target: string, config: string | undefined, count: number, interval: string, sets: readonly string[], level: LogLevel | undefined, io: Io): Promise<number> {
  const { parseDuration } = await lazy.duration();
  const intervalMs = parseDuration(interval);
  if (intervalMs === undefined || intervalMs <= 0) {
    io.err(`sonde collect: --interval ${JSON.stringify(interval)} is not a duration such as 1s or 500ms\n`);
    return EXIT_USAGE;
  }
  const [{ createLogger }, { buildRegistry }, { collectOne, collectSection, CollectUsageError, findCollector, importTarget, isFile }, { globalSchema }] = await Promise.all([
    lazy.logger(),
    lazy.plugins(),
    lazy.collect(),
    lazy.schema(),
  ]);
  // A plugin file is imported first, so that the config's section for it is validated against it.
  let file;
  if (isFile(target)) {
    try {
      file = await importTarget(target);
    } catch (err) {
      io.err(`sonde collect: ${(err as Error).message}\n`);
      return EXIT_FAILURE;
    }
  }
  let loaded: LoadedConfig | undefined;
  if (config) {
    loaded = await load(config, io, file);
    if (!loaded) return EXIT_CONFIG;
  }
  const log = await createLogger(level ?? loaded?.config.log_level ?? 'info', 2);
  const registry = loaded?.registry ?? (await buildRegistry([], file)).registry;
  let plugin;
  try {
    plugin = findCollector(target, registry, file);
  } catch (err) {
    io.err(`sonde collect: ${(err as Error).message}\n`);
    return EXIT_FAILURE;
  }
  const global = loaded?.config ?? globalSchema.parse({});
  const mine = loaded?.config.collectors.filter((c) => c.plugin === plugin) ?? [];
  const configured = mine.find((c) => c.key === target || c.key === plugin.name) ?? mine[0];
  let section;
  try {
    section = collectSection(plugin, configured, sets, intervalMs);
  } catch (err) {
    if (!(err instanceof CollectUsageError)) throw err;
    io.err(`sonde collect: ${err.message}\n`);
    return EXIT_USAGE;
  }
  return oneShot('sonde collect', (line) => log.error(line), registry.sources, () =>
    collectOne(plugin, { target, count, intervalMs, section, global, parsers: registry.parsers }, log, io.out),
  );
}

/**
 * yargs renders the whole help text each time it runs a command (about 28 ms, most of a cron
 * run's budget) so that it can print it if the command fails. sonde prints its own errors, so that
 * cached text is never shown: skip building it. Guarded, so a yargs without the hook is unaffected.
 */
function skipHelpCache(parser: object): void {
  type Usage = { cacheHelpMessage?: () => void };
  const internals = (parser as { getInternalMethods?: () => { getUsageInstance?: () => Usage } }).getInternalMethods?.();
  const usage = internals?.getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}

interface ParsedArgs {
  _: (string | number)[];
  config: string;
  logLevel?: LogLevel;
  pidfile?: string;
  collector?: string;
  count?: number;
  interval?: string;
  options?: boolean;
  markdown?: boolean;
  set?: (string | number)[];
}

export async function main(argv: readonly string[], io: Io = stdio): Promise<number> {
  // `sonde logster` has Logster's own command line (-p, -s, -l mean what they mean there).
  if (argv[0] === 'logster') {
    const { logsterMain } = await import('../logster/run.js');
    return oneShot('sonde logster', (line) => io.err(`${line}\n`), new Map(), () => logsterMain(argv.slice(1), io));
  }
  // yargs lays out the whole help text whenever it runs a command, for error output we print
  // ourselves; laying it out to the terminal's width is about 20 ms of every `sonde once` from cron,
  // so wrapping is only switched on when the help is what was asked for.
  const wantsHelp = argv.some((x) => x === '--help' || x === '-h');
  const parser = yargs([...argv])
    .scriptName('sonde')
    .usage('sonde: host metrics agent (collectors and log parsers -> carbon, or Graphite lines on stdout)\n\nUsage: sonde <command> [options]')
    .option('config', {
      alias: 'c',
      type: 'string',
      default: DEFAULT_CONFIG_PATH,
      describe: 'The config file; conf.d/*.yaml beside it is merged in name order',
      global: true,
    })
    .option('log-level', { type: 'string', choices: LOG_LEVELS, describe: 'Overrides log_level from the config', global: true })
    .command('run', 'Run the agent in the foreground (under systemd or another supervisor). SIGTERM flushes and exits, SIGHUP reloads the config', (y) =>
      y.option('pidfile', { type: 'string', describe: 'Write the pid here (for hosts without systemd)' }),
    )
    .command('once', 'Run every enabled collector once, send the samples, exit (0 = all sent, 1 = something failed). For cron', (y) => y)
    .command('collect <collector>', 'Run one collector and print its samples as Graphite lines (for plugin authors)', (y) =>
      y
        .positional('collector', { type: 'string', demandOption: true, describe: 'A collector name (see "sonde list") or the path of a .js/.mjs plugin' })
        .option('count', { alias: 'n', type: 'number', default: 2, describe: 'How many runs (rates appear from the second)' })
        .option('interval', { alias: 'i', type: 'string', default: '1s', describe: 'Time between runs' })
        .option('set', {
          type: 'string',
          array: true,
          requiresArg: true,
          describe: 'Set one option, key=value, over the config\'s section (repeatable): typed as the option is (3, true, a,b for a list, 10s); JSON for a list or a mapping',
        }),
    )
    .command('logster', 'Logster\'s command line, for crontab lines: sonde logster [options] PARSER LOGFILE (see "sonde logster --help")', (y) => y)
    .command('info', 'Describe this host (OS, kernel, CPU, memory, disks, network) for an operator', (y) => y)
    .command('check-config', 'Validate the config and its plugins; exit 0 when valid, 78 with file:line: key messages when not', (y) => y)
    .command('list', 'List the collectors, handlers and parsers this sonde has', (y) =>
      y
        .option('options', { alias: 'o', type: 'boolean', default: false, describe: 'Also list each plugin\'s options' })
        .option('markdown', { type: 'boolean', default: false, describe: 'Print the option reference as Markdown (used for the README)' }),
    )
    .demandCommand(1, 'Name a command: run, once, collect, logster, check-config, list or info (see --help)')
    .strict()
    .version(VERSION)
    .alias('version', 'V')
    .help()
    .alias('help', 'h')
    .wrap(wantsHelp ? Math.min(110, process.stdout.columns || Number(process.env.COLUMNS) || 100) : null)
    .epilog('Config: /etc/sonde/sonde.yaml by default. Exit status: 0 ok, 1 failed run, 64 bad command line, 78 invalid config.')
    .exitProcess(false)
    .fail((msg, err) => {
      // Throwing stops yargs from going on after reporting the problem.
      throw err ?? new UsageError(msg);
    });
  if (!wantsHelp) skipHelpCache(parser);
  let a: ParsedArgs;
  try {
    a = (await parser.parseAsync()) as unknown as ParsedArgs;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`sonde: ${err.message}\nRun "sonde --help" for the commands and options.\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  // --help and --version have printed and set this; there is nothing to run.
  if (argv.some((x) => x === '--help' || x === '-h' || x === '--version' || x === '-V')) return EXIT_OK;
  switch (a._[0]) {
    case 'run':
      return cmdRun(a.config, a.logLevel, a.pidfile, io);
    case 'once':
      return cmdOnce(a.config, a.logLevel, io);
    case 'collect': {
      // --config is only read when given explicitly, so plugin authors need no config file.
      const explicit = argv.some((x) => x === '--config' || x === '-c' || x.startsWith('--config='));
      return cmdCollect(a.collector!, explicit ? a.config : undefined, Math.max(1, Math.floor(a.count ?? 2)), a.interval ?? '1s', (a.set ?? []).map(String), a.logLevel, io);
    }
    case 'check-config':
      return cmdCheck(a.config, io);
    case 'info': {
      const { hostInfo } = await lazy.info();
      io.out(await hostInfo());
      return EXIT_OK;
    }
    case 'list':
      return cmdList(a.config, a.options ?? false, a.markdown ?? false, io);
    default:
      io.err(`sonde: unknown command ${JSON.stringify(a._[0])}\nRun "sonde --help" for the commands and options.\n`);
      return EXIT_USAGE;
  }
}
