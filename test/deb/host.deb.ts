// The package on this machine (Debian 12 with its Node 20): dpkg -i, the files and the user, the
// commands as _sonde, the unit's ExecStart run as _sonde with setpriv for 20 s (this machine's
// PID 1 is not systemd), systemd-analyze on the installed unit, and a purge.
import { spawn } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD, checkFiles, checkSamples, checkUser, DEB, DISKSPACE_TYPES, exposure, sinkDropIn, startSink, STAT_COMMAND, USER_COMMAND, VERSION, type Sink } from './expect.js';
import { must, run } from './root.js';

const TEST_LOG = '/var/log/sonde-pkgtest-host.log';
const DROP_IN = '/etc/sonde/conf.d/50-test.yaml';
let sink: Sink;

async function purge(): Promise<void> {
  await run('dpkg', ['--purge', 'sonde']);
}

beforeAll(async () => {
  await purge(); // a run that was interrupted left it installed
  // What `sudo sonde run` from a source checkout leaves: a state directory owned by root.
  mkdirSync('/var/lib/sonde/collectors', { recursive: true });
  writeFileSync('/var/lib/sonde/counters.json', '{}\n');
  chownSync('/var/lib/sonde', 0, 0);
  sink = await startSink();
}, 120_000);

afterAll(async () => {
  await purge();
  rmSync(TEST_LOG, { force: true });
  await sink?.close();
}, 120_000);

describe('the package on this Debian 12 machine', () => {
  it('installs with dpkg -i against this machine\'s nodejs and adduser', async () => {
    const r = await run('dpkg', ['-i', path.join(BUILD, DEB)]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('sonde: no handler is enabled in /etc/sonde/sonde.yaml');
    // No systemd runs the service here to take the old state directory over: postinst says so, and what to run.
    expect(r.stderr).toMatch(/^sonde: \/var\/lib\/sonde exists and belongs to root:root, not _sonde:_sonde: .* give it and everything in it to _sonde:_sonde/m);
    await must('chown', ['-R', '_sonde:_sonde', '/var/lib/sonde']);
    await must('chmod', ['0750', '/var/lib/sonde']); // as StateDirectoryMode= would
    const node = (await must('node', ['--version'])).trim();
    expect(node).toMatch(/^v2\d\./);
  }, 120_000);

  it('has the package\'s files, owners and modes, and the user _sonde', async () => {
    checkFiles(await must('sh', ['-c', STAT_COMMAND]));
    checkUser(await must('sh', ['-c', USER_COMMAND]));
  });

  it('answers sonde --version and sonde check-config as _sonde', async () => {
    expect((await must('runuser', ['-u', '_sonde', '--', 'sonde', '--version'])).trim()).toBe(VERSION);
    const check = await run('runuser', ['-u', '_sonde', '--', 'sonde', 'check-config']);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stderr).toContain('warning: no handler is enabled in /etc/sonde/sonde.yaml');
  });

  it("runs the unit's ExecStart as _sonde (setpriv) for 20 s, sending to a local sink", async () => {
    const unit = readFileSync('/usr/lib/systemd/system/sonde.service', 'utf8');
    const execStart = /^ExecStart=(.+)$/m.exec(unit)![1]!.split(/\s+/);
    writeFileSync(TEST_LOG, 'hit 1\nhit 2\n');
    await must('chown', ['root:adm', TEST_LOG]);
    await must('chmod', ['640', TEST_LOG]);
    writeFileSync(DROP_IN, sinkDropIn(sink.port, TEST_LOG));
    // What the unit asks of systemd that setpriv can do: the user, its groups, no privileges.
    const child = spawn('setpriv', ['--reuid=_sonde', '--regid=_sonde', '--init-groups', '--no-new-privs', '--bounding-set=-all', '--inh-caps=-all', '--', ...execStart], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await sleep(20_000);
    expect(child.exitCode, out).toBeNull();
    child.kill('SIGTERM');
    expect(await exited, out).toBe(0);
    const fstype = (await must('findmnt', ['-n', '-o', 'FSTYPE', '/'])).trim();
    checkSamples(sink.lines, DISKSPACE_TYPES.includes(fstype));
    expect(out).not.toMatch(/"level":(50|60)/);
    // The state it keeps is _sonde's, in the package's state directory.
    expect((await must('stat', ['-c', '%U', '/var/lib/sonde/collectors'])).trim()).toBe('_sonde');
  }, 60_000);

  it('systemd-analyze verify passes on the installed unit and security rates it 2.5 or lower', async () => {
    const verify = await run('systemd-analyze', ['verify', '/usr/lib/systemd/system/sonde.service']);
    expect(verify.stdout + verify.stderr).not.toMatch(/sonde/);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const security = await run('systemd-analyze', ['security', '--no-pager', '--offline=yes', '/usr/lib/systemd/system/sonde.service']);
    expect(exposure(security.stdout)).toBeLessThanOrEqual(2.5);
  });

  it('dpkg --purge removes the state, the config and the cache, and keeps the user', async () => {
    await purge();
    const left = await run('sh', ['-c', 'ls -d /var/lib/sonde /etc/sonde /var/cache/sonde /var/log/logster /usr/lib/sonde /usr/bin/sonde 2>&1']);
    expect(left.stdout.match(/No such file or directory/g)?.length, left.stdout).toBe(6);
    expect(await must('getent', ['passwd', '_sonde'])).toMatch(/^_sonde:/);
  });
});
