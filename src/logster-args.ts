// `sonde logster`'s command line: Logster's options, short flags and defaults (COMPAT.md section 2).
import yargs from 'yargs';

export const LOGSTER_OUTPUTS = ['stdout', 'graphite', 'statsd', 'ganglia', 'nsca', 'cloudwatch'] as const;

export interface LogsterArgs {
  parser: string;
  logFile: string;
  tailer: 'logtail' | 'pygtail';
  locker: string;
  logtail: string;
  metricPrefix: string;
  metricSuffix: string | undefined;
  parserHelp: boolean;
  parserOptions: string | undefined;
  stateDir: string;
  logDir: string;
  logConf: string | undefined;
  outputs: string[];
  dryRun: boolean;
  debug: boolean;
  stdoutSeparator: string;
  graphiteHost: string | undefined;
  graphiteProtocol: 'tcp' | 'udp';
  statsdHost: string | undefined;
  gmetricOptions: string;
  nscaHost: string | undefined;
  nscaServiceHostname: string | undefined;
  fromStart: boolean;
  config: string | undefined;
  maxLineBytes: number;
}

export class LogsterUsageError extends Error {}

export const LOGSTER_USAGE = 'Usage: sonde logster [options] PARSER LOGFILE';

// Options that take a value, with their short forms: optparse gives them the next word whatever it
// looks like (`--parser-options "-l WARN"`), and reads `-pVALUE` as `-p VALUE`.
const VALUE_OPTIONS: Record<string, string> = {
  '-t': '--tailer', '-p': '--metric-prefix', '-x': '--metric-suffix', '-s': '--state-dir', '-l': '--log-dir', '-o': '--output', '-c': '--config',
};
const VALUE_LONG = new Set([
  ...Object.values(VALUE_OPTIONS), '--locker', '--logtail', '--parser-options', '--log-conf', '--stdout-separator', '--graphite-host',
  '--graphite-protocol', '--statsd-host', '--gmetric-options', '--nsca-host', '--nsca-service-hostname', '--aws-key', '--aws-secret-key', '--max-line-bytes',
]);

/** Rewrites value options as `--long=value`, so a value starting with "-" stays a value. */
export function normalizeArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    if (w === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const long = VALUE_OPTIONS[w.slice(0, 2)] !== undefined && !w.startsWith('--') ? VALUE_OPTIONS[w.slice(0, 2)]! : VALUE_LONG.has(w) ? w : undefined;
    if (long === undefined) out.push(w);
    else if (!w.startsWith('--') && w.length > 2) out.push(`${long}=${w.slice(2)}`);
    else if (i + 1 < argv.length) out.push(`${long}=${argv[++i]}`);
    else out.push(w);
  }
  return out;
}

