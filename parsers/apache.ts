// Apache access log status codes: Logster's SampleLogster.
import { defineParser, z, type ParsedMetric } from '../src/plugin-api.js';

// Logster's pattern, anchored at the line's start as Python's re.match is.
const LINE = /^.*HTTP\/1.\d" (\d{3}) /;

export default defineParser({
  name: 'apache',
  aliases: ['SampleLogster'],
  description: 'Apache access log: responses per second by status class, http_1xx to http_5xx (Logster\'s SampleLogster)',
  schema: () => z.strictObject({}),
  create() {
    const counts = [0, 0, 0, 0, 0];
    return {
      needles: ['HTTP/1.'],
      parseLine(line: string) {
        const m = LINE.exec(line);
        if (m === null) return;
        const status = Number(m[1]);
        counts[status < 200 ? 0 : status < 300 ? 1 : status < 400 ? 2 : status < 500 ? 3 : 4]!++;
      },
      report(duration: number): ParsedMetric[] {
        const d = duration > 0 ? duration : 1;
        const out = counts.map((n, i) => ({ name: `http_${i + 1}xx`, value: n / d, float: true, units: 'Responses per sec' }));
        counts.fill(0);
        return out;
      },
    };
  },
});
