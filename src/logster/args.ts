// `sonde logster`'s command line: Logster's options, short flags and defaults (docs/compat.md,
// "Logster: command line"), read the way Python's optparse reads them (Logster is an optparse
// program): `--opt=value` and `--opt value`, `-pVALUE` and `-p VALUE`, grouped short flags
// (`-dD`), a unique prefix of a long option (`--metric-pre`), options anywhere among the
// arguments, `--` ending them, and a value option taking the next word whatever it looks like
// (`--parser-options "-l WARN"`).
// Hand-written rather than yargs: it is ~40 lines, matches optparse where yargs differs, and
// keeps ~25 ms of argument-parser start-up off every cron run.

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
  /** sonde's: pack -o statsd's lines into datagrams of at most this many bytes (Logster sends one per figure). */
  statsdPacketBytes: number | undefined;
  gmetricOptions: string;
  nscaHost: string | undefined;
  nscaServiceHostname: string | undefined;
  fromStart: boolean;
  config: string | undefined;
  maxLineBytes: number;
}

export class LogsterUsageError extends Error {}

export const LOGSTER_USAGE = 'Usage: sonde logster [options] PARSER LOGFILE';

interface OptionSpec {
  long: string;
  short?: string;
  /** Takes a value (the next word, or the rest of the word); otherwise a flag. */
  value: boolean;
  help: string;
  default?: string;
  choices?: readonly string[];
  /** Every occurrence is kept (--output); otherwise the last one wins, as optparse's store does. */
  repeat?: boolean;
  /** sonde's own, not Logster's: never makes a prefix that Logster reads as one of its options ambiguous. */
  extra?: boolean;
}

const OPTIONS: readonly OptionSpec[] = [
  { long: '--tailer', short: '-t', value: true, default: 'logtail', choices: ['logtail', 'pygtail'], help: 'Tailer whose state file names to use: logtail (logtail2 state) or pygtail' },
  { long: '--locker', value: true, default: 'fcntl', choices: ['fcntl', 'portalocker'], help: 'Accepted for compatibility; sonde always uses its own lock file' },
  { long: '--logtail', value: true, default: '/usr/sbin/logtail2', help: "Accepted for compatibility; sonde reads the log itself, continuing logtail2's state" },
  { long: '--metric-prefix', short: '-p', value: true, default: '', help: 'Prefix joined to every metric name' },
  { long: '--metric-suffix', short: '-x', value: true, help: 'Suffix joined to every metric name' },
  { long: '--parser-help', value: false, help: 'Print the options of the selected parser and exit' },
  { long: '--parser-options', value: true, help: 'Options for the parser, as one string, e.g. "-l WARN,ERROR"' },
  { long: '--state-dir', short: '-s', value: true, default: '/var/run', help: 'Where the state and lock files live' },
  { long: '--log-dir', short: '-l', value: true, default: '/var/log/logster', help: 'Where logster.log is written' },
  { long: '--log-conf', value: true, help: 'Accepted for compatibility (a Python logging config); ignored' },
  {
    long: '--output', short: '-o', value: true, repeat: true,
    help: `Where to send the figures; repeatable: ${LOGSTER_OUTPUTS.filter((o) => o !== 'cloudwatch').join(', ')}, or a handler of the --config file`,
  },
  { long: '--dry-run', short: '-d', value: false, help: 'Parse and print what would be sent; send nothing and keep the saved position' },
  { long: '--debug', short: '-D', value: false, help: 'Log more (to logster.log and stderr)' },
  { long: '--stdout-separator', value: true, default: '_', help: 'Joins prefix, name and suffix on stdout' },
  { long: '--graphite-host', value: true, help: "host:port of carbon's plaintext listener (required for -o graphite)" },
  { long: '--graphite-protocol', value: true, default: 'tcp', choices: ['tcp', 'udp'], help: 'tcp or udp' },
  { long: '--statsd-host', value: true, help: 'host:port of a StatsD server (required for -o statsd)' },
  {
    long: '--statsd-packet-bytes', value: true, extra: true,
    help: "Pack -o statsd's lines into datagrams of at most this many bytes (1432 on Ethernet, 512 across the internet, 8932 with jumbo frames) instead of Logster's one datagram per figure",
  },
  { long: '--gmetric-options', value: true, default: '-d 180 -c /etc/ganglia/gmond.conf', help: 'Options passed to gmetric' },
  { long: '--nsca-host', value: true, help: 'host:port of an NSCA daemon (required for -o nsca)' },
  { long: '--nsca-service-hostname', value: true, help: "<host_name> of the NSCA passive check (default: this host's name)" },
  { long: '--aws-key', value: true, help: 'Accepted so old crontab lines parse; -o cloudwatch is not supported' },
  { long: '--aws-secret-key', value: true, help: 'Accepted so old crontab lines parse; -o cloudwatch is not supported' },
  { long: '--from-start', value: false, extra: true, help: 'On a first run, parse the whole log instead of only recording its end' },
  { long: '--config', short: '-c', value: true, extra: true, help: 'A sonde.yaml whose handler sections can be named with -o (e.g. -o carbon for a graphite section named carbon), and whose plugin_paths has parser plugins that PARSER can name' },
  { long: '--max-line-bytes', value: true, default: '1048576', extra: true, help: 'Longer lines are counted and skipped' },
  { long: '--help', short: '-h', value: false, help: 'Show this help' },
];

