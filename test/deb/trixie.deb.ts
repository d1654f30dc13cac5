// The package on Debian 13: lintian (this machine's and trixie's), apt-get install ./sonde_*.deb
// into a root made by mmdebstrap, the unit booted under systemd-nspawn with its whole sandbox,
// an upgrade that keeps an edited conffile and the state, and a purge.
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD, checkFiles, checkSamples, checkUser, DEB, DISKSPACE_TYPES, exposure, REPO, sinkDropIn, startSink, STAT_COMMAND, UPGRADE_VERSION, USER_COMMAND, VERSION, type Sink } from './expect.js';
import { CACHE_DIR, must, run, TrixieRoot, trixieTarball } from './root.js';

const log = (s: string) => process.stderr.write(`  [deb] ${s}\n`);
const UPGRADE_DIR = path.join(BUILD, 'upgrade');
const UPGRADE_DEB = `sonde_${UPGRADE_VERSION}_all.deb`;
const UPGRADE_CONF_LINE = '# (this line is new in the upgrade test package)';

/** E: and W: lines of a lintian run: the package must have none. */
function lintianComplaints(out: string): string[] {
  return out.split('\n').filter((l) => /^[EW]: /.test(l));
}

let root: TrixieRoot;
let sink: Sink;
const figures: Record<string, string> = {};

beforeAll(async () => {
  expect(existsSync(path.join(BUILD, DEB)), `${DEB} is missing: npm run test:deb builds it first (npm run deb)`).toBe(true);
  // The upgrade: the same tree as a higher version whose packaged config changed, so that dpkg
  // has an edited conffile and a new one to choose between.
  await must(process.execPath, [path.join(REPO, 'scripts/deb.mjs'), '--version', UPGRADE_VERSION, '--out', UPGRADE_DIR]);
  const tree = path.join(UPGRADE_DIR, `sonde-${UPGRADE_VERSION}`);
  appendFileSync(path.join(tree, 'debian/etc/sonde.yaml'), `${UPGRADE_CONF_LINE}\n`);
  await must('dpkg-buildpackage', ['-b', '-us', '-uc', '--no-pre-clean'], { cwd: tree });
  expect(existsSync(path.join(UPGRADE_DIR, UPGRADE_DEB))).toBe(true);

  const tar = await trixieTarball(log);
  root = await TrixieRoot.unpack(tar, path.join(CACHE_DIR, `root-${process.pid}`), BUILD);
  sink = await startSink();
}, 900_000);

afterAll(async () => {
  await root?.stop();
  await sink?.close();
  if (root) await run('rm', ['-rf', '--one-file-system', root.dir]);
  if (Object.keys(figures).length > 0) log(`figures: ${JSON.stringify(figures)}`);
}, 120_000);

