// `sonde run` (the bundle) collecting three real MariaDB instances and a listener that accepts and
// never answers, every second: one instance killed in the middle and started again, while the
// others keep every window. Needs `npm run build` first.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from './helpers/carbon.js';
import { SONDE_PASSWORD, silentListener, startMariaDBs, type MariaDBs } from './helpers/mariadb.js';
import { RunningSonde } from './helpers/sonde.js';
import { tmpdir } from './helpers/tmp.js';

let dbs: MariaDBs;
beforeAll(async () => {
  dbs = await startMariaDBs(['m0', 'm1', 'm2']);
});
afterAll(async () => {
  await dbs?.stop();
});

/** Graphite lines on stdout by window (their timestamp), as path -> value. */
function windows(stdout: string): Map<number, Map<string, number>> {
  const out = new Map<number, Map<string, number>>();
  for (const line of stdout.split('\n')) {
    const [p, v, t] = line.split(' ');
    if (p === undefined || v === undefined || t === undefined) continue;
    const ts = Number(t);
    let w = out.get(ts);
    if (w === undefined) out.set(ts, (w = new Map()));
    w.set(p, Number(v));
  }
  return out;
}

/** The windows with mysql figures, oldest first, but the last: its lines may still be on their way. */
function mysqlWindows(stdout: string): [number, Map<string, number>][] {
  return [...windows(stdout)]
    .filter(([, w]) => [...w.keys()].some((k) => k.startsWith('servers.h.mysql.')))
    .sort((a, b) => a[0] - b[0])
    .slice(0, -1);
}

/** Log messages (pino JSON lines on stderr) that contain `text`. */
function logged(stderr: string, text: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return String((JSON.parse(l) as { msg?: unknown }).msg ?? '');
      } catch {
        return '';
      }
    })
    .filter((m) => m.includes(text));
}

it('keeps every instance on schedule while one is killed and started again and one never answers', async () => {
  const dir = tmpdir();
  const hungPort = await freePort();
  const hung = await silentListener({ port: hungPort });
  const pass = path.join(dir, 'sonde.pass');
  writeFileSync(pass, `${SONDE_PASSWORD}\n`);
  const [m0, m1, m2] = ['m0', 'm1', 'm2'].map((n) => dbs.get(n));
  const cfg = path.join(dir, 'sonde.yaml');
  writeFileSync(
    cfg,
    [
      'hostname: h',
      'interval: 1s',
      `state_dir: ${dir}/state`,
      'plugin_paths: []',
      'shutdown_timeout: 2s',
      'self_metrics: { interval: 1s }',
      'collectors:',
      '  mysql:',
      '    instance_timeout: 400ms',
      '    instances:',
      `      m0: { socket: ${m0!.socket} }`,
      `      m1: { host: 127.0.0.1, port: ${m1!.port}, user: sonde, password_file: ${pass} }`,
      `      m2: { socket: ${m2!.socket} }`,
      `      hung: { host: 127.0.0.1, port: ${hungPort}, user: sonde, password_file: ${pass} }`,
      'handlers:',
      '  stdout: {}',
      '',
    ].join('\n'),
  );
  const abortedBefore = (await m0!.status()).get('Aborted_clients')!;
  const s = new RunningSonde(['run', '--config', cfg]);
  try {
    const seen = (n: number) => mysqlWindows(s.stdout).length >= n;
    await s.until('three windows of mysql figures', () => seen(4));

    // The silent listener: up 0 within its deadline, every window, and said once.
    for (const [, w] of mysqlWindows(s.stdout).slice(1)) {
      expect(w.get('servers.h.mysql.hung.up')).toBe(0);
      expect(w.get('servers.h.mysql.hung.collect_time_ms')).toBeGreaterThanOrEqual(390);
      expect(w.get('servers.h.mysql.hung.collect_time_ms')).toBeLessThan(700);
      for (const inst of ['m0', 'm1', 'm2']) expect(w.get(`servers.h.mysql.${inst}.up`), inst).toBe(1);
    }
    expect(hung.accepted()).toBeGreaterThanOrEqual(1);
    const hungSaid = logged(s.stderr, 'mysql instance hung');
    expect(hungSaid).toHaveLength(1);
    expect(hungSaid[0]).toContain(`mysql instance hung (127.0.0.1:${hungPort}, instances.hung): no answer to the connect and login within 400 ms`);

    // m2 dies in the middle: from the next window on it says up 0, every window, and the others go on.
    const before = mysqlWindows(s.stdout).length;
    await m2!.kill();
    await s.until('four windows after the kill', () => seen(before + 5));
    const after = mysqlWindows(s.stdout).slice(before + 1);
    for (const [, w] of after) {
      expect(w.get('servers.h.mysql.m2.up')).toBe(0);
      expect(w.has('servers.h.mysql.m2.Threads_connected')).toBe(false);
      for (const inst of ['m0', 'm1']) {
        expect(w.get(`servers.h.mysql.${inst}.up`), inst).toBe(1);
        expect(w.get(`servers.h.mysql.${inst}.Threads_connected`), inst).toBeGreaterThanOrEqual(1);
        expect(w.has(`servers.h.mysql.${inst}.Questions`), inst).toBe(true);
      }
    }
    // Window after window, none left out.
    const stamps = mysqlWindows(s.stdout).map(([t]) => t);
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]! - stamps[i - 1]!).toBe(1);
    const m2Said = logged(s.stderr, 'mysql instance m2');
    expect(m2Said).toHaveLength(1);
    expect(m2Said[0]).toMatch(/mysql instance m2 \(socket .*, instances\.m2\): (nothing accepts connections on socket .* \(connection refused: the instance is down\)|the server closed the connection|the socket .* does not exist)/);

    // Started again: it comes back by itself, without an agent restart.
    await m2!.start();
    await s.until('m2 up again', () => mysqlWindows(s.stdout).at(-1)?.[1].get('servers.h.mysql.m2.up') === 1, 10_000);
    await s.until('a rate from m2 again', () => mysqlWindows(s.stdout).at(-1)?.[1].has('servers.h.mysql.m2.Questions') === true, 10_000);
    expect(logged(s.stderr, 'mysql instance m2')).toEqual([m2Said[0], expect.stringContaining('answers again') as unknown as string]);

    // No run was abandoned: each instance kept to its own deadline.
    const last = mysqlWindows(s.stdout).at(-1)![1];
    const self = [...windows(s.stdout).values()].reverse().find((w) => w.has('servers.h.sonde.collector.mysql.timeouts'))!;
    expect(self.get('servers.h.sonde.collector.mysql.timeouts')).toBe(0);
    expect(self.get('servers.h.sonde.collector.mysql.uncaught_errors')).toBe(0);
    expect(last.get('servers.h.sonde.collector.mysql.instances')).toBe(4);
    expect(last.get('servers.h.sonde.collector.mysql.instances_up')).toBe(3);
    expect(s.stderr).not.toContain('run abandoned');

    s.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    // It said goodbye to the servers (COM_QUIT) instead of dropping them: no aborted client.
    expect((await m0!.status()).get('Aborted_clients')).toBe(abortedBefore);
  } finally {
    s.kill('SIGKILL');
    await hung.close();
  }
}, 60_000);
