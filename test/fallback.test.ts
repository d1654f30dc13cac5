// The systeminformation source (used where /proc is missing), forced on this Linux machine and
// checked against /proc and df read independently.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileReader } from '../src/runtime/file-reader.js';
import { builtinRunner, collectOnce } from './helpers/collector.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
// An empty proc root: the fallback must not read /proc through the context at all.
const nowhere = fileReader('/nonexistent-proc');
const runner = (name: string, options: Record<string, unknown>) =>
  builtinRunner(name, { source: 'systeminformation', ...options }, { proc: nowhere, sys: nowhere, log: silent });
const collect = collectOnce;

const meminfoBytes = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;

describe('systeminformation fallback', () => {
  it('is not used by auto on Linux: /proc is read, even where it is a recorded tree', async () => {
    const proc = fileReader(path.join(import.meta.dirname, 'fixtures', 'collectors', 'memory', 'normal-host', 'sample0', 'proc'));
    const got = await collect(builtinRunner('memory', { source: 'auto' }, { proc, sys: proc, log: silent }));
    // The fixture's MemTotal (16000000 kB), not this machine's.
    expect(got.get('memory.MemTotal')).toBe(16000000 * 1024);
  });

  it('memory: the same MemTotal as /proc/meminfo', async () => {
    const got = await collect(runner('memory', {}));
    expect(got.get('memory.MemTotal')).toBe(meminfoBytes('MemTotal'));
    expect(Math.abs(got.get('memory.MemAvailable')! - meminfoBytes('MemAvailable'))).toBeLessThan(128 * 1024 * 1024);
  });

  it('cpu: percent of one CPU per state from the second run on', async () => {
    const r = runner('cpu', {});
    const first = await collect(r);
    expect(first.get('cpu.cpu_count')).toBe(os.cpus().length);
    expect(first.has('cpu.total.user')).toBe(false);
    await new Promise((res) => setTimeout(res, 300));
    const second = await collect(r);
    const n = os.cpus().length;
    for (const state of ['user', 'nice', 'system', 'idle', 'irq', 'steal']) {
      const v = second.get(`cpu.total.${state}`)!;
      expect(v, state).toBeGreaterThanOrEqual(0);
      expect(v, state).toBeLessThanOrEqual(100 * n + 0.01);
    }
    const sum = ['user', 'nice', 'system', 'idle', 'irq', 'steal'].reduce((a, s) => a + second.get(`cpu.total.${s}`)!, 0);
    expect(sum).toBeGreaterThan(100 * n * 0.9);
    expect(second.has('cpu.cpu0.idle')).toBe(true);
  });

  it('loadavg: what /proc/loadavg says, read before and after', async () => {
    const loads = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
    const before = loads();
    const got = await collect(runner('loadavg', {}));
    const after = loads();
    // The kernel updates the loads every 5 s and prints them to 2 decimals: the collector's figure
    // lies between the two readings, give or take that rounding.
    ['01', '05', '15'].forEach((leaf, i) => {
      const v = got.get(`loadavg.${leaf}`)!;
      expect(v, leaf).toBeGreaterThanOrEqual(Math.min(before[i]!, after[i]!) - 0.01);
      expect(v, leaf).toBeLessThanOrEqual(Math.max(before[i]!, after[i]!) + 0.01);
    });
    expect(got.has('loadavg.01_normalized')).toBe(true);
    const online = Number(execFileSync('getconf', ['_NPROCESSORS_ONLN'], { encoding: 'utf8' }));
    expect(got.get('loadavg.01_normalized')).toBeCloseTo(got.get('loadavg.01')! / online, 10);
  });

  it('diskspace: / agrees with df -B1', async () => {
    const fsType = execFileSync('findmnt', ['-n', '-o', 'FSTYPE', '/'], { encoding: 'utf8' }).trim();
    const got = await collect(runner('diskspace', { filesystems: [fsType] }));
    const [, used] = execFileSync('df', ['-B1', '--output=size,used', '/'], { encoding: 'utf8' }).trim().split('\n')[1]!.trim().split(/\s+/).map(Number);
    expect(Math.abs(got.get('diskspace.root.byte_used')! - used!)).toBeLessThan(64 * 1024 * 1024);
  });

  it('network: rates for an interface from the second run on', async () => {
    const r = runner('network', { interfaces: ['lo'] });
    await collect(r);
    await new Promise((res) => setTimeout(res, 200));
    const got = await collect(r);
    expect(got.get('network.lo.rx_byte')).toBeGreaterThanOrEqual(0);
    expect(got.get('network.lo.tx_bit')).toBe(got.get('network.lo.tx_byte')! * 8);
  });
});