describe('the package on Debian 13 (trixie)', () => {
  it('has no lintian errors or warnings with this machine\'s lintian', async () => {
    const r = await run('lintian', ['--pedantic', path.join(BUILD, DEB)]);
    expect(lintianComplaints(r.stdout + r.stderr)).toEqual([]);
    expect(r.code).toBe(0);
  }, 300_000);

  it("has no lintian errors or warnings with Debian 13's lintian", async () => {
    const r = await root.exec(`lintian --pedantic /deb/${DEB}`);
    const version = (await root.exec('lintian --version')).stdout.trim();
    log(`Debian 13's ${version}: ${lintianComplaints(r.stdout + r.stderr).length} errors and warnings`);
    expect(lintianComplaints(r.stdout + r.stderr)).toEqual([]);
    expect(r.code).toBe(0);
  }, 300_000);

  it('installs with apt-get install ./sonde_*.deb, pulling in nodejs, and says what to edit', async () => {
    const update = await root.exec('apt-get update -q');
    expect(update.code, update.stderr).toBe(0);
    // What `sudo sonde run` from a source checkout leaves: a state directory owned by root.
    await root.exec('mkdir -p /var/lib/sonde/collectors && echo {} > /var/lib/sonde/counters.json');
    const t0 = Date.now();
    const r = await root.exec(`cd /deb && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ./${DEB}`, 600_000);
    figures.install_seconds = ((Date.now() - t0) / 1000).toFixed(1);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Setting up nodejs /);
    expect(r.stdout).toContain('sonde: no handler is enabled in /etc/sonde/sonde.yaml');
    // Debian's own node satisfies the dependency (>= 20.19).
    figures.node = (await root.exec('node --version')).stdout.trim();
  }, 900_000);

  it('boots, and its files, owners and modes are the package\'s', async () => {
    await root.start();
    checkFiles(await root.mustSh(STAT_COMMAND));
    // systemd's StateDirectory= took the old state directory over, files and all.
    expect((await root.mustSh('stat -c %U:%G /var/lib/sonde/counters.json /var/lib/sonde/collectors')).trim().split('\n')).toEqual(['_sonde:_sonde', '_sonde:_sonde']);
    const conffiles = await root.mustSh("dpkg-query -W -f='${Conffiles}' sonde");
    expect(conffiles).toContain('/etc/sonde/sonde.yaml');
    expect(conffiles).toContain('/etc/logrotate.d/sonde');
    // The man page names sonde logster (made from the same text as --help).
    expect(await root.mustSh('zcat /usr/share/man/man1/sonde.1.gz')).toMatch(/SS "sonde logster"[\s\S]*\\-\\-state\\-dir/);
  }, 120_000);

  it('has the user _sonde: a system user with no login and no home, in groups _sonde and adm', async () => {
    checkUser(await root.mustSh(USER_COMMAND));
  });

  it('answers sonde --version and sonde check-config as _sonde', async () => {
    expect((await root.mustSh('runuser -u _sonde -- sonde --version')).trim()).toBe(VERSION);
    const check = await root.sh('runuser -u _sonde -- sonde check-config');
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain('/etc/sonde/sonde.yaml: OK');
    expect(check.stdout).toContain('collectors: cpu, memory, loadavg, diskspace, iostat, vmstat');
    expect(check.stderr).toContain('warning: no handler is enabled in /etc/sonde/sonde.yaml');
  });

  it('runs the example Logster crontab line as _sonde, with the state in /var/lib/sonde/logster', async () => {
    await root.mustSh("printf '%s\\n' 'Nov 22 10:00:00 mx1 postfix/smtp[1]: A1: to=<a@example.org>, relay=x[192.0.2.1]:25, delay=0.5, delays=0/0/0/0.5, dsn=2.0.0, status=sent (250 ok)' > /var/log/mail.log && chown root:adm /var/log/mail.log && chmod 640 /var/log/mail.log");
    const line = (await root.mustSh("grep -v '^#' /usr/share/doc/sonde/examples/cron.d-sonde-logster")).trim();
    const cmd = line.split(/\s+/).slice(6).join(' ').replace(/-o graphite --graphite-host \S+/, '-o stdout');
    expect(cmd).toMatch(/^\/usr\/bin\/sonde logster -s \/var\/lib\/sonde\/logster /);
    await root.mustSh(`runuser -u _sonde -- ${cmd}`); // a first run records the end of the log
    await root.mustSh("printf '%s\\n' 'Nov 22 10:00:05 mx1 postfix/smtp[1]: A2: to=<b@example.org>, relay=x[192.0.2.1]:25, delay=0.5, delays=0/0/0/0.5, dsn=2.0.0, status=sent (250 ok)' >> /var/log/mail.log");
    const out = await root.mustSh(`runuser -u _sonde -- ${cmd}`);
    expect(out).toMatch(/^\d{10} servers\.mx1\.postfix_numSent 1$/m);
    expect(await root.mustSh('ls /var/lib/sonde/logster')).toMatch(/\.state$/m);
    expect(await root.mustSh('stat -c %U /var/log/logster/logster.log')).toBe('_sonde\n');
  });

  it('remakes the code cache of sonde logster when nodejs is upgraded (a dpkg file trigger)', async () => {
    const before = (await root.mustSh('stat -c %Y.%Z /var/cache/sonde/sonde-logster.cache')).trim();
    await sleep(1100); // a new file gets a new time stamp
    const r = await root.sh('DEBIAN_FRONTEND=noninteractive apt-get install -y -q --reinstall nodejs', 300_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Processing triggers for sonde/);
    const after = (await root.mustSh('stat -c %Y.%Z /var/cache/sonde/sonde-logster.cache')).trim();
    expect(after).not.toBe(before);
    expect(Number((await root.mustSh('stat -c %s /var/cache/sonde/sonde-logster.cache')).trim())).toBeGreaterThan(10_000);
  }, 300_000);

  it('starts at boot, says once what to edit, and stays quiet', async () => {
    expect((await root.sh('systemctl is-active sonde')).stdout.trim()).toBe('active');
    expect((await root.sh('systemctl is-enabled sonde')).stdout.trim()).toBe('enabled');
    await sleep(12_000); // a collection window or two
    const warnings = await root.mustSh('journalctl -u sonde -p warning -o cat --no-pager -q');
    expect(warnings).toContain('no handler is enabled in /etc/sonde/sonde.yaml');
    const all = (await root.mustSh('journalctl -u sonde -o cat --no-pager -q _COMM=node')).trim().split('\n');
    expect(all.length, all.join('\n')).toBeLessThanOrEqual(3);
  }, 60_000);

  it('runs sandboxed as _sonde and sends every default collector to a local sink for 20 s', async () => {
    const fstype = (await root.mustSh('findmnt -n -o FSTYPE /')).trim();
    await root.mustSh("printf 'hit 1\\nhit 2\\n' > /var/log/sonde-pkgtest.log && chown root:adm /var/log/sonde-pkgtest.log && chmod 640 /var/log/sonde-pkgtest.log");
    writeFileSync(path.join(root.dir, 'etc/sonde/conf.d/50-test.yaml'), sinkDropIn(sink.port, '/var/log/sonde-pkgtest.log'));
    const pid = (await root.mustSh('systemctl show -p MainPID --value sonde')).trim();
    await root.mustSh('systemctl reload sonde');
    await sleep(20_000);
    expect((await root.mustSh('systemctl show -p MainPID --value sonde')).trim(), 'reload is not a restart').toBe(pid);
    checkSamples(sink.lines, DISKSPACE_TYPES.includes(fstype));
    figures.sink_lines_20s = String(sink.lines.length);
    // The process: user _sonde with adm, no capabilities, no new privileges, a seccomp filter.
    const status = await root.mustSh(`cat /proc/${pid}/status`);
    const uid = (await root.mustSh('id -u _sonde')).trim();
    expect(status).toMatch(new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s+${uid}\\s+${uid}$`, 'm'));
    expect(status).toMatch(/^CapBnd:\s+0+$/m);
    expect(status).toMatch(/^CapEff:\s+0+$/m);
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(status).toMatch(/^Seccomp:\s+2$/m);
    // ProtectSystem=strict: the whole tree is read-only for it, but for its state directory.
    const mounts = await root.mustSh(`cat /proc/${pid}/mountinfo`);
    expect(mounts).toMatch(/^\S+ \S+ \S+ \S+ \/ ro,/m);
    expect(mounts).toMatch(/^\S+ \S+ \S+ \S+ \/var\/lib\/sonde rw,/m);
    const errors = await root.mustSh('journalctl -u sonde -p err -o cat --no-pager -q');
    expect(errors.trim()).toBe('');
    expect((await root.mustSh('systemctl show -p NRestarts --value sonde')).trim()).toBe('0');
  }, 90_000);

  it('systemd-analyze verify passes and security rates the unit 2.5 or lower', async () => {
    const verify = await root.sh('systemd-analyze verify sonde.service');
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout + verify.stderr).not.toMatch(/sonde/);
    const online = exposure((await root.sh('systemd-analyze security --no-pager sonde.service')).stdout);
    const offline = exposure((await root.sh('systemd-analyze security --no-pager --offline=yes /usr/lib/systemd/system/sonde.service /lib/systemd/system/sonde.service')).stdout);
    figures.security_trixie = String(online);
    expect(online).toBeLessThanOrEqual(2.5);
    expect(offline).toBeLessThanOrEqual(2.5);
  }, 60_000);

  it('a bad config exits 78 and is not restarted in a loop', async () => {
    writeFileSync(path.join(root.dir, 'etc/sonde/conf.d/90-broken.yaml'), 'interval: ten seconds\n');
    await root.sh('systemctl restart sonde');
    await sleep(8_000); // longer than RestartSec
    const show = await root.mustSh('systemctl show -p ExecMainStatus -p NRestarts -p ActiveState sonde');
    expect(show).toContain('ExecMainStatus=78');
    expect(show).toContain('NRestarts=0');
    expect(show).toMatch(/ActiveState=(failed|inactive)/);
    try {
      // The refusal is an error in the journal, with the file and line.
      const journal = await root.mustSh('journalctl -u sonde -p err -o cat --no-pager -q -n 20');
      expect(journal).toContain('/etc/sonde/conf.d/90-broken.yaml:1');
    } finally {
      await root.mustSh('rm /etc/sonde/conf.d/90-broken.yaml && systemctl reset-failed sonde && systemctl start sonde');
    }
    expect((await root.sh('systemctl is-active sonde')).stdout.trim()).toBe('active');
  }, 60_000);

  it('an upgrade keeps the edited conffile, the state and the spool, and restarts the service', async () => {
    await root.mustSh("printf '%s\\n' '# edited by the operator' >> /etc/sonde/sonde.yaml && touch /var/lib/sonde/operator-marker");
    const before = await root.mustSh('ls -R /var/lib/sonde');
    const pid = (await root.mustSh('systemctl show -p MainPID --value sonde')).trim();
    const r = await root.sh(`cd /deb/upgrade && DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Options::=--force-confold ./${UPGRADE_DEB}`, 300_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((await root.mustSh("dpkg-query -W -f='${Version}' sonde"))).toBe(UPGRADE_VERSION);
    const conf = await root.mustSh('cat /etc/sonde/sonde.yaml');
    expect(conf).toContain('# edited by the operator');
    expect(conf).not.toContain(UPGRADE_CONF_LINE);
    expect(await root.mustSh('cat /etc/sonde/sonde.yaml.dpkg-dist')).toContain(UPGRADE_CONF_LINE);
    const after = await root.mustSh('ls -R /var/lib/sonde');
    for (const name of before.split(/\s+/).filter((n) => n && !n.endsWith(':'))) expect(after).toContain(name);
    await sleep(2_000);
    expect((await root.sh('systemctl is-active sonde')).stdout.trim()).toBe('active');
    expect((await root.mustSh('systemctl show -p MainPID --value sonde')).trim(), 'restarted by the upgrade').not.toBe(pid);
    // The new package rebuilt the code cache and the first-install hint is not repeated.
    expect(r.stdout).not.toContain('sonde: no handler is enabled');
  }, 300_000);

  it('apt-get purge removes the state, the config and the cache, and keeps the user', async () => {
    const r = await root.sh('DEBIAN_FRONTEND=noninteractive apt-get purge -y -q sonde', 300_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const left = await root.sh('ls -d /var/lib/sonde /etc/sonde /var/cache/sonde /var/log/logster /usr/lib/sonde /usr/bin/sonde 2>&1');
    expect(left.stdout.match(/No such file or directory/g)?.length, left.stdout).toBe(6);
    expect(await root.mustSh('getent passwd _sonde')).toMatch(/^_sonde:/);
    expect((await root.sh('systemctl is-active sonde')).stdout.trim()).not.toBe('active');
  }, 300_000);
});
