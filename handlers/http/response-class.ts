// The line between retry and reject. A 2xx is accepted. 408, 429 and 5xx say "not now": the batch
// is retried (and spooled). Every other status means the upstream will never take this batch;
// sending it again would block the queue for ever, so it is dropped and counted.

export type Verdict = 'accepted' | 'retry' | 'rejected';

export function classify(status: number): Verdict {
  if (status >= 200 && status < 300) return 'accepted';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  // 1xx and 3xx (a redirect not followed): a wrong url, not a bad batch; keep the data.
  if (status < 400) return 'retry';
  return 'rejected';
}

/** Longest wait a Retry-After may ask for; past it the outbox's own backoff applies. */
export const MAX_RETRY_AFTER_MS = 3600_000;

/** A Retry-After header (delay in seconds, or an HTTP date) in ms from `nowMs`; undefined if absent or unreadable. */
export function retryAfterMs(header: string | undefined, nowMs: number): number | undefined {
  if (header === undefined) return undefined;
  const v = header.trim();
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else {
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    ms = at - nowMs;
  }
  return Math.max(0, Math.min(ms, MAX_RETRY_AFTER_MS));
}

/** InfluxDB 1.x's "partial write: … dropped=N": how many points of the batch it refused. */
export function influxDropped(body: string): number | undefined {
  if (!body.includes('partial write')) return undefined;
  const m = /dropped=(\d+)/.exec(body);
  return m ? Number(m[1]) : undefined;
}
