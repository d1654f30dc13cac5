// diskspace: space and inodes per mounted filesystem (mount table from /proc/self/mountinfo,
// figures from statfs), with Diamond's DiskSpaceCollector names. A statfs that does not answer
// (a dead network mount) never freezes the agent: it is abandoned, logged and counted, and that
// mount is not asked again until the call returns.
import { defineCollector, procfs, regex, SOURCES, z, type CollectorContext, type StatFs } from '../src/plugin-api.js';

type Mount = procfs.Mount;

/** Diamond's name for a mount point: `/` is `root`, otherwise `/` and `.` become `_`. */
export function mountName(mountPoint: string): string {
  if (mountPoint === '/') return 'root';
  return mountPoint.replaceAll('\\', '').replace(/[/.]/g, '_');
}

/**
 * Local filesystems whose statfs reads counters the kernel keeps in memory: no I/O, no server, so
 * it cannot hang and is asked on the agent's thread (a tenth of the cost of the thread pool's
 * round trip). Everything else (network, FUSE, btrfs, zfs) goes through the deadline below.
 */
const ANSWERS_FROM_MEMORY = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'tmpfs', 'devtmpfs', 'ramfs', 'vfat', 'msdos', 'exfat', 'f2fs', 'jfs', 'hfs', 'hfsplus']);

const UNITS: Record<string, number> = { byte: 1, kilobyte: 1024, megabyte: 1024 ** 2, gigabyte: 1024 ** 3, terabyte: 1024 ** 4 };

interface DiskConfig {
  readonly filesystems: readonly string[];
  readonly byte_unit: readonly string[];
  readonly statfs_timeout: number;
}

/** Abandons a probe that takes longer than `ms` (df on a dead mount hangs), leaving it pending. */
async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Without /proc: systeminformation's df, one entry per device, the same names and units. */
async function collectFallback(ctx: CollectorContext<DiskConfig, unknown>, excluded: (mount: string) => boolean): Promise<void> {
  const fss = await bounded((await ctx.fallback.systeminformation()).fsSize(), ctx.config.statfs_timeout * 1000 * 5, 'df (systeminformation fsSize)');
  const seen = new Set<string>();
  for (const f of fss) {
    if (!ctx.config.filesystems.includes(f.type) || excluded(f.mount) || seen.has(f.fs)) continue;
    seen.add(f.fs);
    const free = f.size - f.used;
    const name = mountName(f.mount);
    for (const unit of ctx.config.byte_unit) {
      const u = UNITS[unit] ?? 1;
      if (f.size > 0) ctx.emit([name, `${unit}_percentfree`], (100 * free) / f.size, { precision: 2 });
      ctx.emit([name, `${unit}_used`], f.used / u, { precision: 2 });
      ctx.emit([name, `${unit}_free`], free / u, { precision: 2 });
      ctx.emit([name, `${unit}_avail`], f.available / u, { precision: 2 });
    }
  }
}

interface DiskState {
  /** statfs calls that have not returned, by mount point. */
  readonly pending: Set<string>;
  /** Mount points whose statfs passed its deadline and has not returned yet (logged once each). */
  readonly stuck: Set<string>;
  readonly filters: RegExp[];
}

type DiskCtx = CollectorContext<DiskConfig, DiskState>;

/** The mounts to report: configured types, not excluded, one per device (the first mount wins). */
function chooseMounts(ctx: DiskCtx, all: readonly Mount[]): Mount[] {
  const types = new Set(ctx.config.filesystems);
  const seen = new Set<string>();
  const mounts: Mount[] = [];
  for (const m of all) {
    if (!types.has(m.fsType) || ctx.state.filters.some((f) => f.test(m.mountPoint))) continue;
    if (seen.has(m.device)) continue; // a bind mount or a second mount of one device: first wins
    seen.add(m.device);
    mounts.push(m);
  }
  return mounts;
}

