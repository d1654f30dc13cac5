// iostat: per-device I/O from /proc/diskstats, with Diamond's DiskUsageCollector names and
// arithmetic, over the measured time between readings. Idle devices report zeros, not gaps.
import { defineCollector, procfs, regex, z } from '../src/plugin-api.js';

const COLUMNS = procfs.DISK_COUNTERS;

const SECTOR = 512;
const UNITS: Record<string, number> = { byte: 1, kilobyte: 1024, megabyte: 1024 ** 2, gigabyte: 1024 ** 3 };

export default defineCollector({
  name: 'iostat',
  description: 'Disk I/O per device from /proc/diskstats: IOPS, throughput, await, utilisation (Diamond\'s iostat names).',
  schema: () => z.object({
    devices: regex()
      .default('^(sd[a-z]+[0-9]*|x?vd[a-z]+[0-9]*|nvme[0-9]+n[0-9]+(p[0-9]+)?|md[0-9]+|dm-[0-9]+)$')
      .describe('A regular expression; devices whose name matches are reported.'),
    byte_unit: z
      .array(z.enum(['byte', 'kilobyte', 'megabyte', 'gigabyte']))
      .default(['byte'])
      .describe('Units for reads_<unit>, read_<unit>_per_second and average_request_size_<unit>.'),
  }),
  init: (ctx) => ({ pattern: new RegExp(ctx.config.devices) }),
  async collect(ctx) {
    const devices = procfs.parseDiskstats(await ctx.proc.read('diskstats'));
    const { pattern } = ctx.state;
    const p0 = { precision: 0 };
    const p2 = { precision: 2 };
    // Baselines live in the core's counter state, so `sonde once` from cron has figures too.
    for (const [name, cur] of devices) {
      if (!pattern.test(name)) continue;
      const d = {} as Record<(typeof COLUMNS)[number], number>;
      let seconds = 0;
      let missing = false;
      for (const k of COLUMNS) {
        if (k === 'io_in_progress') continue;
        const g = ctx.delta(`${name}.${k}`, cur[k]);
        // The first reading, or a counter that went down (driver reload, 32-bit wrap): this
        // interval says nothing true about the device.
        if (g === undefined) missing = true;
        else {
          d[k] = g.delta;
          seconds = g.seconds;
        }
      }
      if (missing || seconds <= 0) continue;

      const e = (leaf: string, v: number, o = p2) => ctx.emit([name, leaf], v, o);
      e('reads', d.reads, p0);
      e('reads_merged', d.reads_merged, p0);
      e('reads_milliseconds', d.reads_milliseconds, p0);
      e('writes', d.writes, p0);
      e('writes_merged', d.writes_merged, p0);
      e('writes_milliseconds', d.writes_milliseconds, p0);
      e('io_milliseconds', d.io_milliseconds, p0);
      e('io_milliseconds_weighted', d.io_milliseconds_weighted, p0);
      e('io_in_progress', cur.io_in_progress, p0);
      e('read_requests_merged_per_second', d.reads_merged / seconds);
      e('write_requests_merged_per_second', d.writes_merged / seconds);
      e('reads_per_second', d.reads / seconds);
      e('writes_per_second', d.writes / seconds);
      const io = d.reads + d.writes;
      for (const unit of ctx.config.byte_unit) {
        const size = UNITS[unit]!;
        const rb = (d.reads_sectors * SECTOR) / size;
        const wb = (d.writes_sectors * SECTOR) / size;
        e(`reads_${unit}`, rb);
        e(`writes_${unit}`, wb);
        e(`read_${unit}_per_second`, rb / seconds);
        e(`write_${unit}_per_second`, wb / seconds);
        e(`average_request_size_${unit}`, io > 0 ? (rb + wb) / io : 0);
      }
      e('io', io, p0);
      e('iops', io / seconds);
      e('average_queue_length', d.io_milliseconds_weighted / seconds / 1000);
      e('util_percentage', d.io_milliseconds / seconds / 10);
      e('read_await', d.reads > 0 ? d.reads_milliseconds / d.reads : 0);
      e('write_await', d.writes > 0 ? d.writes_milliseconds / d.writes : 0);
      const serviceTime = io > 0 ? d.io_milliseconds / io : 0;
      e('service_time', serviceTime);
      e('await', io > 0 ? (d.reads_milliseconds + d.writes_milliseconds) / io : 0);
      e('concurrent_io', (d.reads / seconds + d.writes / seconds) * (serviceTime / 1000));
    }
  },
});