const EPILOG =
  'Exit status: 0 sent (or first run: the end of the log recorded), 1 lock held or the run failed (the position is kept, the next run reads the same lines), 2 bad command line.';

/** `sonde logster --help`: the options with their defaults, one per line. */
export function logsterHelp(): string {
  const rows = OPTIONS.map((o) => {
    const flags = `${o.short ? `${o.short}, ` : '    '}${o.long}${o.value ? ' VALUE' : ''}`;
    const extra = [o.choices ? `one of ${o.choices.join(', ')}` : '', o.default !== undefined && o.default !== '' ? `default: ${o.default}` : ''].filter(Boolean).join('; ');
    return [flags, `${o.help}${extra ? ` (${extra})` : ''}`] as const;
  });
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  return [
    LOGSTER_USAGE,
    '',
    'Reads the lines added to LOGFILE since the last run, applies PARSER (a built-in such as PostfixLogster, a .js/.mjs parser plugin file, or with --config the name of a parser plugin in its plugin_paths) and sends the figures. A drop-in replacement for a Logster crontab line: same options, state files and output.',
    '',
    'Options:',
    ...rows.map(([f, h]) => `  ${f.padEnd(width)}${h}`),
    '',
    EPILOG,
    '',
  ].join('\n');
}

/** The option a word names: exact long name, a unique prefix of one (as optparse allows), or a short flag. */
function longOption(name: string): OptionSpec {
  const exact = OPTIONS.find((o) => o.long === name);
  if (exact) return exact;
  const prefixed = OPTIONS.filter((o) => o.long.startsWith(name));
  if (prefixed.length === 1) return prefixed[0]!;
  // `--statsd` meant --statsd-host to Logster, and still does.
  const logsters = prefixed.filter((o) => !o.extra);
  if (logsters.length === 1 && prefixed.length > 1) return logsters[0]!;
  if (prefixed.length > 1) throw new LogsterUsageError(`${name} is ambiguous: it could be ${prefixed.map((o) => o.long).join(', ')}`);
  throw new LogsterUsageError(`no such option: ${name}`);
}

