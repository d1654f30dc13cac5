// sonde logster's ganglia and nsca outputs against the real receivers: gmond (from Debian's
// ganglia-monitor) and the nsca daemon, each started on free loopback ports by the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from './helpers/carbon.js';
import { sonde } from './helpers/sonde.js';
import { tmpdir } from './helpers/tmp.js';

const sentLine = (i: number) => `Nov 23 10:00:00 mx1 postfix/smtp[1]: Q${i}: to=<u${i}@x.org>, relay=x[192.0.2.1]:25, delay=2, delays=0/0/0/0, dsn=2.0.0, status=sent (250 ok)\n`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const daemons: ChildProcess[] = [];
afterEach(() => {
  for (const d of daemons.splice(0)) d.kill('SIGKILL');
});

/** A log with `n` sent lines after a first run recorded its start; returns the run function. */
function setup(dir: string, n: number) {
  return logWith(dir, 'PostfixLogster', Array.from({ length: n }, (_, i) => sentLine(i)).join(''));
}

/** A log of `parser` that gets `text` after a first run recorded its start; returns the run function. */
function logWith(dir: string, parser: string, text: string) {
  const log = path.join(dir, `${parser}.log`);
  writeFileSync(log, '');
  const run = (...args: string[]) => sonde(['logster', '-s', path.join(dir, `state-${parser}`), '-l', dir, ...args, parser, log]);
  expect(run('-o', 'stdout').status).toBe(0);
  appendFileSync(log, text);
  return run;
}

/** gmond on free loopback ports, up once its XML port answers; `xml()` reads what it knows. */
async function startGmond(dir: string): Promise<{ conf: string; xml: () => Promise<string> }> {
  const [udp, tcp] = [await freePort(), await freePort()];
  const conf = path.join(dir, 'gmond.conf');
  writeFileSync(
    conf,
    `globals {\n  daemonize = no\n  setuid = no\n  debug_level = 0\n  send_metadata_interval = 0\n  host_dmax = 0\n  cleanup_threshold = 300\n}\ncluster { name = "sonde-test" }\nudp_send_channel { host = 127.0.0.1 port = ${udp} }\nudp_recv_channel { port = ${udp} bind = 127.0.0.1 }\ntcp_accept_channel { port = ${tcp} bind = 127.0.0.1 }\n`,
  );
  const gmond = spawn('/usr/sbin/gmond', ['-c', conf], { stdio: 'ignore' });
  daemons.push(gmond);
  for (let i = 0; i < 100; i++) {
    if (await readTcp(tcp).then(() => true, () => false)) break;
    await sleep(100);
  }
  return { conf, xml: () => readTcp(tcp) };
}

/** The nsca daemon on a free loopback port, writing to `cmd`; resolves once it accepts connections. */
async function startNsca(dir: string): Promise<{ port: number; cmd: string }> {
  const port = await freePort();
  const cmd = path.join(dir, 'nagios.cmd');
  writeFileSync(cmd, '');
  const cfg = path.join(dir, 'nsca.cfg');
  writeFileSync(
    cfg,
    `pid_file=${dir}/nsca.pid\nserver_address=127.0.0.1\nserver_port=${port}\ndebug=0\ncommand_file=${cmd}\nalternate_dump_file=${dir}/nsca.dump\naggregate_writes=0\nappend_to_file=1\nmax_packet_age=30\ndecryption_method=1\n`,
  );
  const nsca = spawn('/usr/sbin/nsca', ['-c', cfg, '-f'], { stdio: 'ignore' });
  daemons.push(nsca);
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((r) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), r(true)));
      c.once('error', () => r(false));
    });
    if (up) break;
    await sleep(100);
  }
  return { port, cmd };
}

/** Every `<METRIC>` gmond reports: name → [value, type, units]. */
const gmondMetrics = (xml: string) => new Map([...xml.matchAll(/<METRIC NAME="([^"]*)" VAL="([^"]*)" TYPE="([^"]*)" UNITS="([^"]*)"/g)].map((m) => [m[1]!, [m[2]!, m[3]!, m[4]!]]));

