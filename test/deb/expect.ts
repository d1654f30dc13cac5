// What an installed sonde package must look like, checked the same way on the Debian 13 root and
// on this Debian 12 machine. The expected owners and modes are the (and Debian's) rules,
// written out here, not read from debian/.
import { createServer, type Server } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const VERSION: string = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).version;
export const BUILD = path.join(REPO, 'build/deb');
export const DEB = `sonde_${VERSION}_all.deb`;
export const UPGRADE_VERSION = `${VERSION}+upgradetest1`;

/** `stat -c '%F|%U|%G|%a|%N'` for each path; run in the system under test. */
export const STAT_PATHS = [
  '/usr/bin/sonde',
  '/usr/lib/sonde/dist/sonde.cjs',
  '/usr/lib/sonde/dist/sonde-agent.mjs',
  '/usr/lib/sonde/dist/sonde-agent.cjs',
  '/usr/lib/sonde/dist/sonde-agent.cache',
  '/var/cache/sonde/sonde-agent.cache',
  '/usr/lib/sonde/dist/sonde-logster.cjs',
  '/usr/lib/sonde/dist/sonde-logster.cache',
  '/usr/lib/sonde/types/plugin.d.ts',
  '/usr/lib/sonde/types/plugin-api.d.ts',
  '/usr/lib/sonde/types/node_modules/zod/package.json',
  '/var/cache/sonde/sonde-logster.cache',
  '/etc/sonde/sonde.yaml',
  '/etc/sonde/conf.d',
  '/etc/sonde/conf.d/README',
  '/etc/sonde/plugins',
  '/etc/sonde/plugins/README',
  '/etc/logrotate.d/sonde',
  '/var/lib/sonde',
  '/var/lib/sonde/logster',
  '/var/log/logster',
  '/usr/share/man/man1/sonde.1.gz',
  '/usr/share/doc/sonde/README.md.gz',
  '/usr/share/doc/sonde/copyright',
  '/usr/share/doc/sonde/examples/cron.d-sonde-logster',
  '/usr/share/doc/sonde/examples/conf.d-50-graphite.yaml',
  '/usr/share/doc/sonde/examples/conf.d-60-logs.yaml',
  '/usr/share/doc/sonde/examples/plugins/dircount/dircount.mjs',
  '/usr/share/sonde/dashboards/sonde-host.json',
];
export const STAT_COMMAND = `for p in ${STAT_PATHS.join(' ')}; do stat -c '%n|%F|%U|%G|%a|%N' "$p" 2>&1; done; stat -c '%n|%F|%U|%G|%a' /lib/systemd/system/sonde.service /usr/lib/systemd/system/sonde.service 2>/dev/null | head -1`;

/** Checks the output of STAT_COMMAND. */
export function checkFiles(out: string): void {
  const rows = new Map(
    out
      .trim()
      .split('\n')
      .map((l) => l.split('|'))
      .map((f) => [f[0]!, { type: f[1], owner: `${f[2]}:${f[3]}`, mode: f[4], name: f[5] ?? '' }] as const),
  );
  const row = (p: string) => {
    const r = rows.get(p);
    expect(r, `${p} is missing:\n${out}`).toBeDefined();
    return r!;
  };
  expect(row('/usr/bin/sonde').type).toBe('symbolic link');
  expect(row('/usr/bin/sonde').name).toContain('sonde/dist/sonde.cjs');
  expect(row('/usr/lib/sonde/dist/sonde.cjs')).toMatchObject({ type: 'regular file', owner: 'root:root', mode: '755' });
  for (const f of ['sonde-agent.mjs', 'sonde-agent.cjs', 'sonde-logster.cjs']) expect(row(`/usr/lib/sonde/dist/${f}`)).toMatchObject({ type: 'regular file', owner: 'root:root', mode: '644' });
  // The code caches: made by postinst for this node, readable by cron runs as _sonde.
  for (const c of ['sonde-agent.cache', 'sonde-logster.cache']) {
    expect(row(`/usr/lib/sonde/dist/${c}`).name).toContain(`/var/cache/sonde/${c}`);
    expect(row(`/var/cache/sonde/${c}`)).toMatchObject({ type: 'regular file', owner: 'root:root', mode: '644' });
  }
  // The plugin API's types, for a `paths` entry of a TypeScript plugin (docs/plugins.md).
  for (const f of ['plugin.d.ts', 'plugin-api.d.ts', 'node_modules/zod/package.json']) expect(row(`/usr/lib/sonde/types/${f}`)).toMatchObject({ type: 'regular file', owner: 'root:root', mode: '644' });
  expect(row('/etc/sonde/sonde.yaml')).toMatchObject({ type: 'regular file', owner: 'root:root', mode: '644' });
  for (const d of ['/etc/sonde/conf.d', '/etc/sonde/plugins']) expect(row(d)).toMatchObject({ type: 'directory', owner: 'root:root', mode: '755' });
  expect(row('/etc/logrotate.d/sonde')).toMatchObject({ type: 'regular file', owner: 'root:root', mode: '644' });
  for (const d of ['/var/lib/sonde', '/var/lib/sonde/logster']) expect(row(d)).toMatchObject({ type: 'directory', owner: '_sonde:_sonde', mode: '750' });
  expect(row('/var/log/logster')).toMatchObject({ type: 'directory', owner: '_sonde:adm', mode: '2750' });
  for (const p of STAT_PATHS.slice(-7)) expect(row(p).type).toBe('regular file');
  const unit = [...rows.entries()].find(([p]) => p.endsWith('/systemd/system/sonde.service'));
  expect(unit, `no sonde.service installed:\n${out}`).toBeDefined();
  expect(unit![1]).toMatchObject({ type: 'regular file', owner: 'root:root', mode: '644' });
}