/** Parses Logster's command line; throws LogsterUsageError (exit 2) with the problem named. */
export async function parseLogsterArgs(argv: readonly string[]): Promise<LogsterArgs | { help: string }> {
  const wantsHelp = argv.some((a) => a === '--help' || a === '-h');
  // Every option that takes a value takes exactly the next word, even one that starts with "-"
  // (`--parser-options "-l WARN"`), as Python's optparse does.
  const str = (describe: string, extra: object = {}) => ({ type: 'string' as const, nargs: 1, requiresArg: true, describe, ...extra });
  const p = yargs(normalizeArgs(argv))
    .scriptName('sonde logster')
    .usage(`${LOGSTER_USAGE}\n\nReads the lines added to LOGFILE since the last run, applies PARSER (a built-in such as PostfixLogster, or a .js/.mjs parser plugin) and sends the figures. A drop-in replacement for a Logster crontab line: same options, state files and output.`)
    .parserConfiguration({ 'camel-case-expansion': true, 'duplicate-arguments-array': true, 'strip-aliased': true, 'boolean-negation': false })
    .option('tailer', str('Tailer whose state file names to use: logtail (logtail2 state) or pygtail', { alias: 't', choices: ['logtail', 'pygtail'], default: 'logtail' }))
    .option('locker', str('Accepted for compatibility; sonde always uses its own lock file', { choices: ['fcntl', 'portalocker'], default: 'fcntl' }))
    .option('logtail', str('Accepted for compatibility; sonde reads the log itself, continuing logtail2\'s state', { default: '/usr/sbin/logtail2' }))
    .option('metric-prefix', str('Prefix joined to every metric name', { alias: 'p', default: '' }))
    .option('metric-suffix', str('Suffix joined to every metric name', { alias: 'x' }))
    .option('parser-help', { type: 'boolean', describe: 'Print the options of the selected parser and exit' })
    .option('parser-options', str('Options for the parser, as one string, e.g. "-l WARN,ERROR"'))
    .option('state-dir', str('Where the state and lock files live', { alias: 's', default: '/var/run' }))
    .option('log-dir', str('Where logster.log is written', { alias: 'l', default: '/var/log/logster' }))
    .option('log-conf', str('Accepted for compatibility (a Python logging config); ignored'))
    .option('output', str(`Where to send the figures; repeatable: ${LOGSTER_OUTPUTS.filter((o) => o !== 'cloudwatch').join(', ')}, or a handler of the --config file`, { alias: 'o' }))
    .option('dry-run', { alias: 'd', type: 'boolean', default: false, describe: 'Parse and print what would be sent; send nothing and keep the saved position' })
    .option('debug', { alias: 'D', type: 'boolean', default: false, describe: 'Log more (to logster.log and stderr)' })
    .option('stdout-separator', str('Joins prefix, name and suffix on stdout', { default: '_' }))
    .option('graphite-host', str('host:port of carbon\'s plaintext listener (required for -o graphite)'))
    .option('graphite-protocol', str('tcp or udp', { choices: ['tcp', 'udp'], default: 'tcp' }))
    .option('statsd-host', str('host:port of a StatsD server (required for -o statsd)'))
    .option('gmetric-options', str('Options passed to gmetric', { default: '-d 180 -c /etc/ganglia/gmond.conf' }))
    .option('nsca-host', str('host:port of an NSCA daemon (required for -o nsca)'))
    .option('nsca-service-hostname', str('<host_name> of the NSCA passive check (default: this host\'s name)'))
    .option('aws-key', str('Accepted so old crontab lines parse; -o cloudwatch is not supported'))
    .option('aws-secret-key', str('Accepted so old crontab lines parse; -o cloudwatch is not supported'))
    .option('from-start', { type: 'boolean', default: false, describe: 'On a first run, parse the whole log instead of only recording its end' })
    .option('config', str('A sonde.yaml whose handlers can be named with -o (e.g. -o memcached_queue)', { alias: 'c' }))
    .option('max-line-bytes', { type: 'number', default: 1048576, describe: 'Longer lines are counted and skipped' })
    .strictOptions()
    .help(false)
    .version(false)
    .option('help', { alias: 'h', type: 'boolean', describe: 'Show this help' })
    .wrap(wantsHelp ? Math.min(110, process.stdout.columns || 100) : null)
    .epilog('Exit status: 0 sent (or first run: the end of the log recorded), 1 lock held or the run failed (the position is kept, the next run reads the same lines), 2 bad command line.')
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new LogsterUsageError(msg);
    });
  if (wantsHelp) return { help: `${await p.getHelp()}\n` };
  let a: Record<string, unknown>;
  try {
    a = (await p.parseAsync()) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof LogsterUsageError) throw err;
    throw new LogsterUsageError((err as Error).message);
  }
  const last = <T>(v: unknown): T => (Array.isArray(v) ? (v[v.length - 1] as T) : (v as T));
  const positional = (a._ as unknown[]).map(String);
  const outputs = ([] as unknown[]).concat(a.output ?? []).map(String);
  const parserHelp = Boolean(a.parserHelp);
  if (!parserHelp && positional.length !== 2) throw new LogsterUsageError('Supply at least two arguments: parser and logfile.');
  if (parserHelp && positional.length < 1) throw new LogsterUsageError('Name the parser whose options to print.');
  if (!parserHelp && outputs.length === 0) throw new LogsterUsageError('Supply where the data should be sent with -o (or --output).');
  const maxLineBytes = Number(last(a.maxLineBytes));
  if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 64) throw new LogsterUsageError('--max-line-bytes must be a whole number of at least 64');
  return {
    parser: positional[0]!,
    logFile: positional[1] ?? '',
    tailer: last(a.tailer),
    locker: last(a.locker),
    logtail: last(a.logtail),
    metricPrefix: last(a.metricPrefix) ?? '',
    metricSuffix: last(a.metricSuffix),
    parserHelp,
    parserOptions: last(a.parserOptions),
    stateDir: last(a.stateDir),
    logDir: last(a.logDir),
    logConf: last(a.logConf),
    outputs: [...new Set(outputs)],
    dryRun: Boolean(a.dryRun),
    debug: Boolean(a.debug),
    stdoutSeparator: last(a.stdoutSeparator),
    graphiteHost: last(a.graphiteHost),
    graphiteProtocol: last(a.graphiteProtocol),
    statsdHost: last(a.statsdHost),
    gmetricOptions: last(a.gmetricOptions),
    nscaHost: last(a.nscaHost),
    nscaServiceHostname: last(a.nscaServiceHostname),
    fromStart: Boolean(a.fromStart),
    config: last(a.config),
    maxLineBytes,
  };
}

/** Logster passes --parser-options to the parser's optparse as words split on single spaces. */
export function splitParserOptions(text: string | undefined): string[] {
  return text ? text.split(' ') : [];
}