/** Parses Logster's command line; throws LogsterUsageError (exit 2) with the problem named. */
export function parseLogsterArgs(argv: readonly string[]): LogsterArgs | { help: string } {
  const values = new Map<OptionSpec, string[]>();
  const positional: string[] = [];
  const set = (o: OptionSpec, v: string) => {
    if (o.choices && !o.choices.includes(v)) throw new LogsterUsageError(`option ${o.long}: invalid choice: '${v}' (choose from ${o.choices.map((c) => `'${c}'`).join(', ')})`);
    const list = values.get(o);
    if (list) list.push(v);
    else values.set(o, [v]);
  };
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    if (w === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const o = longOption(eq < 0 ? w : w.slice(0, eq));
      if (!o.value) {
        if (eq >= 0) throw new LogsterUsageError(`${o.long} option does not take a value`);
        set(o, 'true');
      } else if (eq >= 0) set(o, w.slice(eq + 1));
      else if (i + 1 < argv.length) set(o, argv[++i]!);
      else throw new LogsterUsageError(`${o.long} option requires an argument`);
    } else if (w.length > 1 && w.startsWith('-')) {
      // -dD is -d -D; -pweb is -p web; -p web takes the next word.
      for (let k = 1; k < w.length; k++) {
        const flag = `-${w[k]}`;
        const o = OPTIONS.find((x) => x.short === flag);
        if (!o) throw new LogsterUsageError(`no such option: ${flag}`);
        if (!o.value) {
          set(o, 'true');
          continue;
        }
        if (k + 1 < w.length) set(o, w.slice(k + 1));
        else if (i + 1 < argv.length) set(o, argv[++i]!);
        else throw new LogsterUsageError(`${flag} option requires an argument`);
        break;
      }
    } else positional.push(w);
  }
  const spec = (long: string) => OPTIONS.find((o) => o.long === long)!;
  const all = (long: string): string[] => values.get(spec(long)) ?? [];
  const last = (long: string): string | undefined => all(long).at(-1) ?? spec(long).default;
  const flag = (long: string): boolean => values.has(spec(long));
  if (flag('--help')) return { help: logsterHelp() };
  const outputs = all('--output');
  const parserHelp = flag('--parser-help');
  if (!parserHelp && positional.length !== 2) throw new LogsterUsageError('Supply at least two arguments: parser and logfile.');
  if (parserHelp && positional.length < 1) throw new LogsterUsageError('Name the parser whose options to print.');
  if (!parserHelp && outputs.length === 0) throw new LogsterUsageError('Supply where the data should be sent with -o (or --output).');
  const maxText = last('--max-line-bytes')!;
  const maxLineBytes = /^\d+$/.test(maxText) ? Number(maxText) : NaN;
  if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 64) throw new LogsterUsageError(`--max-line-bytes must be a whole number of at least 64, not "${maxText}"`);
  const packText = last('--statsd-packet-bytes');
  const statsdPacketBytes = packText === undefined ? undefined : /^\d+$/.test(packText) ? Number(packText) : NaN;
  if (statsdPacketBytes !== undefined && !(statsdPacketBytes >= 64 && statsdPacketBytes <= 65507)) {
    throw new LogsterUsageError(`--statsd-packet-bytes must be a whole number from 64 to 65507 (the most a UDP datagram carries), not "${packText}"`);
  }
  return {
    parser: positional[0]!,
    logFile: positional[1] ?? '',
    tailer: last('--tailer') as LogsterArgs['tailer'],
    locker: last('--locker')!,
    logtail: last('--logtail')!,
    metricPrefix: last('--metric-prefix')!,
    metricSuffix: last('--metric-suffix'),
    parserHelp,
    parserOptions: last('--parser-options'),
    stateDir: last('--state-dir')!,
    logDir: last('--log-dir')!,
    logConf: last('--log-conf'),
    outputs: [...new Set(outputs)],
    dryRun: flag('--dry-run'),
    debug: flag('--debug'),
    stdoutSeparator: last('--stdout-separator')!,
    graphiteHost: last('--graphite-host'),
    graphiteProtocol: last('--graphite-protocol') as LogsterArgs['graphiteProtocol'],
    statsdHost: last('--statsd-host'),
    statsdPacketBytes,
    gmetricOptions: last('--gmetric-options')!,
    nscaHost: last('--nsca-host'),
    nscaServiceHostname: last('--nsca-service-hostname'),
    fromStart: flag('--from-start'),
    config: last('--config'),
    maxLineBytes,
  };
}

/** Logster passes --parser-options to the parser's optparse as words split on single spaces. */
export function splitParserOptions(text: string | undefined): string[] {
  return text ? text.split(' ') : [];
}