/** `getent passwd _sonde; id -nG _sonde` */
export const USER_COMMAND = 'getent passwd _sonde; id -nG _sonde';

export function checkUser(out: string): void {
  const [passwd, groups] = out.trim().split('\n');
  const f = passwd!.split(':');
  expect(f[0]).toBe('_sonde');
  expect(Number(f[2]), 'a system uid').toBeLessThan(1000);
  expect(f[5], 'no home').toBe('/nonexistent');
  expect(f[6], 'no login').toMatch(/\/(nologin|false)$/);
  expect(groups!.split(' ').sort()).toEqual(['_sonde', 'adm']);
}

/** A drop-in that sends every sample to a graphite sink on this machine's loopback, every 2 s. */
export function sinkDropIn(port: number, logFile: string): string {
  return [
    'interval: 2s',
    'collectors:',
    '  loadavg: { interval: 2s }',
    '  logs:',
    '    enabled: true',
    '    files:',
    `      - path: ${logFile}`,
    '        parser: regex',
    '        name: pkgtest',
    '        from_start: true',
    '        patterns:',
    "          - match: 'hit (?<n>\\d+)'",
    "            counter: 'hits'",
    'handlers:',
    '  graphite:',
    '    enabled: true',
    `    destinations: ["127.0.0.1:${port}"]`,
    '    flush_interval: 500ms',
    '',
  ].join('\n');
}

/** A plaintext Graphite sink: every line it received. */
export interface Sink {
  port: number;
  lines: string[];
  close(): Promise<void>;
}

export async function startSink(): Promise<Sink> {
  const lines: string[] = [];
  const server: Server = createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      const parts = buf.split('\n');
      buf = parts.pop()!;
      lines.push(...parts);
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { port, lines, close: () => new Promise((r) => server.close(() => r())) };
}

/** The figures every default collector must have sent: Diamond's names under servers.<host>. */
export function checkSamples(lines: readonly string[], wantDiskspace: boolean): void {
  const has = (re: RegExp) => lines.some((l) => re.test(l));
  const seen = (re: RegExp) => expect(has(re), `no line matching ${re} among ${lines.length} lines:\n${lines.slice(0, 20).join('\n')}`).toBe(true);
  seen(/^servers\.[^.\s]+\.cpu\.total\.user [\d.]+ \d{10}$/);
  seen(/^servers\.[^.\s]+\.memory\.MemFree \d+ \d{10}$/);
  seen(/^servers\.[^.\s]+\.loadavg\.01 [\d.]+ \d{10}$/);
  seen(/^servers\.[^.\s]+\.vmstat\.pgpgin [\d.]+ \d{10}$/);
  seen(/^servers\.[^.\s]+\.iostat\.[^.\s]+\.reads [\d.]+ \d{10}$/);
  if (wantDiskspace) seen(/^servers\.[^.\s]+\.diskspace\.root\.byte_free [\d.]+ \d{10}$/);
  // The log the service reads through group adm (the file is root:adm 0640).
  seen(/^servers\.[^.\s]+\.pkgtest\.hits [1-9]\d* \d{10}$/);
}

/** Diamond's default filesystems (the packaged diskspace collector's list). */
export const DISKSPACE_TYPES = ['ext2', 'ext3', 'ext4', 'xfs', 'ntfs', 'hfs', 'fat32', 'fat16', 'btrfs'];

/** `systemd-analyze security`'s overall figure. */
export function exposure(out: string): number {
  const m = /Overall exposure level for sonde\.service: ([\d.]+)/.exec(out);
  expect(m, out).not.toBeNull();
  return Number(m![1]);
}
