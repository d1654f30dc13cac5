// Logster's outputs: the same lines, names and values as Logster's own, byte for byte, except that
// names and free text are sanitised so that nothing from a log can add a line or a field.
// Each submit resolves only when its destination accepted everything, and throws otherwise.
import { hostname } from 'node:os';
import type { ParsedMetric } from '../plugin-api.js';
import { GRAPHITE_CHARS, sanitizeDotted, STATSD_CHARS, type SegmentCharset } from '../model/naming.js';
import { pyStr } from '../model/py-number.js';
import type { LogsterArgs } from './args.js';

export interface LogsterOutput {
  readonly name: string;
  submit(metrics: readonly ParsedMetric[], timestamp: number): Promise<void>;
}

type Print = (line: string) => void;

const SEND_TIMEOUT_MS = 30_000;
const HOST_PORT = /^[\w.-]+:\d+$/;

/**
 * Logster's get_metric_name: prefix, name and suffix joined by the output's separator, each made
 * safe by the agent's sanitiser with the output's characters (`cs`). Names come from log content
 * (JSON keys, METRIC_COUNT names): a space or a newline there would forge a metric. The name is
 * sanitised first, so that one left empty (`""`, `...`) becomes `_` rather than the prefix alone;
 * then the whole, for the prefix, the suffix and the separator.
 */
export function metricName(a: Pick<LogsterArgs, 'metricPrefix' | 'metricSuffix'>, name: string, sep: string, cs: SegmentCharset = GRAPHITE_CHARS): string {
  let n = sanitizeDotted(name, cs);
  if (a.metricPrefix) n = a.metricPrefix + sep + n;
  if (a.metricSuffix) n = n + sep + a.metricSuffix;
  return sanitizeDotted(n, cs);
}

// Free text (units, the NSCA service host) goes into send_nsca's tab- and newline-separated input
// (and on to Nagios's `;`-separated command, where `|` starts perfdata), into gmond's XML, and into
// the shell-quoted --dry-run lines: there control characters and these marks become `_`.
const UNSAFE_TEXT = /[\u0000-\u001f\u007f"'`\\$;|<>&]/;
const UNSAFE_TEXT_ALL = new RegExp(UNSAFE_TEXT.source, 'g');

/** Units and other free text made safe for send_nsca's input, gmond's XML and a shell quote. */
export function sanitizeText(text: string): string {
  return UNSAFE_TEXT.test(text) ? text.replace(UNSAFE_TEXT_ALL, '_') : text;
}

const value = (m: ParsedMetric) => pyStr(m.value, m.float === true);

function splitHostPort(hp: string): { host: string; port: number } {
  const i = hp.lastIndexOf(':');
  return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
}

/** Validates the options an output needs; returns the problem, Logster's wording where it has one. */
export function outputProblem(name: string, a: LogsterArgs): string | undefined {
  switch (name) {
    case 'graphite':
      if (!a.graphiteHost) return "You must supply --graphite-host when using 'graphite' as an output type.";
      if (!HOST_PORT.test(a.graphiteHost)) return `Invalid host:port found for Graphite: '${a.graphiteHost}'`;
      return undefined;
    case 'statsd':
      if (!a.statsdHost) return "You must supply --statsd-host when using 'statsd' as an output type.";
      if (!HOST_PORT.test(a.statsdHost)) return `Invalid host:port found for StatsD: '${a.statsdHost}'`;
      return undefined;
    case 'nsca':
      if (!a.nscaHost) return "You must supply --nsca-host when using 'nsca' as an output type.";
      if (!HOST_PORT.test(a.nscaHost)) return `Invalid host:port found for NSCA: '${a.nscaHost}'`;
      return undefined;
    default:
      return undefined;
  }
}

// node:net, node:dgram and node:child_process are loaded by the output that uses them: loading
// child_process alone is ~14 ms of every cron run, and most crontab lines send to one place.

async function tcpSend(host: string, port: number, payload: string): Promise<void> {
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    const timer = setTimeout(() => sock.destroy(new Error(`no answer from ${host}:${port} within ${SEND_TIMEOUT_MS / 1000} s`)), SEND_TIMEOUT_MS);
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.once('connect', () => sock.end(payload));
    sock.once('close', (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve();
    });
  });
}

async function udpSend(host: string, port: number, datagrams: readonly string[]): Promise<void> {
  const { createSocket } = await import('node:dgram');
  return new Promise((resolve, reject) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    let left = datagrams.length;
    let failed = false;
    sock.once('error', (err) => {
      failed = true;
      sock.close();
      reject(err);
    });
    if (left === 0) {
      sock.close();
      resolve();
      return;
    }
    for (const d of datagrams) {
      sock.send(d, port, host, (err) => {
        if (failed) return;
        if (err) {
          failed = true;
          sock.close();
          reject(err);
        } else if (--left === 0) {
          sock.close();
          resolve();
        }
      });
    }
  });
}

