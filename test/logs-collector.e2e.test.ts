// The logs collector in a running agent: which files it follows and from where.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { RunningSonde } from './helpers/sonde.js';
import { tmpdir } from './helpers/tmp.js';

const line = (i: number) => `app request id=${i} status=200\n`;
const lines = (from: number, n: number) => Array.from({ length: n }, (_, k) => line(from + k)).join('');
const sent = (i: number) => `Nov 23 10:00:00 mx1 postfix/smtp[1]: Q${i}: to=<u${i}@x.org>, relay=x[192.0.2.1]:25, delay=1, delays=0/0/0/0, dsn=2.0.0, status=sent (250 ok)\n`;

/** A sonde.yaml with one logs collector (its `files:` entries as YAML flow mappings) and stdout. */
function config(dir: string, files: string[]): string {
  const file = path.join(dir, 'sonde.yaml');
  writeFileSync(
    file,
    `hostname: h\nstate_dir: ${dir}/state\ninterval: 1s\nself_metrics: { enabled: false }\ncollectors:\n  logs:\n    files:\n${files.map((f) => `      - ${f}\n`).join('')}handlers:\n  stdout: { flush_interval: 100ms }\n`,
  );
  return file;
}

/** Sums every value printed for a metric path. */
const total = (out: string, metric: string) => [...out.matchAll(new RegExp(`^servers\\.h\\.${metric.replaceAll('.', '\\.')} (\\S+) \\d+$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);

describe('logs collector', () => {
  it('names a figure whose name is empty or only dots `_` below the entry, as sonde logster does, never the entry itself', async () => {
    const dir = tmpdir();
    const log = path.join(dir, 'app.json');
    writeFileSync(log, `${JSON.stringify({ '': 3, ok: 5 })}\n`);
    const s = new RunningSonde(['run', '--config', config(dir, [`{ path: ${log}, parser: json, name: app, from_start: true }`])]);
    try {
      await s.until('the json figures', () => s.stdout.includes('servers.h.app.ok '));
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      s.kill('SIGTERM');
      await s.exited;
    }
    const first = new Map<string, string>();
    for (const l of s.stdout.split('\n')) {
      const [p, v] = l.split(' ');
      if (p?.startsWith('servers.h.app') && !first.has(p)) first.set(p, v!);
    }
    expect([...first].sort()).toEqual([
      ['servers.h.app._', '3'],
      ['servers.h.app.ok', '5'],
    ]);
  });

  it('follows what a glob matches (new files from their first line, rotated copies not on their own) and a file that appears late', async () => {
    const dir = tmpdir();
    const logs = path.join(dir, 'logs');
    mkdirSync(logs);
    writeFileSync(path.join(logs, 'a.log'), lines(0, 3)); // there before sonde: from its end
    writeFileSync(path.join(logs, 'a.log.1'), lines(100, 5)); // a rotated copy: never on its own
    writeFileSync(path.join(logs, 'a.log-20261122.gz'), gzipSync(lines(200, 7)));
    const late = path.join(dir, 'late', 'mail.log');
    const cfg = config(dir, [`{ path: '${logs}/*', parser: regex, name: app, patterns: [{ match: 'status=200', counter: ok }] }`, `{ path: '${late}', parser: postfix, name: mail }`]);
    const s = new RunningSonde(['run', '--config', cfg]);
    try {
      await s.until('the first report', () => /^servers\.h\.sonde\.collector\.logs\.app_files 1 /m.test(s.stdout));
      expect(s.stderr).toContain(`${late} does not exist (yet)`);
      expect(s.stderr).toContain(`${logs}/a.log.1 matches ${logs}/* but is a rotated or compressed copy`);
      appendFileSync(path.join(logs, 'a.log'), lines(3, 2));
      writeFileSync(path.join(logs, 'b.log'), lines(300, 4)); // new: all of it counts
      mkdirSync(path.dirname(late));
      writeFileSync(late, sent(1) + sent(2) + sent(3)); // appeared after sonde looked: from line 1
      await s.until('6 app lines and 3 mails', () => total(s.stdout, 'app.ok') >= 6 && total(s.stdout, 'mail.numSent') >= 3);
      await new Promise((r) => setTimeout(r, 1500)); // and nothing more afterwards
      s.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      expect(total(s.stdout, 'app.ok')).toBe(6);
      expect(total(s.stdout, 'mail.numSent')).toBe(3);
      expect(s.stdout).toMatch(/^servers\.h\.sonde\.collector\.logs\.app_files 2 /m);
      expect(s.stderr).toContain(`following ${logs}/b.log (new file matching ${logs}/*)`);
    } finally {
      s.kill('SIGKILL');
    }
  }, 60_000);

  it('after a restart, continues from the saved offsets: lines written while stopped count once', async () => {
    const dir = tmpdir();
    const log = path.join(dir, 'app.log');
    writeFileSync(log, '');
    const cfg = config(dir, [`{ path: '${log}', parser: regex, name: app, patterns: [{ match: 'status=200', counter: ok }] }`]);
    const first = new RunningSonde(['run', '--config', cfg]);
    await first.until('the first report', () => /app_files 1 /.test(first.stdout));
    appendFileSync(log, lines(0, 4));
    await first.until('4 lines', () => total(first.stdout, 'app.ok') >= 4);
    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    appendFileSync(log, lines(4, 6)); // while stopped
    const second = new RunningSonde(['run', '--config', cfg]);
    try {
      await second.until('6 more lines', () => total(second.stdout, 'app.ok') >= 6);
      appendFileSync(log, lines(10, 1));
      await second.until('1 more line', () => total(second.stdout, 'app.ok') >= 7);
      await new Promise((r) => setTimeout(r, 1500));
      second.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      expect([total(first.stdout, 'app.ok'), total(second.stdout, 'app.ok')]).toEqual([4, 7]);
    } finally {
      second.kill('SIGKILL');
    }
  }, 60_000);
});
