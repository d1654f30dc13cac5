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
  const log = path.join(dir, 'mail.log');
  writeFileSync(log, '');
  const run = (...args: string[]) => sonde(['logster', '-s', path.join(dir, 'state'), '-l', dir, ...args, 'PostfixLogster', log]);
  expect(run('-o', 'stdout').status).toBe(0);
  for (let i = 0; i < n; i++) appendFileSync(log, sentLine(i));
  return run;
}

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
    const [udp, tcp] = [await freePort(), await freePort()];
    const conf = path.join(dir, 'gmond.conf');
    writeFileSync(
      conf,
      `globals {\n  daemonize = no\n  setuid = no\n  debug_level = 0\n  send_metadata_interval = 0\n  host_dmax = 0\n  cleanup_threshold = 300\n}\ncluster { name = "sonde-test" }\nudp_send_channel { host = 127.0.0.1 port = ${udp} }\nudp_recv_channel { port = ${udp} bind = 127.0.0.1 }\ntcp_accept_channel { port = ${tcp} bind = 127.0.0.1 }\n`,
    );
    const gmond = spawn('/usr/sbin/gmond', ['-c', conf], { stdio: 'ignore' });
    daemons.push(gmond);
    const run = setup(dir, 4);
    // gmond is up when its XML port answers.
    for (let i = 0; i < 100; i++) {
      if (await readTcp(tcp).then(() => true, () => false)) break;
      await sleep(100);
    }
    const r = run('-o', 'ganglia', '--gmetric-options', `-c ${conf}`, '-p', 'pf');
    expect([r.status, r.stderr]).toEqual([0, '']);
    let xml = '';
    for (let i = 0; i < 50 && !xml.includes('pf_pctSent'); i++) {
      await sleep(100);
      xml = await readTcp(tcp);
    }
    const metric = (name: string) => new RegExp(`<METRIC NAME="${name}" VAL="([^"]*)" TYPE="([^"]*)" UNITS="([^"]*)"`).exec(xml)?.slice(1);
    // Four sent lines: the Postfix figures as Logster computes them, with Logster's units.
    expect(metric('pf_numSent')).toEqual(['4', 'float', 'Total Sent']);
    expect(metric('pf_pctSent')).toEqual(['100.0', 'float', 'Percentage Sent']);
    expect(metric('pf_avgDelay')?.slice(0, 2)).toEqual(['2.0', 'float']);
  }, 60_000);

  it('-o nsca: send_nsca delivers every figure to the nsca daemon as a passive check result', async () => {
    const dir = tmpdir();
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
    const run = setup(dir, 3);
    for (let i = 0; i < 100; i++) {
      const up = await new Promise<boolean>((r) => {
        const c = net.connect(port, '127.0.0.1');
        c.once('connect', () => (c.destroy(), r(true)));
        c.once('error', () => r(false));
      });
      if (up) break;
      await sleep(100);
    }
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
});
