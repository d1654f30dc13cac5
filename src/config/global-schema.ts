// The agent-wide part of sonde.yaml. Collector and handler sections are validated against each
// plugin's own schema (validate.ts), merged with the common keys below.
import { z } from 'zod';
import { bytes, duration } from '../schema/units.js';
import { HOSTNAME_METHODS } from '../model/hostname.js';

import { LOG_LEVELS } from '../logging/levels.js';
export { LOG_LEVELS, type LogLevel } from '../logging/levels.js';

// A collector run every 100ms already costs a core a noticeable share; one a day apart is as rare as
// a metric can usefully be.
const INTERVAL = { min: '100ms', max: '1d' } as const;

export const globalSchema = z.strictObject({
  path_prefix: z.string().default('servers').describe('First part of every metric path (Diamond: path_prefix).'),
  path_suffix: z.string().default('').describe('Inserted after the host name, e.g. "prod"; empty for none.'),
  hostname: z
    .string()
    .min(1)
    .optional()
    .describe('A literal host name for metric paths; with hostname_method shell, the command that prints it.'),
  hostname_method: z
    .enum(HOSTNAME_METHODS)
    .default('smart')
    .describe('How the host segment is found when hostname is not set (Diamond\'s methods).'),
  interval: duration(INTERVAL).prefault('10s').describe('Default collection interval for every collector.'),
  state_dir: z.string().min(1).default('/var/lib/sonde').describe('Counter state, log offsets and the spool live here.'),
  plugin_paths: z.array(z.string()).default(['/etc/sonde/plugins']).describe('Directories searched for .js/.mjs plugins.'),
  proc_root: z.string().min(1).default('/proc').describe('Where /proc is (e.g. /host/proc in a container).'),
  sys_root: z.string().min(1).default('/sys').describe('Where /sys is.'),
  log_level: z.enum(LOG_LEVELS).default('info').describe('trace, debug, info, warn, error or fatal.'),
  max_names_per_collector: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(10_000)
    .describe('Metric names (and derive/delta counters) one collector may make; past it new ones are refused, counted in sonde.collector.<name>.names_refused and logged. A section\'s max_names overrides it.'),
  shutdown_timeout: duration({ max: '1h' }).prefault('10s').describe('How long SIGTERM waits for outboxes to flush; 0 does not wait.'),
  self_metrics: z
    .strictObject({
      enabled: z.boolean().default(true).describe('Report sonde\'s own figures under <prefix>.<host>.sonde.'),
      interval: duration(INTERVAL).prefault('60s').describe('How often they are reported: less often than the collectors by default, so that they are not half of what a new installation shows.'),
    })
    .prefault({})
    .describe('sonde\'s own figures: run time per collector, outbox depth, drops.'),
  // `collectors:` with nothing under it (YAML null) means none, as an operator would expect.
  collectors: z
    .record(z.string(), z.unknown())
    .nullable()
    .default({})
    .transform((v) => v ?? {})
    .describe('One section per collector.'),
  handlers: z
    .record(z.string(), z.unknown())
    .nullable()
    .default({})
    .transform((v) => v ?? {})
    .describe('One section per handler.'),
});

export type GlobalConfig = z.output<typeof globalSchema>;

/** Keys every collector section accepts, besides its plugin's own. */
export const collectorCommonShape = {
  enabled: z.boolean().default(true).describe('Run this collector.'),
  type: z.string().optional().describe('The collector plugin, when the section name is not its name.'),
  interval: duration(INTERVAL).optional().describe('Defaults to the global interval.'),
  timeout: duration({ min: '10ms', max: INTERVAL.max }).optional().describe('A run that takes longer is abandoned; defaults to the interval, and may not be longer.'),
  path: z.string().optional().describe('Metric path below the host; defaults to the collector\'s own.'),
  max_names: z.number().int().min(1).max(1_000_000).optional().describe('Overrides max_names_per_collector for this collector.'),
};

/** Keys every handler section accepts: the core's outbox settings. */
export const handlerCommonShape = {
  enabled: z.boolean().default(true).describe('Send samples through this handler.'),
  type: z.string().optional().describe('The handler plugin, when the section name is not its name.'),
  batch_size: z.number().int().min(1).max(1_000_000).optional().describe('Samples per send; a full batch is sent at once.'),
  flush_interval: duration({ max: '1h' }).optional().describe('A partial batch is sent after waiting this long; 0 sends what is queued at once.'),
  queue_size: z.number().int().min(1).max(10_000_000).default(100_000).describe('Samples held in memory for this handler before the oldest are dropped (counted and logged).'),
  send_timeout: duration({ min: '100ms', max: '1h' }).prefault('30s').describe('A send that takes longer counts as failed and is retried.'),
  retry_min: duration({ min: '10ms', max: '1h' }).prefault('500ms').describe('First retry delay after a failed send.'),
  retry_max: duration({ min: '10ms', max: '1d' }).prefault('1m').describe('Longest retry delay (exponential backoff with jitter); a retry_max below retry_min means retry_min.'),
  spool: z.boolean().optional().describe('Spill to state_dir/spool/<handler>/ when the outbox is full and at shutdown, and send that first later. On by default (off for stdout).'),
  spool_max_bytes: bytes({ min: '16KiB', max: '1TiB' }).prefault('1GiB').describe('Disk the spool may use; past it the oldest spooled samples are dropped (counted and logged). To keep no spool, write spool: false.'),
  spool_max_age: duration({ min: '1m', max: '365d' }).prefault('7d').describe('Spooled samples older than this are dropped (counted and logged).'),
};
