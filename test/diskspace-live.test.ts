// diskspace and memory on this machine, checked against independent sources (df, /proc/meminfo).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CollectorRunner } from '../src/runtime/collector-runner.js';
import { fileReader } from '../src/runtime/file-reader.js';
import { builtinRunner, collectOnce } from './helpers/collector.js';
import type { StatFs } from '../src/plugin-api.js';
import { builtinRegistry } from '../src/plugins/builtin.js';
import type { AnyCollector } from '../src/plugins/registry.js';

const registry = builtinRegistry();
const logs: string[] = [];
const log = { debug() {}, info: (m: string) => void logs.push(`info ${m}`), warn: (m: string) => void logs.push(`warn ${m}`), error: (m: string) => void logs.push(`error ${m}`) };

function runner(name: string, options: Record<string, unknown>, statfs?: (p: string) => Promise<StatFs>): CollectorRunner {
  return builtinRunner(name, options, { proc: fileReader('/proc'), sys: fileReader('/sys'), log, statfs });
}
const collect = collectOnce;

describe('diskspace on this machine', () => {
  it('agrees with df -B1 for /', async () => {
    const fsType = execFileSync('findmnt', ['-n', '-o', 'FSTYPE', '/'], { encoding: 'utf8' }).trim();
    const got = await collect(runner('diskspace', { filesystems: [fsType] }));
    const df = execFileSync('df', ['-B1', '--output=size,used,avail', '/'], { encoding: 'utf8' }).trim().split('\n')[1]!.trim().split(/\s+/).map(Number);
    const [size, used, avail] = df as [number, number, number];
    // df's "used" is blocks - bfree, as ours; a few MB may move between the two readings.
    const slack = 64 * 1024 * 1024;
    expect(Math.abs(got.get('diskspace.root.byte_used')! - used)).toBeLessThan(slack);
    expect(Math.abs(got.get('diskspace.root.byte_avail')! - avail)).toBeLessThan(slack);
    const total = got.get('diskspace.root.byte_used')! + got.get('diskspace.root.byte_free')!;
    expect(Math.abs(total - size)).toBeLessThan(slack);
  });
});

describe('memory on this machine', () => {
  it('agrees with /proc/meminfo read independently, within what changes between two reads', async () => {
    const got = await collect(runner('memory', {}));
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
    expect(got.get('memory.MemTotal')).toBe(kb('MemTotal'));
    expect(Math.abs(got.get('memory.MemFree')! - kb('MemFree'))).toBeLessThan(64 * 1024 * 1024);
    const pct = (100 * (kb('MemTotal') - kb('MemAvailable'))) / kb('MemTotal');
    expect(Math.abs(got.get('memory.MemUsedPercentage')! - pct)).toBeLessThan(1);
  });
});

describe('a stuck mount', () => {
  it('is skipped, logged and counted, never asked again while pending, and comes back when it answers', async () => {
    const dir = `${import.meta.dirname}/fixtures/collectors/diskspace/mounts/sample0`;
    const plugin = registry.collectors.get('diskspace') as AnyCollector;
    const config = { filesystems: ['ext4'], exclude_filters: [], byte_unit: ['byte'], statfs_timeout: 0.05 };
    const ok: StatFs = { bsize: 4096, blocks: 100, bfree: 50, bavail: 50, files: 10, ffree: 5 };
    let serverBack = false;
    let answer: (s: StatFs) => void = () => undefined;
    const calls: string[] = [];
    const r = new CollectorRunner(
      { key: 'diskspace', plugin, enabled: true, interval: 10_000, timeout: 10_000, path: 'diskspace', config, fingerprint: '' },
      {
        proc: fileReader(dir),
        sys: fileReader(dir),
        log,
        statfs: (p) => {
          calls.push(p);
          // /boot sits on a dead server until it comes back.
          if (p === '/boot' && !serverBack) return new Promise((res) => (answer = res));
          return Promise.resolve(ok);
        },
      },
    );
    const first = await collect(r);
    expect(first.get('sonde.collector.diskspace.stuck_mounts')).toBe(1);
    expect(first.has('diskspace._boot.byte_used')).toBe(false);
    expect(first.get('diskspace.root.byte_used')).toBe(50 * 4096);
    expect(logs.filter((l) => l.startsWith('warn statfs of /boot') && l.includes('has not answered'))).toHaveLength(1);

    const second = await collect(r);
    expect(calls.filter((c) => c === '/boot')).toHaveLength(1); // not issued again while pending
    expect(second.get('sonde.collector.diskspace.stuck_mounts')).toBe(1);
    expect(second.get('diskspace.root.byte_used')).toBe(50 * 4096);
    expect(logs.filter((l) => l.startsWith('warn statfs of /boot'))).toHaveLength(1); // warned once

    serverBack = true;
    answer(ok);
    await new Promise((res) => setTimeout(res, 10));
    expect(logs).toContain('info statfs of /boot answers again');
    const third = await collect(r);
    expect(third.get('sonde.collector.diskspace.stuck_mounts')).toBe(0);
    expect(third.get('diskspace._boot.byte_used')).toBe(50 * 4096);
  });
});
