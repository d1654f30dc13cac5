// diskspace with a mount whose statfs hangs (a dead network server), on a recorded mount table.
import { describe, expect, it } from 'vitest';
import { collectorSection } from '../src/config/collector-section.js';
import { CollectorRunner } from '../src/runtime/collector-runner.js';
import { fileReader } from '../src/runtime/file-reader.js';
import { collectOnce } from './helpers/collector.js';
import type { StatFs } from '../src/plugin-api.js';
import { builtinRegistry } from '../src/plugins/builtin.js';
import type { AnyCollector } from '../src/plugins/registry.js';

const registry = builtinRegistry();
const logs: string[] = [];
const log = { debug() {}, info: (m: unknown) => void logs.push(`info ${String(m)}`), warn: (m: unknown) => void logs.push(`warn ${String(m)}`), error: (m: unknown) => void logs.push(`error ${String(m)}`) };
const collect = collectOnce;

describe('a stuck mount', () => {
  it('is skipped, logged and counted, never asked again while pending, and comes back when it answers', async () => {
    const dir = `${import.meta.dirname}/fixtures/collectors/diskspace/mounts/sample0/proc`;
    const plugin = registry.collectors.get('diskspace') as AnyCollector;
    const config = { filesystems: ['ext4'], exclude_filters: [], byte_unit: ['byte'], statfs_timeout: 0.05 };
    const ok: StatFs = { bsize: 4096, blocks: 100, bfree: 50, bavail: 50, files: 10, ffree: 5 };
    let serverBack = false;
    let answer: (s: StatFs) => void = () => undefined;
    const calls: string[] = [];
    const r = new CollectorRunner(
      collectorSection(plugin, config, { key: 'diskspace', interval: 10_000 }),
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