/** statfs of one mount within the deadline; undefined when it failed, is late or is still pending. */
async function statfsOf(ctx: DiskCtx, m: Mount): Promise<StatFs | undefined> {
  const { pending, stuck } = ctx.state;
  const sync = ctx.statfsSync;
  if (sync !== undefined && ANSWERS_FROM_MEMORY.has(m.fsType)) {
    try {
      return sync(m.mountPoint);
    } catch (err) {
      ctx.log.warn(`statfs of ${m.mountPoint} failed: ${(err as Error).message}`);
      return undefined;
    }
  }
  if (pending.has(m.mountPoint)) return undefined;
  pending.add(m.mountPoint);
  const call = ctx.statfs(m.mountPoint).finally(() => {
    if (pending.delete(m.mountPoint) && stuck.has(m.mountPoint)) ctx.log.info(`statfs of ${m.mountPoint} answers again`);
    stuck.delete(m.mountPoint);
  });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), ctx.config.statfs_timeout * 1000)));
  try {
    const r = await Promise.race([call, late]);
    if (r === 'late') {
      stuck.add(m.mountPoint);
      ctx.log.warn(`statfs of ${m.mountPoint} (${m.fsType} from ${m.source}) has not answered in ${ctx.config.statfs_timeout} s; skipping it until it does`);
      return undefined;
    }
    return r;
  } catch (err) {
    ctx.log.warn(`statfs of ${m.mountPoint} failed: ${(err as Error).message}`);
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

function publish(ctx: DiskCtx, m: Mount, s: StatFs): void {
  const name = mountName(m.mountPoint);
  const p2 = { precision: 2 };
  for (const unit of ctx.config.byte_unit) {
    const size = UNITS[unit]!;
    if (s.blocks > 0) ctx.emit([name, `${unit}_percentfree`], (100 * s.bfree) / s.blocks, p2);
    ctx.emit([name, `${unit}_used`], ((s.blocks - s.bfree) * s.bsize) / size, p2);
    ctx.emit([name, `${unit}_free`], (s.bfree * s.bsize) / size, p2);
    ctx.emit([name, `${unit}_avail`], (s.bavail * s.bsize) / size, p2);
  }
  // Filesystems without a fixed inode table (btrfs) report 0 inodes: nothing to say then.
  if (s.files > 0) {
    const p0 = { precision: 0 };
    ctx.emit([name, 'inodes_percentfree'], (100 * s.ffree) / s.files, p0);
    ctx.emit([name, 'inodes_used'], s.files - s.ffree, p0);
    ctx.emit([name, 'inodes_free'], s.ffree, p0);
    // Linux's statvfs reports f_favail as f_ffree.
    ctx.emit([name, 'inodes_avail'], s.ffree, p0);
  }
}

export default defineCollector({
  name: 'diskspace',
  description: 'Free, used and available bytes and inodes per mounted filesystem (statfs), one entry per device.',
  schema: () => z.object({
    filesystems: z
      .array(z.string())
      .default(['ext2', 'ext3', 'ext4', 'xfs', 'ntfs', 'hfs', 'fat32', 'fat16', 'btrfs'])
      .describe('Filesystem types to report. Network ones (nfs, nfs4, cifs, glusterfs, ceph, fuse.*) are left out by default: a dead server can hang statfs. Add them here to include them.'),
    exclude_filters: z.array(regex()).default(['^/export/home']).describe('Regular expressions; mount points matching any are skipped.'),
    byte_unit: z
      .array(z.enum(['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte']))
      .default(['byte'])
      .describe('Units for <unit>_used, <unit>_free, <unit>_avail and <unit>_percentfree.'),
    source: z.enum(SOURCES).default('auto').describe('auto: /proc where it exists, systeminformation elsewhere (macOS); or force one.'),
    statfs_timeout: z.number().min(0.01).max(60).default(2).describe('Seconds a statfs may take before the mount is reported stuck and skipped.'),
  }),
  init: (ctx): DiskState => ({ pending: new Set(), stuck: new Set(), filters: ctx.config.exclude_filters.map((f) => new RegExp(f)) }),
  async collect(ctx) {
    if (await ctx.fallback.use(ctx.config.source, 'self/mountinfo')) {
      return collectFallback(ctx, (m) => ctx.state.filters.some((f) => f.test(m)));
    }
    const mounts = chooseMounts(ctx, procfs.parseMountinfo(await ctx.proc.read('self/mountinfo')));
    const results = await Promise.all(mounts.map((m) => statfsOf(ctx, m)));
    ctx.health('stuck_mounts', ctx.state.pending.size);
    for (let i = 0; i < mounts.length; i++) {
      const s = results[i];
      if (s !== undefined) publish(ctx, mounts[i]!, s);
    }
  },
});
