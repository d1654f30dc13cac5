// The command line: sonde run | once | collect | logster | watch | info | check-config | config | list | new | test | completion.
import yargs from 'yargs';
import { existsSync } from 'node:fs';
import { DEFAULT_CONFIG_PATH } from '../config/defaults.js';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { LOG_LEVELS, type LogLevel } from '../logging/levels.js';
import { VERSION } from '../model/version.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { PluginFile } from '../plugins/builtin.js';
import { isJournalStream, withPriority } from '../logging/journal.js';
import { complete } from './completion.js';
import type { CommandLineOverrides } from './overrides.js';

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
  check: () => import('./check-config.js'),
  configPrint: () => import('./config-print.js'),
  suggest: () => import('../config/suggest.js'),
  diamond: () => import('../config/diamond-names.js'),
  readFiles: () => import('../config/read-files.js'),
  queue: () => import('./queue.js'),
  stray: () => import('../logging/stray-errors.js'),
  kit: () => import('./kit/run.js'),
  newPlugin: () => import('./kit/new.js'),
  overrides: () => import('./overrides.js'),
  banner: () => import('./start-banner.js'),
  watch: () => import('./watch.js'),
};

class UsageError extends Error {}

/** What yargs is told to say when no command is named; recognised to print the command list instead. */
const NO_COMMAND = 'no command named';

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

/** The config with --only and --state-dir applied; undefined (exit 64, said) when --only names what the config lacks. */
async function withOverrides(command: string, loaded: LoadedConfig, o: CommandLineOverrides, io: Io): Promise<LoadedConfig | undefined> {
  const { applyOverrides, OnlyError } = await lazy.overrides();
  try {
    return applyOverrides(loaded, o);
  } catch (err) {
    if (!(err instanceof OnlyError)) throw err;
    io.err(`sonde ${command}: ${err.message}\n`);
    return undefined;
  }
}

function usesStdout(loaded: LoadedConfig): boolean {
  return loaded.config.handlers.some((h) => h.enabled && h.plugin.name === 'stdout');
}

