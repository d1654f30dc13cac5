// Squid native access log: Logster's SquidLogster.
import { defineParser, z, type ParsedMetric } from '../src/plugin-api.js';

const LINE = /^[0-9.]+ +([0-9]+) .*((?:TCP|UDP|NONE)_[A-Z_]+)\/(\d{3}) /;
const CODES = ['TCP_MISS', 'TCP_DENIED', 'TCP_HIT', 'TCP_MEM_HIT', 'OTHER'] as const;

export default defineParser({
  name: 'squid',
  aliases: ['SquidLogster'],
  description:
    'Squid native access log: responses per second by status class, the second field summed per second (size), and per-second counts of TCP_MISS, TCP_DENIED, TCP_HIT, TCP_MEM_HIT and other codes (Logster\'s SquidLogster)',
  schema: () => z.strictObject({}),
  create() {
    const http = [0, 0, 0, 0, 0];
    const codes = new Map<string, number>(CODES.map((c) => [c, 0]));
    let size = 0;
    return {
      parseLine(line: string) {
        const m = LINE.exec(line);
        if (m === null) return;
        const status = Number(m[3]);
        http[status < 200 ? 0 : status < 300 ? 1 : status < 400 ? 2 : status < 500 ? 3 : 4]!++;
        const code = codes.has(m[2]!) ? m[2]! : 'OTHER';
        codes.set(code, codes.get(code)! + 1);
        size += Number(m[1]);
      },
      report(duration: number): ParsedMetric[] {
        const d = duration > 0 ? duration : 1;
        const out: ParsedMetric[] = http.map((n, i) => ({ name: `http_${i + 1}xx`, value: n / d, float: true, units: 'Responses per sec' }));
        out.push({ name: 'size', value: size / d, float: true, units: 'Size per sec' });
        for (const c of CODES) out.push({ name: `squid_${c}`, value: codes.get(c)! / d, float: true, units: 'Squid code per sec' });
        http.fill(0);
        for (const c of CODES) codes.set(c, 0);
        size = 0;
        return out;
      },
    };
  },
});
