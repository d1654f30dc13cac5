// How an outbox's events read in sonde's log: one message per kind of event, each saying what
// happened to the samples and what to do, throttled so an outage does not flood the log.
import type { OutboxEvents } from '../delivery/outbox.js';
import type { LogThrottle } from '../logging/throttle.js';
import type { Logger } from '../logging/logger.js';
import { relativePath } from '../model/naming.js';

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
    damaged(file, lost, why) {
      const t = throttle.check(`spoolread:${key}`);
      if (!t.log) return;
      log.error(
        { handler: key, file, dropped: lost, held_back: t.suppressed },
        `handler ${key}: spool file ${file} could not be read whole (${why}); its ${lost} unreadable samples are dropped (counted in sonde.handler.${key}.dropped) and sending goes on with the rest. It was removed or changed after sonde wrote it (by another program, or a crash of the host): leave that directory to sonde`,
      );
    },
    spoolWriteFailed(f) {
      const t = throttle.check(`spoolwrite:${key}`);
      if (!t.log) return;
      const fields = { handler: key, dir: f.dir, dropped: f.dropped, dropped_total: f.total, held_back: t.suppressed };
      if (f.dropped === 0) {
        log.error(fields, `handler ${key}: could not flush the disk spool in ${f.dir} (${f.error.message}); what it holds may be lost if the host goes down. Check that file system`);
      } else if (f.full) {
        log.error(fields, `handler ${key}: the disk spool in ${f.dir} is out of space (${f.error.message}); dropped ${f.dropped} samples, the oldest spooled first (${f.total} since it filled, counted in sonde.handler.${key}.dropped). Other handlers are not affected. Free space on that file system or lower spool_max_bytes to what it can hold`);
      } else {
        log.error(fields, `handler ${key}: cannot write the disk spool in ${f.dir} (${f.error.message}); dropped ${f.dropped} samples (${f.total} since, counted in sonde.handler.${key}.dropped). Other handlers are not affected. Check that file system and the directory's permissions`);
      }
    },
    spoolWritable(dir, dropped) {
      throttle.clear(`spoolwrite:${key}`);
      log.info({ handler: key, dir, dropped }, `handler ${key}: the disk spool in ${dir} takes writes again; ${dropped} samples were dropped while it could not`);
    },
    rejected(count, first, reason) {
      const t = throttle.check(`reject:${key}`);
      if (!t.log) return;
      const name = relativePath(first.name);
      log.error(
        { handler: key, dropped: count, metric: name, held_back: t.suppressed },
        `handler ${key}: dropped ${count === 1 ? '1 sample' : `${count} samples`} it can never send, the first ${name} (${reason.message}); counted in sonde.handler.${key}.dropped and never retried, the rest of the batch is sent. Fix the collector that emits it (${first.name.collector || name})`,
      );
    },
    internalError(where, err) {
      if (err.name === 'SpoolReadError') {
        const t = throttle.check(`spool-read:${key}`);
        if (t.log) log.warn({ handler: key, held_back: t.suppressed }, `handler ${key}: ${err.message} (tried again with backoff; nothing is lost while it fails). Check the spool directory's permissions and the open-file limit`);
        return;
      }
      const t = throttle.check(`internal:${key}`);
      if (t.log) log.error({ handler: key, held_back: t.suppressed }, `handler ${key}: unexpected error while ${where}: ${err.message}; delivery goes on. Please report this as a bug, with this line`);
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