async function readTcp(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const c = net.connect(port, '127.0.0.1');
    c.setEncoding('utf8').on('data', (d: string) => (out += d));
    c.on('end', () => resolve(out));
    c.on('error', reject);
  });
}

describe('sonde logster to real receivers', () => {
  it('-o ganglia: gmetric delivers every figure to gmond, with its value, type and units', async () => {
    const dir = tmpdir();
    const run = setup(dir, 4);
    const { conf, xml: readXml } = await startGmond(dir);
    const r = run('-o', 'ganglia', '--gmetric-options', `-c ${conf}`, '-p', 'pf');
    expect([r.status, r.stderr]).toEqual([0, '']);
    let xml = '';
    for (let i = 0; i < 50 && !xml.includes('pf_pctSent'); i++) {
      await sleep(100);
      xml = await readXml();
    }
    const metric = (name: string) => new RegExp(`<METRIC NAME="${name}" VAL="([^"]*)" TYPE="([^"]*)" UNITS="([^"]*)"`).exec(xml)?.slice(1);
    // Four sent lines: the Postfix figures as Logster computes them, with Logster's units.
    expect(metric('pf_numSent')).toEqual(['4', 'float', 'Total Sent']);
    expect(metric('pf_pctSent')).toEqual(['100.0', 'float', 'Percentage Sent']);
    expect(metric('pf_avgDelay')?.slice(0, 2)).toEqual(['2.0', 'float']);
  }, 60_000);

  it('-o nsca: send_nsca delivers every figure to the nsca daemon as a passive check result', async () => {
    const dir = tmpdir();
    const run = setup(dir, 3);
    const { port, cmd } = await startNsca(dir);
    const r = run('-o', 'nsca', '--nsca-host', `127.0.0.1:${port}`, '--nsca-service-hostname', 'mx1', '-p', 'pf');
    expect(r.status).toBe(0);
    let got = '';
    for (let i = 0; i < 50 && !got.includes('pf_numSent'); i++) {
      await sleep(100);
      got = readFileSync(cmd, 'utf8');
    }
    const results = new Map([...got.matchAll(/PROCESS_SERVICE_CHECK_RESULT;mx1;(\w+);([^;\n]*);([^\n]*)/g)].map((m) => [m[1]!, [m[2]!, m[3]!]]));
    // send_nsca's fields: host, service (the metric), return code (the value), output (the units).
    expect(results.get('pf_numSent')).toEqual(['3', 'Total Sent']);
    expect(results.get('pf_numBounced')).toEqual(['0', 'Total Bounced']);
    expect(results.size).toBe(9);
  }, 60_000);

  it('-o ganglia: names and units from the log reach gmond as one metric each, sanitised', async () => {
    const dir = tmpdir();
    // METRIC_TIME names and a unit full of XML, shell and NSCA marks.
    const run = logWith(dir, 'MetricLogster', 'x METRIC_TIME metric=a"b<c>&d|e\x17;f value=5 ms"\'<&;|$x\nx METRIC_TIME metric=--name=x\'$(id)` value=7\n');
    const { conf, xml: readXml } = await startGmond(dir);
    const r = run('-o', 'ganglia', '--gmetric-options', `-c ${conf}`, '-p', 'pf');
    expect([r.status, r.stderr]).toEqual([0, '']);
    let metrics = new Map<string, string[]>();
    for (let i = 0; i < 50 && metrics.size < 6; i++) {
      await sleep(100);
      metrics = new Map([...gmondMetrics(await readXml())].filter(([name]) => name.startsWith('pf_')));
    }
    // By hand: each of " < > & | \x17 ; ' $ ( ) ` becomes _ (`-` and `=` are kept); the unit stops at `$`.
    expect(metrics).toEqual(
      new Map([
        ['pf_a_b_c__d_e__f.mean', ['5.0', 'float', 'ms______']],
        ['pf_a_b_c__d_e__f.median', ['5.0', 'float', 'ms______']],
        ['pf_a_b_c__d_e__f.90th_percentile', ['5.0', 'float', 'ms______']],
        ['pf_--name=x___id__.mean', ['7.0', 'float', '']],
        ['pf_--name=x___id__.median', ['7.0', 'float', '']],
        ['pf_--name=x___id__.90th_percentile', ['7.0', 'float', '']],
      ]),
    );
  }, 60_000);

  it('-o ganglia: JsonLogster\'s figures reach gmond (gmetric has no type int: int32 for an integer that fits, else double)', async () => {
    const dir = tmpdir();
    const run = logWith(dir, 'JsonLogster', `${JSON.stringify({ small: 42, big: 5_000_000_000, ratio: 0.5 })}\n`);
    const { conf, xml: readXml } = await startGmond(dir);
    const r = run('-o', 'ganglia', '--gmetric-options', `-c ${conf}`, '-p', 'pf');
    expect([r.status, r.stderr]).toEqual([0, '']);
    let metrics = new Map<string, string[]>();
    for (let i = 0; i < 50 && metrics.size < 3; i++) {
      await sleep(100);
      metrics = new Map([...gmondMetrics(await readXml())].filter(([name]) => name.startsWith('pf_')));
    }
    expect(new Map([...metrics].map(([k, v]) => [k, v.slice(0, 2)]))).toEqual(
      new Map([
        ['pf_small', ['42', 'int32']],
        ['pf_big', ['5000000000', 'double']],
        ['pf_ratio', ['0.5', 'double']],
      ]),
    );
  }, 60_000);

  it('-o nsca: a name with tabs and newlines is one service of one check result, not a forged one', async () => {
    const dir = tmpdir();
    // Unsanitised, send_nsca would read a second check result, for host mx3, from this key.
    const runJson = logWith(dir, 'JsonLogster', `${JSON.stringify({ 'svc\tmx2\t2\tforged\nmx3\tother': 1 })}\n`);
    const runMetric = logWith(dir, 'MetricLogster', 'x METRIC_TIME metric=semi;colon\x17mx3 value=5 ms;|perf=1\x17mx3\n');
    const { port, cmd } = await startNsca(dir);
    const args = ['-o', 'nsca', '--nsca-host', `127.0.0.1:${port}`, '--nsca-service-hostname', 'mx1', '-p', 'pf'];
    const dry = runJson(...args, '-d');
    expect([dry.status, dry.stdout]).toEqual([0, `echo 'mx1\tpf_svc_mx2_2_forged_mx3_other\t1\t' | /usr/sbin/send_nsca -H 127.0.0.1 -p ${port}\n`]);
    for (const run of [runJson, runMetric]) {
      const r = run(...args);
      expect([r.status, r.stderr]).toEqual([0, '']);
    }
    let got = '';
    for (let i = 0; i < 50 && !got.includes('90th_percentile'); i++) {
      await sleep(100);
      got = readFileSync(cmd, 'utf8');
    }
    const results = got.trim().split('\n').map((l) => /^\[\d+\] (.*)$/.exec(l)?.[1]);
    // Nagios's fields: host, service (the metric), return code (the value), output (the units).
    // With no units, as Logster's lines do, send_nsca reads a host check result: host, code, output.
    expect(results).toEqual([
      'PROCESS_HOST_CHECK_RESULT;mx1;0;1',
      'PROCESS_SERVICE_CHECK_RESULT;mx1;pf_semi_colon_mx3.mean;5;ms__perf=1_mx3',
      'PROCESS_SERVICE_CHECK_RESULT;mx1;pf_semi_colon_mx3.median;5;ms__perf=1_mx3',
      'PROCESS_SERVICE_CHECK_RESULT;mx1;pf_semi_colon_mx3.90th_percentile;5;ms__perf=1_mx3',
    ]);
  }, 60_000);
});
