// The Debian package's sources, checked without building it (npm run test:deb builds, installs
// and boots it): the changelog is at package.json's version, the packaged config is the shipped
// one without a handler, the unit has the hardening the issue lists and none it forbids, and the
// man page has every command.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { tmpdir } from './helpers/tmp.js';

const root = path.resolve(import.meta.dirname, '..');
const read = (f: string) => readFileSync(path.join(root, f), 'utf8');

describe('debian/', () => {
  it("debian/changelog's newest entry is package.json's version", () => {
    const version = JSON.parse(read('package.json')).version;
    expect(/^sonde \(([^)]+)\) /.exec(read('debian/changelog'))?.[1]).toBe(version);
  });

  it('the packaged config has the shipped collectors and global keys, and enables no handler', () => {
    const shipped = load(read('config/sonde.yaml')) as Record<string, unknown>;
    const packaged = load(read('debian/etc/sonde.yaml')) as Record<string, unknown>;
    expect(packaged.collectors).toEqual(shipped.collectors);
    const { handlers: _h, collectors: _c, ...globalsShipped } = shipped;
    const { handlers: handlers, collectors: _c2, ...globalsPackaged } = packaged;
    expect(globalsPackaged).toEqual(globalsShipped);
    // Every handler is commented out: the operator says where samples go.
    expect(handlers ?? null).toBeNull();
  });

  it('sonde check-config passes the packaged config, with the hint that no handler is enabled', () => {
    const r = spawnSync(process.execPath, [path.join(root, 'dist/sonde.cjs'), 'check-config', '--config', path.join(root, 'debian/etc/sonde.yaml')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('collectors: cpu, memory, loadavg, diskspace, iostat, vmstat');
    expect(r.stderr).toMatch(/^warning: no handler is enabled in .*debian\/etc\/sonde\.yaml: samples are collected and thrown away\. Enable one under handlers:/m);
  });

  it('the unit has the hardening a Node agent reading /proc can take, and none that breaks it', () => {
    const unit = read('debian/sonde.service');
    const directives = unit.split('\n').filter((l) => /^[A-Za-z]+=/.test(l));
    for (const want of [
      'Type=exec',
      'ExecReload=/bin/kill -HUP $MAINPID',
      'Restart=on-failure',
      'RestartPreventExitStatus=78',
      'User=_sonde',
      'SupplementaryGroups=adm',
      'StateDirectory=sonde',
      'ProtectSystem=strict',
      'ProtectHome=read-only',
      'NoNewPrivileges=yes',
      'CapabilityBoundingSet=',
      'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
      'SystemCallFilter=@system-service',
      'ProtectKernelTunables=yes',
      'ProtectKernelModules=yes',
      'ProtectKernelLogs=yes',
      'ProtectControlGroups=yes',
      'RestrictNamespaces=yes',
      'LockPersonality=yes',
      'SystemCallArchitectures=native',
    ])
      expect(directives, want).toContain(want);
    // V8 aborts under MemoryDenyWriteExecute; ProcSubset=pid hides /proc/stat; MySQL sockets are in /tmp.
    expect(unit).not.toMatch(/^MemoryDenyWriteExecute=yes/m);
    expect(unit).not.toMatch(/^ProcSubset=pid/m);
    expect(unit).not.toMatch(/^PrivateTmp=yes/m);
    expect(unit).not.toMatch(/^ProtectHome=yes/m);
  });

  it('systemd-analyze security rates the unit 2.5 or lower', () => {
    const r = spawnSync('systemd-analyze', ['security', '--no-pager', '--offline=yes', path.join(root, 'debian/sonde.service')], { encoding: 'utf8' });
    const m = /Overall exposure level for sonde\.service: ([\d.]+)/.exec(r.stdout);
    expect(m, r.stdout + r.stderr).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(2.5);
  });

  it('the man page has every command of sonde --help, sonde logster\'s options, and no groff warning', () => {
    const page = path.join(tmpdir(), 'sonde.1');
    execFileSync(process.execPath, [path.join(root, 'scripts/man.mjs'), page, '2026-01-01'], { cwd: root });
    const roff = readFileSync(page, 'utf8');
    const help = execFileSync(process.execPath, [path.join(root, 'dist/sonde.cjs'), '--help'], { encoding: 'utf8' });
    const commands = [...help.matchAll(/^ {2}sonde (\S+)/gm)].map((m) => m[1]);
    expect(commands).toContain('logster');
    for (const c of commands) expect(roff, c).toContain(`.SS "sonde ${c}"`);
    expect(roff).toContain('\\-\\-graphite\\-host');
    const warnings = spawnSync('man', ['--warnings', '-E', 'UTF-8', '-l', '-Tutf8', '-Z', page], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '80' } });
    expect(warnings.status).toBe(0);
    expect(warnings.stderr).toBe('');
    // Laid out for 80 columns: no line of the rendered page is wider.
    const text = spawnSync('man', ['-l', page], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '80', MAN_KEEP_FORMATTING: '' } }).stdout;
    expect(text.split('\n').filter((l) => l.length > 80)).toEqual([]);
  });
});
