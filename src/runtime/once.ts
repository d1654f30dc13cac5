// `sonde once`: every enabled collector once, flush every handler, exit. Counter baselines are kept
// in the state directory so that two runs from cron produce rates.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { LoadedConfig } from '../config/load-config.js';
import { noHandlerHint } from '../config/issue-wording.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import type { Logger } from '../logging/logger.js';
import { reportLoad } from './load-report.js';
import { Pipeline } from './pipeline.js';
import { bootId, RateTracker } from './rate.js';

export const COUNTER_STATE_FILE = 'counters.json';

/** Returns the exit status: 0 when every collector ran and every sample was delivered, else 1. */
export async function runOnce(loaded: LoadedConfig, log: Logger): Promise<number> {
  reportLoad(loaded, log);
  const cfg = loaded.config;
  let failed = false;

  const pipeline = new Pipeline(log);
  pipeline.parsers = loaded.registry.parsers;
  const stateFile = path.join(pipeline.openStateDir(cfg.state_dir), COUNTER_STATE_FILE);
  const boot = bootId();
  const rates = new RateTracker();
  if (boot === undefined) {
    log.info('cannot read this boot\'s id (/proc/sys/kernel/random/boot_id); rates are not carried between runs');
  } else {
    try {
      rates.restore(JSON.parse(readFileSync(stateFile, 'utf8')), boot);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== 'ENOENT') log.warn(`counter state ${stateFile} is unreadable (${e.message}); starting without it: this run emits no rates`);
    }
  }

  // DNS (hostname_method smart/fqdn) is waited for while the collectors run, not before.
  const naming = pipeline.setNaming(cfg);
  const timestamp = Math.floor(Date.now() / 1000) * 1000;
  const runners = cfg.collectors.filter((c) => c.enabled).map((c) => pipeline.runner(c, cfg, { rates }));
  const results = await Promise.all(runners.map((r) => r.runWithin(timestamp, r.section.timeout)));
  await naming;

  // Send loops start at the drain below, after every collector has been routed.
  for (const s of cfg.handlers) if (s.enabled) pipeline.addHandler(s, false);
  if (pipeline.handlers.size === 0) log.warn(noHandlerHint(cfg.files, 'once'));
  results.forEach((res, i) => {
    const key = runners[i]!.key;
    if (res === 'timeout') {
      failed = true;
      log.error({ collector: key }, `collector ${key}: did not finish within its timeout of ${runners[i]!.section.timeout} ms; nothing from it is sent`);
      return;
    }
    if (res.error) {
      failed = true;
      log.error({ collector: key, err: res.error }, `collector ${key}: ${res.error.message}`);
    }
    pipeline.route(res.samples);
  });

  await pipeline.drain(performance.now() + cfg.shutdown_timeout, (hs, lost) => {
    if (lost > 0) {
      failed = true;
      log.error({ handler: hs.section.key, lost }, `handler ${hs.section.key}: ${lost} samples could not be sent within shutdown_timeout (${cfg.shutdown_timeout} ms)`);
    }
    if (hs.outbox.spooled > 0) {
      // Not lost, but not delivered either: cron should see a failed run.
      failed = true;
      log.error({ handler: hs.section.key, spooled: hs.outbox.spooled }, `handler ${hs.section.key}: ${hs.outbox.spooled} samples wait in the disk spool; the next run sends them first`);
    }
  });
  await Promise.all(runners.map((r) => r.close().catch(() => undefined)));

  if (boot !== undefined) {
    try {
      writeFileAtomic(stateFile, JSON.stringify(rates.toJSON(boot)));
    } catch (err) {
      failed = true;
      log.error(`cannot save counter state to ${stateFile}: ${(err as Error).message}; the next run emits no rates`);
    }
  }
  return failed ? 1 : 0;
}
