// What `sonde new` writes: for each kind of plugin, a plugin file that works as it is, a README
// with its options, and one golden case whose expectations were worked out by hand (they are
// written in the comments of each expectation), so that `sonde test` passes on the new folder.

export type PluginKind = 'collector' | 'parser' | 'handler';

/** A file of the new folder: its path inside the folder and its text. */
export interface TemplateFile {
  readonly path: string;
  readonly text: string;
}

const header = (name: string, kind: PluginKind, run: string) =>
  `// ${name}: a sonde ${kind} plugin, made by "sonde new ${kind} ${name}".
// ${run}
// Test it: sonde test .   (runs the cases in testcases/; --update rewrites their expectations)
// The API it gets is typed for editors through the JSDoc below; the file needs no imports from sonde.
`;

function collector(name: string): TemplateFile[] {
  return [
    {
      path: `${name}.mjs`,
      text: `${header(name, 'collector', `Try it: sonde collect ./${name}.mjs   (runs it twice, 1 s apart, and prints Graphite lines)`)}
/** @param {import('sonde/plugin').Api} api */
export default (api) =>
  api.defineCollector({
    name: '${name}',
    description: 'Load averages and process counts from /proc/loadavg, and forks per second from /proc/stat',
    schema: api.z.object({
      averages: api.z
        .array(api.z.enum(['1', '5', '15']))
        .default(['1'])
        .describe('Which load averages to report, by minutes: load1, load5, load15'),
    }),
    async collect(ctx) {
      // "0.50 0.40 0.30 2/345 6789": three load averages, running/total processes, the last pid.
      const fields = (await ctx.proc.read('loadavg')).trim().split(/\\s+/);
      const column = { 1: 0, 5: 1, 15: 2 };
      for (const minutes of ctx.config.averages) ctx.emit(\`load\${minutes}\`, Number(fields[column[minutes]]), { precision: 2 });
      const [running, total] = (fields[3] ?? '').split('/').map(Number);
      ctx.emit('processes.running', running);
      ctx.emit('processes.total', total);
      // "processes N" in /proc/stat counts the forks since boot: a counter, reported as a rate
      // (nothing on the first run; ctx.rate divides by the time measured between runs).
      const forks = /^processes (\\d+)$/m.exec(await ctx.proc.read('stat'));
      if (forks) ctx.rate('forks', Number(forks[1]), { precision: 2 });
    },
  });
`,
    },
    {
      path: 'README.md',
      text: `# ${name} (a sonde collector)

Load averages and process counts from \`/proc/loadavg\`, and forks per second from \`/proc/stat\`.
Metrics, below \`<prefix>.<host>.${name}\`: \`load1\` (and \`load5\`, \`load15\` when asked for),
\`processes.running\`, \`processes.total\`, and from the second run \`forks\` (per second).

## Options

| Option | Default | Meaning |
|---|---|---|
| \`averages\` | \`['1']\` | Which load averages to report, by minutes: \`'1'\`, \`'5'\`, \`'15'\` |

Besides these, its section takes the keys every collector section has (\`enabled\`, \`interval\`,
\`timeout\`, \`path\`, ...): they belong to sonde and cannot be plugin options.

## Use

    # in sonde.yaml (or conf.d/*.yaml), with this folder in plugin_paths:
    collectors:
      ${name}:
        averages: ['1', '15']

Preview it on this host: \`sonde collect ./${name}.mjs\`. Test it: \`sonde test .\`

## Tests

\`testcases/<case>/\` holds \`config.yaml\` (the options), a recorded \`/proc\` per sample
(\`sample0/proc/\`, \`sample1/proc/\`, taken 10 s apart) and the lines expected from each sample
(\`sample0.expected\`, ...). See "sonde test" in sonde's docs/plugin-kit.md.
`,
    },
    { path: 'testcases/two-samples/config.yaml', text: `averages: ['1', '15']\n` },
    { path: 'testcases/two-samples/sample0/proc/loadavg', text: '0.50 0.40 0.30 2/345 6789\n' },
    { path: 'testcases/two-samples/sample0/proc/stat', text: 'cpu  100 0 50 1000 5 0 2 0 0 0\nprocesses 1000\nprocs_running 2\n' },
    { path: 'testcases/two-samples/sample1/proc/loadavg', text: '1.25 0.60 0.35 3/350 7039\n' },
    { path: 'testcases/two-samples/sample1/proc/stat', text: 'cpu  130 0 60 1090 5 0 2 0 0 0\nprocesses 1250\nprocs_running 3\n' },
    {
      path: 'testcases/two-samples/sample0.expected',
      text: `# loadavg "0.50 0.40 0.30 2/345 6789" with averages 1 and 15; no forks rate on a first run
${name}.load1 0.50
${name}.load15 0.30
${name}.processes.running 2
${name}.processes.total 345
`,
    },
    {
      path: 'testcases/two-samples/sample1.expected',
      text: `# loadavg "1.25 0.60 0.35 3/350 7039"; forks: (1250 - 1000) / 10 s = 25 per second
${name}.forks 25.00
${name}.load1 1.25
${name}.load15 0.35
${name}.processes.running 3
${name}.processes.total 350
`,
    },
  ];
}

