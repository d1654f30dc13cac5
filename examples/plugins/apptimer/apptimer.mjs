// apptimer: an example sonde log parser for an application's own request log, with a timer:
//   2026-11-22T10:00:00Z req id=17 path=/api/users status=200 took=12.5ms
// It reports requests and errors (status 5xx) per second, slow requests, and the latency's
// count, min, max, mean, median and percentiles, with Logster's arithmetic (api.percentile).
// Try it: sonde logster --parser-options "-p 90,99" ./apptimer.mjs /var/log/app/requests.log
// Test it: sonde test .

const LINE = / status=(\d{3}) took=(\d+(?:\.\d+)?)ms(?:\s|$)/;

/** @param {import('sonde/plugin').Api} api */
export default (api) =>
  api.defineParser({
    name: 'apptimer',
    aliases: [],
    description: 'An application request log with a timer (status=NNN took=N.Nms): rates, errors, slow requests and latency statistics',
    schema: api.z.object({
      percentiles: api.z.array(api.z.number().min(0).max(100)).default([90]).describe('Latency percentiles to report, as latency.<p>th_percentile'),
      slow_ms: api.z.number().min(0).default(1000).describe('A request taking this many milliseconds or more counts as slow'),
    }),
    flags: [
      { long: '--percentiles', short: '-p', key: 'percentiles' },
      { long: '--slow-ms', key: 'slow_ms' },
    ],
    create(options) {
      let requests = 0;
      let errors = 0;
      let slow = 0;
      let took = [];
      return {
        // The core skips, without decoding them, lines that lack this text.
        needles: ['took='],
        parseLine(line) {
          const m = LINE.exec(line);
          if (m === null) return;
          const ms = Number(m[2]);
          requests++;
          if (m[1] >= '500') errors++;
          if (ms >= options.slow_ms) slow++;
          took.push(ms);
        },
        report(durationSeconds) {
          const d = durationSeconds > 0 ? durationSeconds : 1;
          const out = [
            { name: 'requests', value: requests / d, float: true, units: 'Requests per sec' },
            { name: 'errors', value: errors / d, float: true, units: 'Errors per sec' },
            { name: 'slow', value: slow / d, float: true, units: 'Slow requests per sec' },
          ];
          // A quiet interval has no latency to report: nothing, rather than zeros that would read as "instant".
          if (took.length > 0) {
            const sorted = api.sortNumbers(took);
            out.push(
              { name: 'latency.count', value: sorted.length },
              { name: 'latency.min', value: sorted[0], float: true, units: 'ms' },
              { name: 'latency.max', value: sorted[sorted.length - 1], float: true, units: 'ms' },
              { name: 'latency.mean', value: api.mean(sorted), float: true, units: 'ms' },
              { name: 'latency.median', value: api.percentile(sorted, 50), float: true, units: 'ms' },
              ...options.percentiles.map((p) => ({ name: `latency.${p}th_percentile`, value: api.percentile(sorted, p), float: true, units: 'ms' })),
            );
          }
          requests = 0;
          errors = 0;
          slow = 0;
          took = [];
          return out;
        },
      };
    },
  });