/**
 * `--statsd-packet-bytes`: whole lines joined by newlines into datagrams of at most `max` bytes
 * (of UTF-8). A line longer than that goes alone, as Logster sends every line.
 */
export function packLines(lines: readonly string[], max: number): string[] {
  const out: string[] = [];
  let cur = '';
  let curBytes = 0;
  for (const line of lines) {
    const bytes = Buffer.byteLength(line);
    if (curBytes > 0 && curBytes + 1 + bytes > max) {
      out.push(cur);
      cur = '';
      curBytes = 0;
    }
    cur = curBytes === 0 ? line : `${cur}\n${line}`;
    curBytes += (curBytes === 0 ? 0 : 1) + bytes;
  }
  if (curBytes > 0) out.push(cur);
  return out;
}

async function run(cmd: string, args: readonly string[], stdin: string | undefined): Promise<void> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), SEND_TIMEOUT_MS);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${cmd}: ${e.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${cmd} exited with ${signal ?? code}${err ? `: ${err.trim()}` : ''}`));
    });
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

/** Splits an option string into words the way a shell would for plain and quoted words. */
export function shellWords(text: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

export function createOutput(name: string, a: LogsterArgs, print: Print): LogsterOutput {
  switch (name) {
    case 'stdout':
      return {
        name,
        async submit(ms, ts) {
          let text = '';
          for (const m of ms) text += `${ts} ${metricName(a, m.name, a.stdoutSeparator)} ${value(m)}\n`;
          print(text);
        },
      };
    case 'graphite': {
      const { host, port } = splitHostPort(a.graphiteHost!);
      return {
        name,
        async submit(ms, ts) {
          const lines = ms.map((m) => `${metricName(a, m.name, '.')} ${value(m)} ${ts}`);
          if (a.dryRun) return print(lines.map((l) => `${a.graphiteHost} ${l}\n`).join(''));
          if (a.graphiteProtocol === 'udp') await udpSend(host, port, lines.map((l) => `${l}\n`));
          else await tcpSend(host, port, lines.map((l) => `${l}\n`).join(''));
        },
      };
    }
    case 'statsd': {
      const { host, port } = splitHostPort(a.statsdHost!);
      return {
        name,
        async submit(ms) {
          const lines = ms.map((m) => `${metricName(a, m.name, '.', STATSD_CHARS)}:${value(m)}|${m.kind === 'counter' ? 'c' : 'g'}`);
          if (a.dryRun) return print(lines.map((l) => `${a.statsdHost} ${l}\n`).join(''));
          await udpSend(host, port, a.statsdPacketBytes === undefined ? lines : packLines(lines, a.statsdPacketBytes));
        },
      };
    }
    case 'ganglia': {
      const gmetric = '/usr/bin/gmetric';
      const opts = shellWords(a.gmetricOptions);
      return {
        name,
        async submit(ms) {
          for (const m of ms) {
            const n = metricName(a, m.name, '_');
            const v = value(m);
            // gmetric has no type `int` (Logster passes it, gmetric refuses it, and Logster ignores
            // the failure): an int goes as int32, or as double when it does not fit.
            const type = m.type === 'int' ? (Number.isInteger(m.value) && Math.abs(m.value) < 2 ** 31 ? 'int32' : 'double') : (m.type ?? 'float');
            const units = sanitizeText(m.units ?? '');
            if (a.dryRun) {
              print(`${gmetric} ${a.gmetricOptions} --name ${n} --value ${v} --type ${type} --units "${units}"\n`);
              continue;
            }
            await run(gmetric, [...opts, '--name', n, '--value', v, '--type', type, '--units', units], undefined);
          }
        },
      };
    }
    case 'nsca': {
      const sendNsca = '/usr/sbin/send_nsca';
      const { host, port } = splitHostPort(a.nscaHost!);
      const svcHost = sanitizeText(a.nscaServiceHostname ?? hostname());
      return {
        name,
        async submit(ms) {
          for (const m of ms) {
            const line = [svcHost, metricName(a, m.name, '_'), value(m), sanitizeText(m.units ?? '')].join('\t');
            if (a.dryRun) {
              print(`echo '${line}' | ${sendNsca} -H ${host} -p ${port}\n`);
              continue;
            }
            await run(sendNsca, ['-H', host, '-p', String(port)], `${line}\n`);
          }
        },
      };
    }
    default:
      throw new Error(`unknown output ${name}`);
  }
}