function parser(name: string): TemplateFile[] {
  return [
    {
      path: `${name}.mjs`,
      text: `${header(name, 'parser', `Try it: sonde logster --parser-options "-l ERROR,WARN" ./${name}.mjs /var/log/app.log   (or the logs collector, with this folder in plugin_paths)`)}
/** @param {import('sonde/plugin').Api} api */
export default (api) =>
  api.defineParser({
    name: '${name}',
    aliases: [],
    description: 'Lines per second by log level: a line counts for the first of the levels that is a word of its own in it',
    schema: api.z.object({
      levels: api.z.string().default('ERROR,WARN').describe('The levels to count, comma-separated; each is reported as a metric of its own'),
    }),
    // sonde logster --parser-options "-l ERROR,WARN,INFO" sets \`levels\`.
    flags: [{ long: '--levels', short: '-l', key: 'levels' }],
    create(options) {
      const levels = options.levels.split(',').map((l) => l.trim()).filter((l) => l.length > 0);
      const escaped = levels.map((l) => l.replace(/[.*+?^\${}()|[\\]\\\\]/g, '\\\\$&'));
      const word = new RegExp(\`\\\\b(\${escaped.join('|')})\\\\b\`);
      const counts = new Map(levels.map((l) => [l, 0]));
      return {
        // Called for every line, without its newline. No I/O here; a line that does not match is skipped.
        parseLine(line) {
          const m = word.exec(line);
          if (m) counts.set(m[1], counts.get(m[1]) + 1);
        },
        // The figures since the last report, per second over durationSeconds (Logster's way; 0 means 1), then reset.
        report(durationSeconds) {
          const d = durationSeconds > 0 ? durationSeconds : 1;
          const out = levels.map((l) => ({ name: l, value: counts.get(l) / d, float: true, units: 'Lines per sec' }));
          for (const l of levels) counts.set(l, 0);
          return out;
        },
      };
    },
  });
`,
    },
    {
      path: 'README.md',
      text: `# ${name} (a sonde log parser)

Lines per second by log level: a line counts for the first of the \`levels\` that stands as a word
of its own in it. One metric per level (\`ERROR\`, \`WARN\`), below the parser's metric path.

## Options

| Option | Flag | Default | Meaning |
|---|---|---|---|
| \`levels\` | \`-l\`, \`--levels\` | \`ERROR,WARN\` | The levels to count, comma-separated |

## Use

    sonde logster --parser-options "-l ERROR,WARN,INFO" ./${name}.mjs /var/log/app.log

or the \`logs\` collector, with this folder in \`plugin_paths\`:

    collectors:
      logs:
        files:
          - path: /var/log/app.log
            parser: ${name}
            options: { levels: 'ERROR,WARN' }

Test it: \`sonde test .\`

## Tests

\`testcases/<case>/\` holds \`input.log\`, \`config.yaml\` (the options) and the report expected
after the whole input at a duration of D seconds in \`expected-<D>.txt\`. See "sonde test" in
sonde's docs/plugin-kit.md.
`,
    },
    { path: 'testcases/levels/config.yaml', text: 'levels: ERROR,WARN\n' },
    {
      path: 'testcases/levels/input.log',
      text: '2026-11-22 10:00:00 INFO started\n2026-11-22 10:00:01 WARN disk 91% full\n2026-11-22 10:00:02 ERROR cannot reach db\n2026-11-22 10:00:03 ERROR cannot reach db\n2026-11-22 10:00:04 INFO ERRORS and ERROR_COUNT are other words, not the level\n',
    },
    // Hand-computed: 2 ERROR lines and 1 WARN line; per second over 1 s and over 60 s (2/60, 1/60 as Python prints them).
    { path: 'testcases/levels/expected-1.txt', text: 'ERROR 2.0\nWARN 1.0\n' },
    { path: 'testcases/levels/expected-60.txt', text: 'ERROR 0.03333333333333333\nWARN 0.016666666666666666\n' },
  ];
}

