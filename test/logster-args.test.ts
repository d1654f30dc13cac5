// sonde logster's command line against Python's optparse itself (Logster is an optparse program):
// the same option table declared in optparse reads each command line, and sonde must read it the same.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { logsterHelp, LogsterUsageError, parseLogsterArgs } from '../src/logster/args.js';

// Logster's options as its bin/logster declares them, plus sonde's three extras.
const PY = String.raw`
import json, optparse, sys
p = optparse.OptionParser()
p.add_option('--tailer', '-t', action='store', default='logtail', choices=('logtail', 'pygtail'))
p.add_option('--locker', action='store', default='fcntl', choices=('fcntl', 'portalocker'))
p.add_option('--logtail', action='store', default='/usr/sbin/logtail2')
p.add_option('--metric-prefix', '-p', action='store', default='')
p.add_option('--metric-suffix', '-x', action='store', default=None)
p.add_option('--parser-help', action='store_true', default=False)
p.add_option('--parser-options', action='store', default=None)
p.add_option('--gmetric-options', action='store', default='-d 180 -c /etc/ganglia/gmond.conf')
p.add_option('--graphite-host', action='store')
p.add_option('--graphite-protocol', action='store', default='tcp', choices=('tcp', 'udp'))
p.add_option('--statsd-host', action='store')
p.add_option('--stdout-separator', action='store', default='_')
p.add_option('--nsca-host', action='store')
p.add_option('--nsca-service-hostname', action='store')
p.add_option('--aws-key', action='store')
p.add_option('--aws-secret-key', action='store')
p.add_option('--state-dir', '-s', action='store', default='/var/run')
p.add_option('--log-dir', '-l', action='store', default='/var/log/logster')
p.add_option('--log-conf', action='store')
p.add_option('--output', '-o', action='append')
p.add_option('--dry-run', '-d', action='store_true', default=False)
p.add_option('--debug', '-D', action='store_true', default=False)
p.add_option('--from-start', action='store_true', default=False)
p.add_option('--config', '-c', action='store')
p.add_option('--max-line-bytes', action='store', default='1048576')
out = []
for argv in json.load(sys.stdin):
    try:
        o, a = p.parse_args(argv)
        out.append({'ok': {'positional': a, 'tailer': o.tailer, 'prefix': o.metric_prefix, 'suffix': o.metric_suffix,
            'parserOptions': o.parser_options, 'stateDir': o.state_dir, 'logDir': o.log_dir, 'outputs': list(dict.fromkeys(o.output or [])),
            'dryRun': o.dry_run, 'debug': o.debug, 'graphiteHost': o.graphite_host, 'protocol': o.graphite_protocol,
            'separator': o.stdout_separator, 'fromStart': o.from_start, 'config': o.config}})
    except SystemExit:
        out.append({'error': True})
print(json.dumps(out))
`;

const CASES: string[][] = [
  ['-o', 'stdout', 'PostfixLogster', '/var/log/mail.log'],
  ['--output=graphite', '--graphite-host=carbon:2003', '-p', 'servers.mx1.postfix', 'PostfixLogster', '/var/log/mail.log'],
  ['PostfixLogster', '-o', 'stdout', '/var/log/mail.log', '-o', 'statsd', '--statsd-host', 'statsd:8125'],
  ['-pweb', '-xsfx', '-s/tmp/st', '-ostdout', 'SampleLogster', 'access.log'],
  ['-dD', '-o', 'stdout', 'PostfixLogster', 'mail.log'],
  ['--parser-options', '-l WARN,ERROR', '-o', 'stdout', 'Log4jLogster', 'app.log'],
  ['--parser-options=-l ERROR', '-o', 'stdout', 'Log4jLogster', 'app.log'],
  ['--metric-pre', 'abbrev', '--dry', '-o', 'stdout', 'PostfixLogster', 'mail.log'],
  ['--state-dir', '/a', '--state-dir', '/b', '-o', 'stdout', 'PostfixLogster', 'mail.log'],
  ['-o', 'stdout', '--', 'PostfixLogster', '-odd-name.log'],
  ['-t', 'pygtail', '--graphite-protocol', 'udp', '-o', 'graphite', '--graphite-host', 'h:1', 'P', 'f'],
  ['--stdout-separator', '.', '--from-start', '-c', '/etc/sonde/sonde.yaml', '-o', 'carbon', 'P', 'f'],
  ['--log', '/x', '-o', 'stdout', 'P', 'f'], // ambiguous: --logtail, --log-dir, --log-conf
  ['--no-such', '-o', 'stdout', 'P', 'f'],
  ['-z', '-o', 'stdout', 'P', 'f'],
  ['-t', 'gzip', '-o', 'stdout', 'P', 'f'],
  ['--graphite-protocol=sctp', '-o', 'stdout', 'P', 'f'],
  ['--dry-run=yes', '-o', 'stdout', 'P', 'f'],
  ['-o', 'stdout', 'P', 'f', '-p'],
];

describe('sonde logster command line', () => {
  it('reads every command line as optparse does (values, defaults, repeats, errors)', () => {
    const py = JSON.parse(execFileSync('python3', ['-c', PY], { input: JSON.stringify(CASES), encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] })) as Record<string, unknown>[];
    const ours = CASES.map((argv) => {
      try {
        const a = parseLogsterArgs(argv);
        if ('help' in a) return { help: true };
        return {
          ok: {
            positional: [a.parser, a.logFile], tailer: a.tailer, prefix: a.metricPrefix, suffix: a.metricSuffix ?? null,
            parserOptions: a.parserOptions ?? null, stateDir: a.stateDir, logDir: a.logDir, outputs: a.outputs, dryRun: a.dryRun,
            debug: a.debug, graphiteHost: a.graphiteHost ?? null, protocol: a.graphiteProtocol, separator: a.stdoutSeparator,
            fromStart: a.fromStart, config: a.config ?? null,
          },
        };
      } catch (err) {
        if (err instanceof LogsterUsageError) return { error: true };
        throw err;
      }
    });
    for (let i = 0; i < CASES.length; i++) expect({ argv: CASES[i], got: ours[i] }).toEqual({ argv: CASES[i], got: py[i] });
  });

  it('names the problem in each usage error', () => {
    const problem = (argv: string[]) => {
      try {
        parseLogsterArgs(argv);
      } catch (err) {
        return (err as Error).message;
      }
      return 'no error';
    };
    expect(problem(['--log', '/x', '-o', 'stdout', 'P', 'f'])).toMatch(/--log is ambiguous.*--log-dir/);
    expect(problem(['--no-such', 'P', 'f'])).toBe('no such option: --no-such');
    expect(problem(['-o', 'stdout', 'P', 'f', '-p'])).toBe('-p option requires an argument');
    expect(problem(['-t', 'gzip', '-o', 'stdout', 'P', 'f'])).toContain("invalid choice: 'gzip'");
    expect(problem(['-o', 'stdout', 'P'])).toContain('parser and logfile');
    expect(problem(['P', 'f'])).toContain('-o');
    expect(problem(['--max-line-bytes', '1k', '-o', 'stdout', 'P', 'f'])).toContain('"1k"');
  });

  it('--help lists every option with its short form and default', () => {
    const r = parseLogsterArgs(['--help']);
    expect('help' in r).toBe(true);
    const help = logsterHelp();
    for (const needle of ['-p, --metric-prefix VALUE', '-s, --state-dir VALUE', 'default: /var/run', '-o, --output VALUE', '-d, --dry-run', 'one of tcp, udp', 'Exit status']) {
      expect(help).toContain(needle);
    }
  });
});
