// npm run bench:package: the Debian package's size, its install time in a Debian 13 root, and
// sonde run's CPU and RSS per interval from the installed package beside a run from the source
// tree: the same config, the same minute. Needs root (dpkg -i on this machine, systemd-nspawn);
// installs sonde here and purges it at the end.
//
//   node bench/package.mjs [--seconds 60] [--warmup 20]
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuMs, numberArg, rssKiB } from './lib.mjs';

const root = path.resolve(import.meta.dirname, '..');
const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;
const deb = path.join(root, 'build/deb', `sonde_${version}_all.deb`);
const seconds = numberArg('seconds', 60);
const warmup = numberArg('warmup', 20);
const INTERVAL_S = 1;

if (process.getuid?.() !== 0) {
  console.error('bench:package needs root: it installs the package with dpkg -i and boots a Debian 13 root');
  process.exit(1);
}
const sh = (cmd, opts = {}) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8', ...opts });

// --- size -------------------------------------------------------------------------------------
const size = statSync(deb).size;
const installed = Number(sh(`dpkg-deb -f ${deb} Installed-Size`).trim());

// --- install time in Debian 13 ------------------------------------------------------------------
// The root the package tests cache in /var/tmp/sonde-deb-test (made here the same way when missing).
const { rootDir } = await trixieRoot();
function nspawn(script) {
  return sh(`systemd-nspawn -q --register=no --keep-unit -D ${rootDir} --bind-ro=${path.dirname(deb)}:/deb /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c '${script}'`, { stdio: ['ignore', 'pipe', 'pipe'] });
}
nspawn('apt-get update -qq');
let t0 = performance.now();
nspawn(`cd /deb && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ./${path.basename(deb)} >/dev/null`);
const installWithNode = (performance.now() - t0) / 1000;
nspawn('DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq sonde >/dev/null');
t0 = performance.now();
nspawn(`cd /deb && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ./${path.basename(deb)} >/dev/null`);
const installAlone = (performance.now() - t0) / 1000;
const trixieNode = nspawn('node --version').trim();
rmSync(rootDir, { recursive: true, force: true });

// --- sonde run: installed beside the source tree ---------------------------------------------------
sh('dpkg --purge sonde >/dev/null 2>&1 || true');
sh(`dpkg -i ${deb} >/dev/null`);
const sinks = await Promise.all([sink(), sink()]);
const dropIn = (port) => `interval: ${INTERVAL_S}s\ncollectors:\n  loadavg: { interval: ${INTERVAL_S}s }\nhandlers:\n  graphite:\n    enabled: true\n    destinations: ["127.0.0.1:${port}"]\n`;
// The installed package reads /etc/sonde; the source tree a copy of the same files.
writeFileSync('/etc/sonde/conf.d/50-bench.yaml', dropIn(sinks[0].port));
const copy = mkdtempSync(path.join(os.tmpdir(), 'sonde-bench-package-'));
cpSync('/etc/sonde', path.join(copy, 'etc'), { recursive: true });
writeFileSync(path.join(copy, 'etc/conf.d/50-bench.yaml'), `${dropIn(sinks[1].port)}state_dir: ${path.join(copy, 'state')}\n`);
mkdirSync(path.join(copy, 'state'));
sh(`chown -R _sonde:_sonde ${copy}`);
const asSonde = ['setpriv', '--reuid=_sonde', '--regid=_sonde', '--init-groups', '--no-new-privs', '--'];
const runs = [
  { name: 'installed package (/usr/bin/sonde)', cmd: [...asSonde, '/usr/bin/sonde', 'run', '--config', '/etc/sonde/sonde.yaml'], sink: sinks[0] },
  { name: 'source tree (node dist/sonde.cjs)', cmd: [...asSonde, process.execPath, path.join(root, 'dist/sonde.cjs'), 'run', '--config', path.join(copy, 'etc/sonde.yaml')], sink: sinks[1] },
].map((r) => ({ ...r, child: spawn(r.cmd[0], r.cmd.slice(1), { stdio: 'ignore' }) }));
await sleep(warmup * 1000);
// setpriv execs the agent: the pid is the agent's own.
const start = runs.map((r) => ({ cpu: cpuMs(r.child.pid), lines: r.sink.lines }));
await sleep(seconds * 1000);
const rows = runs.map((r, i) => {
  const cpu = cpuMs(r.child.pid) - start[i].cpu;
  const rss = rssKiB(r.child.pid);
  return { name: r.name, cpuPerInterval: cpu / (seconds / INTERVAL_S), valuesPerInterval: (r.sink.lines - start[i].lines) / (seconds / INTERVAL_S), rss: rss.now / 1024, peak: rss.peak / 1024 };
});
for (const r of runs) r.child.kill('SIGTERM');
await sleep(2000);
for (const s of sinks) s.server.close();
sh('dpkg --purge sonde >/dev/null');
rmSync(copy, { recursive: true, force: true });

const f = (n, d = 2) => n.toFixed(d);
console.log(`\nnode ${process.version} here, ${trixieNode} in Debian 13; ${os.cpus().length} CPUs; ${INTERVAL_S} s interval, warm-up ${warmup} s, then ${seconds} s measured\n`);
console.log('| package | figure |');
console.log('|---|---:|');
console.log(`| sonde_${version}_all.deb | ${f(size / 1024, 0)} KiB |`);
console.log(`| installed size | ${installed} KiB |`);
console.log(`| apt-get install in Debian 13, nodejs and its libraries pulled in | ${f(installWithNode, 1)} s |`);
console.log(`| apt-get install in Debian 13, nodejs already there | ${f(installAlone, 1)} s |`);
console.log('');
console.log('| sonde run | values / interval | CPU ms / interval | RSS MB | peak RSS MB |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.name} | ${f(r.valuesPerInterval, 0)} | ${f(r.cpuPerInterval)} | ${f(r.rss, 1)} | ${f(r.peak, 1)} |`);
console.log(`| installed / source | ${f(rows[0].valuesPerInterval / rows[1].valuesPerInterval)} | ${f(rows[0].cpuPerInterval / rows[1].cpuPerInterval)} | ${f(rows[0].rss / rows[1].rss)} | ${f(rows[0].peak / rows[1].peak)} |`);

async function sink() {
  const s = { lines: 0, port: 0, server: undefined };
  s.server = createServer((sock) => {
    sock.on('data', (d) => {
      for (const b of d) if (b === 10) s.lines++;
    });
    sock.on('error', () => undefined);
  });
  await new Promise((r) => s.server.listen(0, '127.0.0.1', r));
  s.port = s.server.address().port;
  return s;
}

/** The Debian 13 tarball the package tests cache (made by them, or here the same way), unpacked fresh. */
async function trixieRoot() {
  const cache = '/var/tmp/sonde-deb-test';
  const tars = sh(`ls ${cache}/trixie-*.tar 2>/dev/null || true`).trim().split('\n').filter(Boolean);
  let tar = tars[0];
  if (!tar) {
    mkdirSync(cache, { recursive: true });
    tar = path.join(cache, 'trixie-bench.tar');
    sh(`mmdebstrap --quiet --format=tar --variant=apt --include=ca-certificates trixie ${tar} http://deb.debian.org/debian`);
  }
  const dir = path.join(cache, `bench-root-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  sh(`tar -C ${dir} -xf ${tar}`);
  return { rootDir: dir };
}
