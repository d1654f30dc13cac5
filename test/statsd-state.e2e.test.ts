// The statsd handler's counter totals live in <state_dir>/handlers/<key>, so `sonde once` from cron
// sends a counter's growth since the previous run, not nothing (a first sight) and not the whole
// total (a spike).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE, sonde, type Result } from './helpers/sonde.js';
import { startStatsd, type Statsd } from './helpers/statsd.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';

const PLUGINS = path.join(import.meta.dirname, 'fixtures/plugins-counter');
let root: string;
let sd: Statsd;
beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'sonde-statsd-state-'));
  sd = await startStatsd(root);
});
afterAll(async () => {
  await sd?.stop();
  rmSync(root, { recursive: true, force: true });
});

async function counted(name: string, atLeast: number): Promise<number | undefined> {
  const end = Date.now() + 5_000;
  for (;;) {
    const v = (await sd.counters()).get(name);
    if ((v ?? 0) >= atLeast || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('statsd counters across sonde once runs', () => {
  it('the second run sends the growth since the first, and the totals are in <state_dir>/handlers/statsd', async () => {
    const dir = tmpdir();
    writeFiles(dir, {
      total: '1000\n',
      'sonde.yaml': [
        'hostname: cron01',
        `state_dir: ${dir}/state`,
        `plugin_paths: [${PLUGINS}]`,
        'collectors:',
        `  filecounter: { file: ${dir}/total }`,
        'handlers:',
        `  statsd: { destination: "127.0.0.1:${sd.udpPort}", udp_rate: 0 }`,
        '',
      ].join('\n'),
    });
    const config = path.join(dir, 'sonde.yaml');
    expect(sonde(['once', '--config', config]).status).toBe(0);
    // A first sight: nothing, never the whole total.
    expect((await sd.counters()).get('servers.cron01.filecounter.total')).toBeUndefined();
    writeFileSync(path.join(dir, 'total'), '1025\n');
    expect(sonde(['once', '--config', config]).status).toBe(0);
    expect(await counted('servers.cron01.filecounter.total', 25)).toBe(25);
    expect(readdirSync(path.join(dir, 'state/handlers/statsd')).length).toBeGreaterThan(0);
  });

  it('a FIFO where counters.json should be is named in a warning, never read (which would block for ever), and replaced', async () => {
    const dir = tmpdir();
    const stateDir = path.join(dir, 'state/handlers/statsd');
    mkdirSync(stateDir, { recursive: true });
    execFileSync('mkfifo', [path.join(stateDir, 'counters.json')]);
    writeFiles(dir, {
      total: '7\n',
      'sonde.yaml': [
        'hostname: fifo01',
        `state_dir: ${dir}/state`,
        `plugin_paths: [${PLUGINS}]`,
        'collectors:',
        `  filecounter: { file: ${dir}/total }`,
        'handlers:',
        `  statsd: { destination: "127.0.0.1:${sd.udpPort}" }`,
        '',
      ].join('\n'),
    });
    const r = await new Promise<Result>((resolve) => {
      const c = spawn(process.execPath, [BUNDLE, 'once', '--config', path.join(dir, 'sonde.yaml')]);
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
      c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      c.on('exit', (status) => (clearTimeout(timer), resolve({ status, stdout, stderr })));
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`statsd: counter totals in ${stateDir}/counters.json are unreadable (it is a FIFO (named pipe)); starting without them`);
    expect(statSync(path.join(stateDir, 'counters.json')).isFile()).toBe(true);
    expect(JSON.parse(readFileSync(path.join(stateDir, 'counters.json'), 'utf8')).counters).toEqual({ 'servers.fifo01.filecounter.total': [7, expect.any(Number)] });
  });
});
