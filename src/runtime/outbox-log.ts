// How an outbox's events read in sonde's log: one message per kind of event, each saying what
// happened to the samples and what to do, throttled so an outage does not flood the log.
import type { OutboxEvents } from '../delivery/outbox.js';
import type { LogThrottle } from '../logging/throttle.js';
import type { Logger } from '../logging/logger.js';

export function outboxEvents(key: string, log: Logger, throttle: LogThrottle): OutboxEvents {
  return {
    sendFailed(err, attempt, retryInMs) {
      const t = throttle.check(`send:${key}`);
      if (!t.log) return;
      log.error(
        { handler: key, attempt, retry_in_ms: retryInMs, held_back: t.suppressed },
        `handler ${key}: send failed: ${err.message}; samples stay queued and are retried (attempt ${attempt}, next in ${Math.round(retryInMs / 100) / 10} s)`,
      );
    },
    recovered(afterAttempts) {
      throttle.clear(`send:${key}`);
      log.info({ handler: key }, `handler ${key}: sending again after ${afterAttempts} failed attempts`);
    },
    resending(count, windowMs) {
      const t = throttle.check(`resend:${key}`);
      if (t.log) log.warn({ handler: key, resending: count }, `handler ${key}: the connection broke; the ${count} samples written in the ${Math.round(windowMs / 100) / 10} s before it are sent again (the upstream acknowledges nothing and may not have stored them)`);
    },
    spooled(count, why) {
      const t = throttle.check(`spool:${key}:${why}`);
      if (t.log) log.warn({ handler: key, spooled: count }, why === 'full' ? `handler ${key}: outbox full; ${count} samples written to the disk spool (sent first once the upstream accepts again)` : `handler ${key}: ${count} samples not sent by shutdown were written to the disk spool; they are sent first on the next start`);
    },
    torn(file, bytes) {
      log.warn({ handler: key, file, bytes }, `handler ${key}: spool file ${file} ended in a torn record (${bytes} bytes, a crash while writing); the whole records before it are sent`);
    },
    spoolDropped(d) {
      log.error({ handler: key, dropped: d.samples, reason: d.reason }, `handler ${key}: spool ${d.reason === 'size' ? 'full (spool_max_bytes)' : 'too old (spool_max_age)'}; dropped its ${d.samples} oldest samples`);
    },
    dropped(count, total) {
      const t = throttle.check(`drop:${key}`);
      if (!t.log) return;
      log.error(
        { handler: key, dropped: count, dropped_total: total },
        `handler ${key}: outbox full; dropped the ${count} oldest samples (${total} since start). The upstream is down or slower than collection: fix it or raise queue_size`,
      );
    },
  };
}