async function cmdRun(config: string, level: LogLevel | undefined, pidfile: string | undefined, o: CommandLineOverrides, io: Io): Promise<number> {
  const read = await load(config, io);
  if (!read) return EXIT_CONFIG;
  const loaded = await withOverrides('run', read, o, io);
  if (!loaded) return EXIT_USAGE;
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
  const { applyOverrides } = await lazy.overrides();
  const agent = new Agent(config, log, (l) => applyOverrides(l, o));
  // A plugin's stray exception or rejection is logged and counted, and the agent keeps collecting;
  // an uncaught exception in sonde's own code ends it (status 1) for its supervisor to restart.
  installAgentErrorHandlers(agent.strayErrors, log, () => {
    removePid?.();
    process.exit(EXIT_FAILURE);
  });
  await agent.start(loaded);
  // A person at a terminal (npm start) is told where things are, when to expect samples, how to stop.
  if (process.stdout.isTTY && process.stderr.isTTY) io.err((await lazy.banner()).startBanner(agent.current, agent.stateDir, Date.now()));
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

async function cmdOnce(config: string, level: LogLevel | undefined, o: CommandLineOverrides, print: 'graphite' | 'json' | undefined, io: Io): Promise<number> {
  const read = await load(config, io);
  if (!read) return EXIT_CONFIG;
  const loaded = await withOverrides('once', read, o, io);
  if (!loaded) return EXIT_USAGE;
  const [{ createLogger }, { runOnce }] = await Promise.all([lazy.logger(), lazy.once()]);
  const log = await createLogger(level ?? loaded.config.log_level, 2);
  try {
    return await oneShot('sonde once', (line) => log.error(line), loaded.registry.sources, () => runOnce(loaded, log, { print, out: io.out }));
  } catch (err) {
    // An unusable state_dir is the config's to fix (exit 78), told in a sentence.
    const { StateDirError } = await lazy.stateDir();
    if (!(err instanceof StateDirError)) throw err;
    log.fatal(err.message);
    return EXIT_CONFIG;
  }
}

async function cmdCheck(config: string, strict: boolean, json: boolean, io: Io): Promise<number> {
  if (json) return cmdCheckJson(config, strict, io);
  const loaded = await load(config, io);
  if (!loaded) return EXIT_CONFIG;
  const check = await lazy.check();
  const c = loaded.config;
  const warnings = check.checkWarnings(loaded);
  for (const w of warnings) io.err(`warning: ${w}\n`);
  const unloaded = check.unloadedProblems(loaded);
  if (unloaded.length > 0) {
    // A section whose plugin failed to load would not run: the config is not valid as written.
    for (const u of unloaded) io.err(`${u}\n`);
    io.err(`sonde: the config names ${unloaded.length === 1 ? 'a plugin that' : 'plugins that'} failed to load. Fix the plugin file${unloaded.length === 1 ? '' : 's'} named above (or remove the section), then run "sonde check-config --config ${config}" again.\n`);
    return EXIT_CONFIG;
  }
  if (strict && warnings.length > 0) {
    io.err(`sonde check-config: --strict: ${warnings.length === 1 ? 'the warning above counts' : `the ${warnings.length} warnings above count`} as errors; fix them (or run without --strict to accept them)\n`);
    return EXIT_CONFIG;
  }
  const on = (xs: readonly { key: string; enabled: boolean }[]) => xs.filter((x) => x.enabled).map((x) => x.key).join(', ') || 'none';
  io.out(`${c.files.join(', ')}: OK\n  collectors: ${on(c.collectors)}\n  handlers: ${on(c.handlers)}\n`);
  return EXIT_OK;
}

/** `check-config --json`: the same facts on stdout as one JSON object, nothing on stderr. */
async function cmdCheckJson(config: string, strict: boolean, io: Io): Promise<number> {
  const [check, { loadConfig }, { isConfigProblem }, { ConfigError }] = await Promise.all([lazy.check(), lazy.config(), lazy.errors(), lazy.readFiles()]);
  let report;
  try {
    const loaded = await loadConfig(config);
    const warnings = check.checkWarnings(loaded);
    report = check.validJson(loaded, warnings, strict && warnings.length > 0 ? EXIT_CONFIG : EXIT_OK);
  } catch (err) {
    if (!isConfigProblem(err)) throw err;
    const problems = err instanceof ConfigError ? err.problems.map(check.problemJson) : [{ file: err.file, line: err.line ?? null, key: null, message: err.reason }];
    report = check.invalidJson([config], problems);
  }
  io.out(`${JSON.stringify(report, null, 2)}\n`);
  return report.status;
}

async function cmdList(config: string | undefined, name: string | undefined, options: boolean, markdown: boolean, json: boolean, io: Io): Promise<number> {
  let paths: string[] = [];
  if (config && existsSync(config)) {
    const loaded = await load(config, io);
    if (!loaded) return EXIT_CONFIG;
    paths = loaded.config.plugin_paths;
  }
  const [{ buildRegistry }, docs] = await Promise.all([lazy.plugins(), lazy.docs()]);
  const { registry } = await buildRegistry(paths);
  if (name !== undefined) {
    const found = docs.findPlugins(registry, name);
    if (found.length === 0) {
      const [{ suggestion }, { diamondPlugin }] = await Promise.all([lazy.suggest(), lazy.diamond()]);
      const hint = suggestion(name, docs.pluginNames(registry), diamondPlugin(name)?.kind);
      io.err(`sonde list: no collector, handler or parser named "${name}"${hint ? ` (${hint})` : ''}; "sonde list" shows them all\n`);
      return EXIT_USAGE;
    }
    io.out(json ? `${JSON.stringify(found.length === 1 ? docs.pluginJson(registry, found[0]!) : found.map((p) => docs.pluginJson(registry, p)), null, 2)}\n` : found.map((p) => docs.pluginText(registry, p)).join('\n'));
    return EXIT_OK;
  }
  if (json) io.out(`${JSON.stringify(docs.listJson(registry), null, 2)}\n`);
  else io.out(markdown ? `${docs.markdownReference(registry)}\n` : docs.textList(registry, options));
  return EXIT_OK;
}

/** `sonde config [SECTION...]`: a complete commented config, with the plugins of --config's plugin_paths when one is named. */
async function cmdConfig(config: string | undefined, sections: readonly string[], io: Io): Promise<number> {
  let paths: string[] = [];
  let global: Record<string, unknown> | undefined;
  if (config) {
    const loaded = await load(config, io);
    if (!loaded) return EXIT_CONFIG;
    paths = loaded.config.plugin_paths;
    if (loaded.pluginPathsConfigured) global = { plugin_paths: paths };
  }
  const [{ buildRegistry }, { sampleConfig, UnknownSectionError }] = await Promise.all([lazy.plugins(), lazy.configPrint()]);
  const { registry } = await buildRegistry(paths);
  try {
    io.out(sampleConfig(registry, { sections, global }));
  } catch (err) {
    if (!(err instanceof UnknownSectionError)) throw err;
    io.err(`sonde config: ${err.message}\n`);
    return EXIT_USAGE;
  }
  return EXIT_OK;
}

async function cmdCollect(target: string, config: string | undefined, count: number, interval: string, sets: readonly string[], level: LogLevel | undefined, io: Io): Promise<number> {
  const { parseDuration } = await lazy.duration();
  const intervalMs = parseDuration(interval);
  if (intervalMs === undefined || intervalMs <= 0) {
    io.err(`sonde collect: --interval ${JSON.stringify(interval)} is not a duration such as 1s or 500ms\n`);
    return EXIT_USAGE;
  }
  const [{ createLogger }, { buildRegistry }, { collectOne, collectSection, CollectUsageError, findCollector, importTarget, isFile, UnknownCollectorError }, { globalSchema }] = await Promise.all([
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
    return err instanceof UnknownCollectorError ? EXIT_USAGE : EXIT_FAILURE;
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
  only?: (string | number)[];
  stateDir?: string;
  print?: boolean;
  format?: 'graphite' | 'json';
  collector?: string;
  count?: number;
  interval?: string;
  options?: boolean;
  markdown?: boolean;
  strict?: boolean;
  json?: boolean;
  name?: string;
  sections?: string[];
  kind?: string;
  dir?: string;
  plugin?: string;
  update?: boolean;
  cases?: string;
  log?: string;
  parser?: string;
  pattern?: (string | number)[];
  parserOptions?: string;
  every?: string;
  fromStart?: boolean;
  set?: (string | number)[];
}

async function overrides(a: ParsedArgs): Promise<CommandLineOverrides> {
  const { parseOnly } = await lazy.overrides();
  const path = await import('node:path');
  return { only: parseOnly(a.only), stateDir: a.stateDir === undefined ? undefined : path.resolve(a.stateDir) };
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
  const wantsHelp = argv.length === 0 || argv.some((x) => x === '--help' || x === '-h');
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
      y
        .option('pidfile', { type: 'string', describe: 'Write the pid here (for hosts without systemd)' })
        .option('only', { type: 'string', array: true, describe: 'Run only these collector sections (comma-separated or repeated); the rest of the config applies' })
        .option('state-dir', { type: 'string', describe: 'Keep counter state, log offsets and spools here instead of the config\'s state_dir' }),
    )
    .command('once', 'Run every enabled collector once, send the samples, exit (0 = all sent, 1 = something failed). For cron', (y) =>
      y
        .option('only', { type: 'string', array: true, describe: 'Run only these collector sections (comma-separated or repeated)' })
        .option('print', { type: 'boolean', default: false, describe: 'Print the samples instead of sending them (no handler, outbox or spool is used; rates come from the counters the last "sonde once" saved, which are left as they are)' })
        .option('format', { type: 'string', choices: ['graphite', 'json'], describe: 'With --print: Graphite lines (the default) or one JSON object per line' })
        .option('state-dir', { type: 'string', describe: 'Keep counter state, log offsets and spools here instead of the config\'s state_dir' }),
    )
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
    .command('queue <action> [queue]', "esmond's memcached persist queues of the memcached_queue handlers: \"status\" prints espersistq's table every --interval, \"peek <queue>\" shows the oldest unread items without consuming them", (y) => y.positional('action', { type: 'string', choices: ['status', 'peek'], demandOption: true }).positional('queue', { type: 'string', describe: 'For peek: the queue, e.g. cassandra_1' }).option('once', { type: 'boolean', default: false, describe: 'status: print one table and exit' }).option('interval', { type: 'string', default: '5s', describe: 'status: time between tables' }).option('json', { type: 'boolean', default: false, describe: 'status: the same figures as one JSON line per table' }).option('n', { type: 'number', default: 5, describe: 'peek: how many items' }))
    .command('new <kind> <name>', 'Write a plugin folder to start from: the plugin, a README with its options and a test case that "sonde test" passes', (y) =>
      y
        .positional('kind', { type: 'string', choices: ['collector', 'parser', 'handler'], demandOption: true, describe: 'What the plugin is' })
        .positional('name', { type: 'string', demandOption: true, describe: 'Its name: lower-case letters, digits and _, starting with a letter' })
        .option('dir', { type: 'string', describe: 'The folder to write (default: ./NAME); it must not exist, or be empty' }),
    )
    .command('test <plugin>', 'Run a plugin\'s golden cases (testcases/<case>/ beside it); exit 0 all passed, 1 a case differs (with a diff), 78 a case folder is broken', (y) =>
      y
        .positional('plugin', { type: 'string', demandOption: true, describe: 'The plugin\'s .mjs/.js file, or its folder' })
        .option('update', { type: 'boolean', default: false, describe: 'Rewrite the expectations that differ with what the plugin produced (check them by hand)' })
        .option('cases', { type: 'string', describe: 'A folder of cases other than testcases/ beside the plugin; the plugin may then be a built-in one\'s name' }),
    )
    .command('logster', 'Logster\'s command line, for crontab lines: sonde logster [options] PARSER LOGFILE (see "sonde logster --help")', (y) => y)
    .command('watch <log>', 'Preview a parser\'s figures on a growing log, refreshed every few seconds (for writing a pattern or checking a parser). Ctrl-C stops', (y) =>
      y
        .positional('log', { type: 'string', demandOption: true, describe: 'The log file to follow (from its end, unless --from-start)' })
        .option('parser', { alias: 'p', type: 'string', describe: 'A built-in parser (see "sonde list"), regex (with --pattern), or the path of a .js/.mjs parser plugin' })
        .option('pattern', { type: 'string', array: true, describe: 'For regex (implied): a regular expression with named captures, counted per capture value, or a pattern mapping as in the config, e.g. "{match: \'time=(?<ms>\\d+)\', timer: {name: latency, value: ms}}". Repeatable' })
        .option('parser-options', { type: 'string', describe: 'Options for a built-in or plugin parser, as sonde logster takes them ("-l WARN,ERROR")' })
        .option('every', { type: 'string', default: '5s', describe: 'How often the figures are shown (the lines added since the last time)' })
        .option('from-start', { type: 'boolean', default: false, describe: 'Read the lines already in the file into the first figures' }),
    )
    .command('info', 'Describe this host (OS, kernel, CPU, memory, disks, network) for an operator', (y) => y)
    .command('check-config', 'Validate the config and its plugins; exit 0 when valid, 78 with file:line: key messages when not', (y) =>
      y
        .option('strict', { type: 'boolean', default: false, describe: 'Treat warnings (no handler enabled, a missing plugin directory, ...) as errors: exit 78' })
        .option('json', { type: 'boolean', default: false, describe: 'Print the result as one JSON object on stdout (shape in the README)' }),
    )
    .command('config [sections..]', 'Print a complete sonde.yaml with every key, its default and its help, from the plugins\' schemas; with SECTIONs (plugin names, global), only those', (y) =>
      y.positional('sections', { type: 'string', array: true, describe: 'Collector or handler names, or global (e.g. cpu graphite)' }),
    )
    .command('list [name]', 'List the collectors, handlers and parsers this sonde has; with a NAME, that plugin and every key its section takes', (y) =>
      y
        .positional('name', { type: 'string', describe: 'A collector, handler or parser (e.g. cpu, graphite, PostfixLogster)' })
        .option('json', { type: 'boolean', default: false, describe: 'Print the same facts as JSON (shape in the README)' })
        .option('options', { alias: 'o', type: 'boolean', default: false, describe: 'Also list each plugin\'s options and the keys every section shares' })
        .option('markdown', { type: 'boolean', default: false, describe: 'Print the option reference as Markdown (used for the README)' }),
    )
    .demandCommand(1, NO_COMMAND)
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
  // yargs' completion command prints its script even for --help; asked for help, it is a plain
  // command, so that `sonde completion --help` (and the man page) describe it.
  const completionHelp = 'Print a bash or zsh completion script (commands, options, plugin names): sonde completion >> ~/.bashrc, or >> ~/.zshrc';
  if (wantsHelp) parser.command('completion', completionHelp, (y) => y);
  else parser.completion('completion', completionHelp, complete);
  if (!wantsHelp) skipHelpCache(parser);
  // A Tab in a shell that loaded `sonde completion`: print the words that may come next.
  if (argv[0] === '--get-yargs-completions') {
    const words = await parser.getCompletion(argv.slice(1));
    io.out(words.length > 0 ? `${words.join('\n')}\n` : '');
    return EXIT_OK;
  }
  let a: ParsedArgs;
  try {
    a = (await parser.parseAsync()) as unknown as ParsedArgs;
  } catch (err) {
    if (err instanceof UsageError && err.message === NO_COMMAND) {
      // Bare `sonde`: every command, from the same list --help shows, so none is left out.
      io.err(`${await parser.getHelp()}\n\nsonde: name a command (listed above); "sonde COMMAND --help" tells more about one.\n`);
      return EXIT_USAGE;
    }
    if (err instanceof UsageError) {
      io.err(`sonde: ${err.message}\nRun "sonde --help" for the commands and options.\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  // --help and --version have printed and set this; there is nothing to run.
  if (argv.some((x) => x === '--help' || x === '-h' || x === '--version' || x === '-V')) return EXIT_OK;
  if (a.stateDir !== undefined && a.stateDir.trim() === '') {
    io.err(`sonde ${a._[0]}: --state-dir needs a directory (it is empty); leave it out to use the config's state_dir\nRun "sonde --help" for the commands and options.\n`);
    return EXIT_USAGE;
  }
  // yargs has printed the completion script.
  if (a._[0] === 'completion') return EXIT_OK;
  const explicit = argv.some((x) => x === '--config' || x === '-c' || x.startsWith('--config='));
  switch (a._[0]) {
    case 'run':
      return cmdRun(a.config, a.logLevel, a.pidfile, await overrides(a), io);
    case 'once':
      if (a.format !== undefined && !a.print) {
        io.err('sonde once: --format applies to --print (what is printed); without --print the samples go to the handlers in their own formats\nRun "sonde --help" for the commands and options.\n');
        return EXIT_USAGE;
      }
      return cmdOnce(a.config, a.logLevel, await overrides(a), a.print ? (a.format ?? 'graphite') : undefined, io);
    case 'collect': {
      // --config is only read when given explicitly, so plugin authors need no config file.
      return cmdCollect(a.collector!, explicit ? a.config : undefined, Math.max(1, Math.floor(a.count ?? 2)), a.interval ?? '1s', (a.set ?? []).map(String), a.logLevel, io);
    }
    case 'check-config':
      return cmdCheck(a.config, a.strict ?? false, a.json ?? false, io);
    case 'new': {
      const { newPlugin } = await lazy.newPlugin();
      return newPlugin(a.kind!, a.name!, a.dir, io);
    }
    case 'test': {
      // A plugin's stray error (a timer that throws) is told in a sentence and fails the run (1).
      const { testCommand } = await lazy.kit();
      return oneShot('sonde test', (line) => io.err(`${line}\n`), new Map(), () => testCommand(a.plugin!, { update: a.update ?? false, cases: a.cases }, io));
    }
    case 'watch': {
      const { watchMain } = await lazy.watch();
      return watchMain(
        { file: a.log!, parser: a.parser, every: a.every ?? '5s', patterns: (a.pattern ?? []).map(String), parserOptions: a.parserOptions, fromStart: a.fromStart ?? false },
        { out: io.out, err: io.err, tty: process.stdout.isTTY === true },
      );
    }
    case 'info': {
      const { hostInfo } = await lazy.info();
      io.out(await hostInfo());
      return EXIT_OK;
    }
    case 'config':
      // A sample is no business of the config in force (which may be the broken one): read only when named.
      return cmdConfig(explicit ? a.config : undefined, a.sections ?? [], io);
    case 'queue':
      return (await lazy.queue()).queueCommand(a as unknown as import('./queue.js').QueueArgs, io);
    case 'list':
      return cmdList(a.config, a.name, a.options ?? false, a.markdown ?? false, a.json ?? false, io);
    default:
      io.err(`sonde: unknown command ${JSON.stringify(a._[0])}\nRun "sonde --help" for the commands and options.\n`);
      return EXIT_USAGE;
  }
}