function handler(name: string): TemplateFile[] {
  return [
    {
      path: `${name}.mjs`,
      text: `${header(name, 'handler', `Try it: put this folder in plugin_paths and a "handlers: { ${name}: { file: /tmp/${name}.txt } }" section in the config`)}
import { appendFile } from 'node:fs/promises';

/** @param {import('sonde/plugin').Api} api */
export default (api) =>
  api.defineHandler({
    name: '${name}',
    description: 'Appends samples to a file as Graphite plaintext lines (path value timestamp)',
    schema: api.z.object({
      file: api.z.string().min(1).default('/var/tmp/${name}.txt').describe('The file the lines are appended to; created if missing'),
    }),
    // Resolve only once the batch is stored; throw to have sonde retry it later (with backoff).
    async send(batch, ctx) {
      let out = '';
      for (const s of batch) out += api.plaintextLine(ctx.path(s.name), s.value, s.precision, s.timestamp);
      await appendFile(ctx.config.file, out);
    },
  });
`,
    },
    {
      path: 'README.md',
      text: `# ${name} (a sonde handler)

Appends every sample to a file as a Graphite plaintext line: \`<path> <value> <unix seconds>\`.

## Options

| Option | Default | Meaning |
|---|---|---|
| \`file\` | \`/var/tmp/${name}.txt\` | The file the lines are appended to; created if missing |

Besides these, its section takes the keys every handler section has (\`enabled\`, \`batch_size\`,
\`flush_interval\`, \`send_timeout\`, \`spool\`, ...): they belong to sonde and cannot be plugin options.

## Use

    handlers:
      ${name}:
        file: /var/tmp/${name}.txt

Test it: \`sonde test .\`

## Tests

\`testcases/<case>/\` holds \`config.yaml\` (the options; \`\${SINK_FILE}\` is a file the kit
provides), \`samples.txt\` (the batches sent, split at blank lines: \`<path> <value> <unix seconds>
[kind] [precision]\`) and \`expected.file\`, the bytes the file must hold afterwards. Paths render
as \`servers.testhost.<path>\`. See "sonde test" in sonde's docs/plugin-kit.md.
`,
    },
    { path: 'testcases/two-batches/config.yaml', text: 'file: ${SINK_FILE}\n' },
    {
      path: 'testcases/two-batches/samples.txt',
      text: '# first batch: two CPU figures with 2 decimals\ncpu.total.user 20.5 1700000000 gauge 2\ncpu.total.idle 79.5 1700000000 gauge 2\n\n# second batch, 10 s later\nloadavg.01 0.25 1700000010\n',
    },
    {
      path: 'testcases/two-batches/expected.file',
      text: 'servers.testhost.cpu.total.user 20.50 1700000000\nservers.testhost.cpu.total.idle 79.50 1700000000\nservers.testhost.loadavg.01 0.25 1700000010\n',
    },
  ];
}

export function templateFiles(kind: PluginKind, name: string): TemplateFile[] {
  switch (kind) {
    case 'collector':
      return collector(name);
    case 'parser':
      return parser(name);
    case 'handler':
      return handler(name);
  }
}
