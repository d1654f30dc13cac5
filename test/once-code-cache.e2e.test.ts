// The agent bundle (dist/sonde-agent.cjs) runs `sonde once`, `check-config` and `--version` from
// V8's code cache, dist/sonde-agent.cache. A cache V8 rejects (another node, other flags), a
// damaged one or none at all must change nothing but the start-up time.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE } from './helpers/sonde.js';
import { tmpdir, writeFiles } from './helpers/tmp.js';

const FIX = path.join(import.meta.dirname, 'fixtures');
const DIST = path.dirname(BUNDLE);

function golden(rel: string): string[] {
  return readFileSync(path.join(FIX, 'collectors', rel), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'));
}

/** A copy of dist/ to damage. */
function distCopy(): string {
  const d = path.join(tmpdir(), 'dist');
  cpSync(DIST, d, { recursive: true });
  return d;
}

function once(entry: string, nodeArgs: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const dir = tmpdir();
  const cfg = writeFiles(dir, {
    'sonde.yaml': `hostname: web01\nproc_root: ${path.join(FIX, 'proc', 'e2e-0')}\nstate_dir: ${dir}/state\nplugin_paths: []\ncollectors:\n  memory: {}\n  loadavg: {}\nhandlers:\n  stdout: {}\n`,
  })['sonde.yaml']!;
  const r = spawnSync(process.execPath, [...nodeArgs, entry, 'once', '--config', cfg], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stderr: r.stderr, lines: r.stdout.trim().split('\n').map((l) => l.split(' ').slice(0, 2).join(' ')).sort() };
}

const EXPECTED = [...golden('memory/normal-host/sample0.expected'), ...golden('loadavg/normal-host/sample0.expected')].map((l) => `servers.web01.${l}`).sort();

describe('the agent bundle\'s code cache', () => {
  it('the build made one', () => {
    expect(statSync(path.join(DIST, 'sonde-agent.cache')).size).toBeGreaterThan(100_000);
    // sonde run's ES module build of the same agent has none (node 20 cannot cache an ES module).
    expect(existsSync(path.join(DIST, 'sonde-agent.mjs'))).toBe(true);
  });

  it('sonde once gives the same samples with the cache, with one V8 rejects (other flags), with a damaged one and with none', () => {
    expect(once(BUNDLE)).toEqual({ status: 0, stderr: '', lines: EXPECTED });
    // Other V8 flags make V8 reject the cache, as another node version would.
    expect(once(BUNDLE, ['--max-semi-space-size=2'])).toEqual({ status: 0, stderr: '', lines: EXPECTED });
    const d = distCopy();
    writeFileSync(path.join(d, 'sonde-agent.cache'), Buffer.alloc(4096, 0xa5));
    expect(once(path.join(d, 'sonde.cjs'))).toEqual({ status: 0, stderr: '', lines: EXPECTED });
    writeFileSync(path.join(d, 'sonde-agent.cache'), readFileSync(path.join(DIST, 'sonde-agent.cache')).subarray(0, 5000));
    expect(once(path.join(d, 'sonde.cjs'))).toEqual({ status: 0, stderr: '', lines: EXPECTED });
    rmSync(path.join(d, 'sonde-agent.cache'));
    mkdirSync(path.join(d, 'sonde-agent.cache'));
    expect(once(path.join(d, 'sonde.cjs'))).toEqual({ status: 0, stderr: '', lines: EXPECTED });
    rmSync(path.join(d, 'sonde-agent.cache'), { recursive: true });
    expect(once(path.join(d, 'sonde.cjs'))).toEqual({ status: 0, stderr: '', lines: EXPECTED });
  });

  it('SONDE_WRITE_CODE_CACHE=1 writes it after the run (what the build and the Debian package do)', () => {
    const d = distCopy();
    rmSync(path.join(d, 'sonde-agent.cache'));
    expect(once(path.join(d, 'sonde.cjs'), [], { SONDE_WRITE_CODE_CACHE: '1' })).toEqual({ status: 0, stderr: '', lines: EXPECTED });
    expect(statSync(path.join(d, 'sonde-agent.cache')).size).toBeGreaterThan(100_000);
    expect(once(path.join(d, 'sonde.cjs'))).toEqual({ status: 0, stderr: '', lines: EXPECTED });
  });

  it('--version and check-config run from it too', () => {
    const pkg = JSON.parse(readFileSync(path.join(DIST, '..', 'package.json'), 'utf8')) as { version: string };
    const v = spawnSync(process.execPath, [BUNDLE, '--version'], { encoding: 'utf8' });
    expect([v.status, v.stdout, v.stderr]).toEqual([0, `${pkg.version}\n`, '']);
    const dir = tmpdir();
    const cfg = writeFiles(dir, { 'sonde.yaml': `state_dir: ${dir}/state\nplugin_paths: []\ncollectors:\n  memory: {}\nhandlers:\n  stdout: {}\n` })['sonde.yaml']!;
    const c = spawnSync(process.execPath, [BUNDLE, 'check-config', '--config', cfg], { encoding: 'utf8' });
    expect([c.status, c.stdout, c.stderr]).toEqual([0, `${cfg}: OK\n  collectors: memory\n  handlers: stdout\n`, '']);
  });
});
