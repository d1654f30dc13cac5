// diskspace: space and inodes per mounted filesystem (mount table from /proc/self/mountinfo,
// figures from statfs), with Diamond's DiskSpaceCollector names. A statfs that does not answer
// (a dead network mount) never freezes the agent: it is abandoned, logged and counted, and that
// mount is not asked again until the call returns.
import { defineCollector, regex, z, type StatFs } from '../src/plugin-api.js';
import { diskspaceFallback, SOURCES, useFallback } from './fallback/systeminformation.js';

export interface Mount {
  readonly device: string; // major:minor
  readonly mountPoint: string;
  readonly fsType: string;
  readonly source: string;
}

/** Undoes mountinfo's octal escapes (`\040` is a space). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses /proc/self/mountinfo, in mount order. */
export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (f.length < 10 || sep < 0) continue;
    out.push({ device: f[2]!, mountPoint: unescape(f[4]!), fsType: f[sep + 1]!, source: unescape(f[sep + 2] ?? '') });
  }
  return out;
}

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

interface DiskState {
  /** statfs calls that have not returned, by mount point. */
  readonly pending: Set<string>;
  /** Mount points whose statfs passed its deadline and has not returned yet (logged once each). */
  readonly stuck: Set<string>;
  readonly filters: RegExp[];
}

export default defineCollector({
  name: 'diskspace',
  description: 'Free, used and available bytes and inodes per mounted filesystem (statfs), one entry per device.',
  schema: z.object({
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
    statfs_timeout: z.number().positive().default(2).describe('Seconds a statfs may take before the mount is reported stuck and skipped.'),
  }),
  init: (ctx): DiskState => ({ pending: new Set(), stuck: new Set(), filters: ctx.config.exclude_filters.map((f) => new RegExp(f)) }),
  async collect(ctx) {
    const { pending, stuck, filters } = ctx.state;
    if (await useFallback(ctx, 'self/mountinfo')) {
      return diskspaceFallback(ctx, (m) => filters.some((f) => f.test(m)), mountName);
    }
    const types = new Set(ctx.config.filesystems);
    const seen = new Set<string>();
    const mounts: Mount[] = [];
    for (const m of parseMountinfo(await ctx.proc.read('self/mountinfo'))) {
      if (!types.has(m.fsType) || filters.some((f) => f.test(m.mountPoint))) continue;
      if (seen.has(m.device)) continue; // a bind mount or a second mount of one device: first wins
      seen.add(m.device);
      mounts.push(m);
    }

    const deadline = ctx.config.statfs_timeout * 1000;
    const sync = ctx.statfsSync;
    const results = await Promise.all(
      mounts.map(async (m): Promise<[Mount, StatFs | undefined]> => {
        if (sync !== undefined && ANSWERS_FROM_MEMORY.has(m.fsType)) {
          try {
            return [m, sync(m.mountPoint)];
          } catch (err) {
            ctx.log.warn(`statfs of ${m.mountPoint} failed: ${(err as Error).message}`);
            return [m, undefined];
          }
        }
        if (pending.has(m.mountPoint)) return [m, undefined];
        pending.add(m.mountPoint);
        const call = ctx.statfs(m.mountPoint).finally(() => {
          if (pending.delete(m.mountPoint) && stuck.has(m.mountPoint)) ctx.log.info(`statfs of ${m.mountPoint} answers again`);
          stuck.delete(m.mountPoint);
        });
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), deadline)));
        try {
          const r = await Promise.race([call, late]);
          if (r === 'late') {
            stuck.add(m.mountPoint);
            ctx.log.warn(`statfs of ${m.mountPoint} (${m.fsType} from ${m.source}) has not answered in ${ctx.config.statfs_timeout} s; skipping it until it does`);
            return [m, undefined];
          }
          return [m, r];
        } catch (err) {
          ctx.log.warn(`statfs of ${m.mountPoint} failed: ${(err as Error).message}`);
          return [m, undefined];
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    ctx.health('stuck_mounts', pending.size);

    for (const [m, s] of results) {
      if (s === undefined) continue;
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
  },
});
