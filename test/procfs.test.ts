// The /proc parsers against the recorded files the golden cases use; every expected value is
// copied by hand from the fixture text (a kB figure times 1024).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { procfs } from '../src/plugin-api.js';
import { pluginApi } from '../src/plugins/loader.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures');
const fixture = (rel: string) => readFileSync(path.join(FIXTURES, rel), 'utf8');

describe('procfs.parseStat (/proc/stat)', () => {
  it('returns the cpu0 user jiffies exactly as in the file', () => {
    const stat = procfs.parseStat(fixture('collectors/cpu/normal-host/sample0/proc/stat'));
    expect(stat.cpus.get('cpu0')![0]).toBe(600);
    expect(fixture('proc/e2e-1/stat')).toContain('cpu0 900 ');
    expect(procfs.parseStat(fixture('proc/e2e-1/stat')).cpus.get('cpu0')![0]).toBe(900);
  });

  it('returns the aggregate line and every cpuN line in file order, one value per state', () => {
    const stat = procfs.parseStat(fixture('collectors/cpu/normal-host/sample1/proc/stat'));
    expect(stat.total).toEqual([1400, 20, 650, 9350, 150, 5, 55, 0, 0, 0]);
    expect([...stat.cpus.keys()]).toEqual(['cpu0', 'cpu1']);
    expect(stat.cpus.get('cpu1')).toEqual([500, 15, 250, 4800, 70, 5, 25, 0, 0, 0]);
    expect(procfs.CPU_FIELDS[4]).toBe('iowait');
    expect(stat.cpus.get('cpu1')![procfs.CPU_FIELDS.indexOf('iowait')]).toBe(70);
  });

  it('keeps the columns an old kernel has (8, no guest)', () => {
    const stat = procfs.parseStat(fixture('collectors/cpu/old-kernel/sample1/proc/stat'));
    expect(stat.total).toEqual([150, 0, 150, 1700, 0, 0, 0, 0]);
    expect(stat.cpus.size).toBe(1);
  });

  it('counts the online CPUs as the cpuN lines, for loadavg', () => {
    expect(procfs.parseStat(fixture('collectors/loadavg/normal-host/sample0/proc/stat')).cpus.size).toBe(2);
    expect(procfs.parseStat(fixture('collectors/cpu/cpu-disappears/sample1/proc/stat')).cpus.size).toBe(1);
  });

  it('leaves out lines that are not cpuN or not numbers, and says when there is no aggregate line', () => {
    const stat = procfs.parseStat('cpu0 1 2 3 4\ncpufreq 9 9\ncpu1 5 x 7 8\ncpu2 9 10 11 12\nintr 1 2\n');
    expect(stat.total).toEqual([]);
    expect([...stat.cpus.keys()]).toEqual(['cpu0', 'cpu2']);
    expect(stat.cpus.get('cpu2')).toEqual([9, 10, 11, 12]);
  });

  it('keeps the ten states it knows, and stops at the first line after the cpu block', () => {
    const stat = procfs.parseStat('cpu  1 2 3 4 5 6 7 8 9 10 11\t\ncpu0\t1 2 3 4 5 6 7 8 9 10 x\nctxt 5\ncpu1 1 1 1 1\n');
    expect(stat.total).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(stat.cpus.get('cpu0')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(stat.cpus.has('cpu1')).toBe(false);
  });
});

describe('procfs.parseMeminfo (/proc/meminfo)', () => {
  it('returns bytes per field: kB times 1024, unitless counts as they are', () => {
    const m = procfs.parseMeminfo(fixture('collectors/memory/normal-host/sample0/proc/meminfo'));
    expect(m.get('MemTotal')).toBe(16000000 * 1024);
    expect(m.get('MemAvailable')).toBe(12000000 * 1024);
    expect(m.get('Active(anon)')).toBe(2000000 * 1024);
    expect(m.get('VmallocTotal')).toBe(34359738367 * 1024);
    expect(m.get('HugePages_Total')).toBe(0);
    expect(m.get('Hugepagesize')).toBe(2048 * 1024);
    expect(m.size).toBe(43);
    expect([...m.keys()].slice(0, 3)).toEqual(['MemTotal', 'MemFree', 'MemAvailable']);
  });

  it('has no MemAvailable on a kernel older than 3.14', () => {
    const m = procfs.parseMeminfo(fixture('collectors/memory/old-kernel-no-memavailable/sample0/proc/meminfo'));
    expect(m.get('MemTotal')).toBe(1000000 * 1024);
    expect(m.has('MemAvailable')).toBe(false);
  });
});

describe('procfs.parseLoadavg (/proc/loadavg)', () => {
  it('returns the three loads and the running/total tasks', () => {
    expect(procfs.parseLoadavg(fixture('collectors/loadavg/normal-host/sample0/proc/loadavg'))).toEqual({ load1: 1.5, load5: 0.8, load15: 0.44, running: 3, total: 1234 });
  });

  it('throws on text that is not a loadavg line', () => {
    expect(() => procfs.parseLoadavg('1.50 0.80\n')).toThrow(/cannot parse \/proc\/loadavg/);
  });
});

describe('procfs.parseDiskstats (/proc/diskstats)', () => {
  it('returns the eleven counters per device, in file order', () => {
    const d = procfs.parseDiskstats(fixture('collectors/iostat/busy-idle-gone/sample0/proc/diskstats'));
    expect([...d.keys()]).toEqual(['sda', 'sda1', 'dm-0', 'loop0', 'sr0']);
    expect(d.get('sda')).toEqual({
      reads: 1000, reads_merged: 100, reads_sectors: 80000, reads_milliseconds: 5000,
      writes: 2000, writes_merged: 200, writes_sectors: 160000, writes_milliseconds: 10000,
      io_in_progress: 0, io_milliseconds: 12000, io_milliseconds_weighted: 15000,
    });
    expect(d.get('dm-0')!.writes_sectors).toBe(80000);
  });

  it('leaves out a line with fewer than 14 fields', () => {
    expect(procfs.parseDiskstats('   8 0 sda 1 2 3 4 5 6 7 8 9 10\n').size).toBe(0);
  });
});

describe('procfs.parseNetDev (/proc/net/dev)', () => {
  it('returns rx and tx counters per interface and skips the two header lines', () => {
    const n = procfs.parseNetDev(fixture('collectors/network/counters-reset/sample0/proc/net/dev'));
    expect([...n.keys()]).toEqual(['lo', 'eth0', 'docker0', 'veth12ab', 'ens3']);
    expect(n.get('eth0')).toEqual({ rx: [100000, 1000, 1, 2, 0, 0, 0, 5], tx: [200000, 1500, 0, 1, 0, 0, 0, 0] });
    expect(n.get('veth12ab')!.tx[0]).toBe(800);
  });
});

describe('procfs.parseSockstat (/proc/net/sockstat, sockstat6)', () => {
  it('returns <protocol>.<field> for every pair', () => {
    const s = procfs.parseSockstat(fixture('collectors/sockets/normal-host/sample0/proc/net/sockstat'));
    expect(s.get('sockets.used')).toBe(160);
    expect(s.get('TCP.inuse')).toBe(5);
    expect(s.get('TCP.orphan')).toBe(1);
    expect(s.get('TCP.tw')).toBe(2);
    expect(s.get('TCP.alloc')).toBe(8);
    expect(s.get('TCP.mem')).toBe(3);
    expect(s.get('UDP.mem')).toBe(4);
    expect(s.get('FRAG.memory')).toBe(0);
    const s6 = procfs.parseSockstat(fixture('collectors/sockets/normal-host/sample0/proc/net/sockstat6'));
    expect(s6.get('TCP6.inuse')).toBe(4);
    expect(s6.get('RAW6.inuse')).toBe(1);
  });
});

describe('procfs.vmstatFields (/proc/vmstat)', () => {
  it('finds the asked fields wherever they are, the first line included', () => {
    const text = fixture('collectors/vmstat/normal-host/sample1/proc/vmstat');
    expect(procfs.vmstatFields(text, ['pgfault', 'pgmajfault', 'pgpgin', 'pgpgout', 'pswpin', 'pswpout'])).toEqual([1500, 12, 5100, 9000, 0, 5]);
    expect(procfs.vmstatFields(text, ['nr_free_pages'])).toEqual([120000]);
  });

  it('says undefined for a field that is missing, also when it is the start of another name', () => {
    const text = fixture('collectors/vmstat/normal-host/sample0/proc/vmstat');
    expect(procfs.vmstatFields(text, ['pgpg', 'pgsteal', 'pgmajfault'])).toEqual([undefined, undefined, 10]);
  });
});

describe('procfs.parseMountinfo (/proc/self/mountinfo)', () => {
  it('returns device, mount point, type and source per mount, escapes undone', () => {
    const m = procfs.parseMountinfo(fixture('collectors/diskspace/mounts/sample0/proc/self/mountinfo'));
    expect(m).toHaveLength(9);
    expect(m[0]).toEqual({ device: '8:1', mountPoint: '/', fsType: 'ext4', source: '/dev/sda1' });
    expect(m[4]).toEqual({ device: '0:50', mountPoint: '/mnt/nfs', fsType: 'nfs4', source: 'fileserver:/export' });
    // A mount without optional fields (no shared:N) has its separator at the seventh field.
    expect(m[7]).toEqual({ device: '0:60', mountPoint: '/var/lib/docker/overlay2/abc/merged', fsType: 'overlay', source: 'overlay' });
    expect(m[8]!.mountPoint).toBe('/mnt/with space');
  });
});

describe('the plugin API', () => {
  it('gives outside plugins the parsers the built-in collectors use', () => {
    expect(pluginApi.procfs.parseStat).toBe(procfs.parseStat);
    expect(Object.keys(pluginApi.procfs).sort()).toEqual(Object.keys(procfs).sort());
  });
});
