// Writes the man page sonde(1) from the same text as --help: `sonde --help`, each command's
// --help and `sonde logster --help`, laid out for 80 columns, plus the files, signals and exit
// status an installed sonde has. Usage: node scripts/man.mjs OUT.1 [DATE]; DATE (YYYY-MM-DD,
// the package's changelog date) keeps the page reproducible.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const [out, date = new Date().toISOString().slice(0, 10)] = process.argv.slice(2);
if (!out) {
  console.error('usage: node scripts/man.mjs OUT.1 [YYYY-MM-DD]');
  process.exit(64);
}
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
// man indents verbatim text by 7 columns: 72 keeps every line inside 80.
const WIDTH = 72;

const help = (...args) =>
  execFileSync(process.execPath, ['dist/sonde.cjs', ...args, '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: String(WIDTH) } }).trimEnd();

/** Wraps lines longer than WIDTH at spaces, continuing under the line's own indent plus two (or its help column). */
function wrap(text) {
  const lines = [];
  for (const line of text.split('\n')) {
    if (line.length <= WIDTH) {
      lines.push(line);
      continue;
    }
    // An option line ("  -s, --state-dir VALUE    Where ...") continues under its help column.
    const col = /^(\s*-.*?\s{2,})\S/.exec(line)?.[1].length ?? line.search(/\S/) + 2;
    let rest = line;
    let first = true;
    while (rest.length > WIDTH) {
      let cut = rest.lastIndexOf(' ', WIDTH);
      if (cut <= col) cut = rest.indexOf(' ', WIDTH);
      if (cut < 0) break;
      lines.push(rest.slice(0, cut).trimEnd());
      rest = ' '.repeat(col) + rest.slice(cut + 1).trimStart();
      first = false;
    }
    if (!first || rest.trim() !== '') lines.push(rest);
  }
  return lines.join('\n');
}

/** roff-safe verbatim text: backslashes doubled, a line starting with . or ' protected, hyphens kept as typed. */
const verbatim = (text) =>
  text
    .split('\n')
    .map((l) => l.replaceAll('\\', '\\e').replaceAll('-', '\\-').replace(/^([.'])/, '\\&$1'))
    .join('\n');

const block = (text) => `.nf\n${verbatim(wrap(text))}\n.fi\n`;
const para = (text) => `${verbatim(text)}\n`;

const top = help();
const commands = [...top.matchAll(/^ {2}sonde (\S+)/gm)].map((m) => m[1]);
const description = top.split('\n\n')[0].replace(/\s+/g, ' ').replace(/^sonde: /, '');

let page = '';
page += `.TH SONDE 1 "${date}" "sonde ${pkg.version}" "User Commands"\n`;
page += '.SH NAME\n';
page += `sonde \\- ${verbatim(description)}\n`;
page += '.SH SYNOPSIS\n';
page += '.B sonde\n.I command\n.RI [ options ]\n.br\n';
page += '.B sonde logster\n.RI [ options ] " PARSER LOGFILE"\n';
page += '.SH DESCRIPTION\n';
page += para(
  'sonde runs collector plugins on a schedule aligned to the wall clock and hands their samples to handler plugins (Graphite\'s carbon, or Graphite lines on standard output). Metric names are Diamond\'s; "sonde logster" is a drop-in replacement for a Logster crontab line. The Debian package runs "sonde run" as the systemd service sonde.service, as the user _sonde.',
);
page += block(top);
page += '.SH COMMANDS\n';
for (const c of commands) {
  page += `.SS "sonde ${c}"\n`;
  page += block(help(c));
}
page += '.SH FILES\n';
const files = [
  ['/etc/sonde/sonde.yaml', 'The configuration (the default --config). "sonde config" prints a complete one, every option with its default and help; "sonde list NAME" explains one plugin.'],
  ['/etc/sonde/conf.d/*.yaml', 'Drop-ins, merged over sonde.yaml in name order.'],
  ['/etc/sonde/plugins/', 'Plugin files (*.js, *.mjs) loaded at start and on reload (plugin_paths).'],
  ['/var/lib/sonde/', 'Counter state, log offsets and the disk spool (state_dir); owned by _sonde.'],
  ['/var/lib/sonde/logster/', 'A place for the state files of "sonde logster" run from cron as _sonde (-s).'],
  ['/var/log/logster/logster.log', 'The log of "sonde logster" (its default --log-dir), rotated by /etc/logrotate.d/sonde.'],
  ['/var/cache/sonde/sonde-logster.cache', 'V8\'s code cache of "sonde logster", made for the installed node by the package.'],
  ['/usr/share/doc/sonde/examples/', 'A Logster crontab line, a graphite and a logs drop-in.'],
];
for (const [f, what] of files) page += `.TP\n.I ${verbatim(f)}\n${para(what)}`;
page += '.SH SIGNALS\n';
page += '.TP\n.B SIGTERM, SIGINT\n' + para('"sonde run" stops collecting, flushes every handler for up to shutdown_timeout and exits 0.');
page += '.TP\n.B SIGHUP\n' + para('"sonde run" reloads the configuration; "systemctl reload sonde" sends it. An invalid new configuration is logged and the running one is kept.');
page += '.SH EXIT STATUS\n';
page += para('0 success; 1 a failed run (a collector failed, samples could not be delivered, another sonde holds the pidfile); 64 a bad command line; 78 an invalid configuration (EX_CONFIG; the service is not restarted then). sonde logster keeps Logster\'s: 0 sent, 1 lock held or the run failed, 2 a bad command line.');
page += '.SH SEE ALSO\n';
page += '.BR systemctl (1),\n.BR journalctl (1),\n.BR crontab (5),\n.BR logrotate (8)\n';
writeFileSync(out, page);
