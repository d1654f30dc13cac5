// The agent-wide part of sonde.yaml. Collector and handler sections are validated against each
// plugin's own schema (validate.ts), merged with the common keys below.
import { z } from 'zod';
import { bytes, duration } from '../schema/units.js';
import { HOSTNAME_METHODS } from '../model/hostname.js';

import { LOG_LEVELS } from '../logging/levels.js';
export { LOG_LEVELS, type LogLevel } from '../logging/levels.js';

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
  interval: duration().prefault('10s').describe('Default collection interval for every collector.'),
  state_dir: z.string().min(1).default('/var/lib/sonde').describe('Counter state, log offsets and the spool live here.'),
  plugin_paths: z.array(z.string()).default(['/etc/sonde/plugins']).describe('Directories searched for .js/.mjs plugins.'),
  proc_root: z.string().min(1).default('/proc').describe('Where /proc is (e.g. /host/proc in a container).'),
  sys_root: z.string().min(1).default('/sys').describe('Where /sys is.'),
  log_level: z.enum(LOG_LEVELS).default('info').describe('trace, debug, info, warn, error or fatal.'),
  shutdown_timeout: duration().prefault('10s').describe('How long SIGTERM waits for outboxes to flush.'),
  self_metrics: z
    .strictObject({
      enabled: z.boolean().default(true).describe('Report sonde\'s own figures under <prefix>.<host>.sonde.'),
      interval: duration().optional().describe('Defaults to the global interval.'),
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
  interval: duration().optional().describe('Defaults to the global interval.'),
  timeout: duration().optional().describe('A run that takes longer is abandoned; defaults to the interval.'),
  path: z.string().optional().describe('Metric path below the host; defaults to the collector\'s own.'),
};

/** Keys every handler section accepts: the core's outbox settings. */
export const handlerCommonShape = {
  enabled: z.boolean().default(true).describe('Send samples through this handler.'),
  type: z.string().optional().describe('The handler plugin, when the section name is not its name.'),
  batch_size: z.number().int().min(1).optional().describe('Samples per send; a full batch is sent at once.'),
  flush_interval: duration().optional().describe('A partial batch is sent after waiting this long.'),
  queue_size: z.number().int().min(1).default(100_000).describe('Samples held in memory for this handler before the oldest are dropped (counted and logged).'),
  send_timeout: duration().prefault('30s').describe('A send that takes longer counts as failed and is retried.'),
  retry_min: duration().prefault('500ms').describe('First retry delay after a failed send.'),
  retry_max: duration().prefault('1m').describe('Longest retry delay (exponential backoff with jitter).'),
  spool: z.boolean().optional().describe('Spill to state_dir/spool/<handler>/ when the outbox is full and at shutdown, and send that first later. On by default (off for stdout).'),
  spool_max_bytes: bytes().prefault('1GiB').describe('Disk the spool may use; past it the oldest spooled samples are dropped (counted and logged).'),
  spool_max_age: duration().prefault('7d').describe('Spooled samples older than this are dropped (counted and logged).'),
};
