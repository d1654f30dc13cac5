// Apache 2.2 error_log levels: Logster's ErrorLogLogster.
import { defineParser, z, type ParsedMetric } from '../src/plugin-api.js';

const LINE = /^\[[^\]]+\] \[(\w+)\] /;
const LEVELS = ['notice', 'warn', 'error', 'crit'] as const;

export default defineParser({
  name: 'errorlog',
  aliases: ['ErrorLogLogster'],
  description: 'Apache 2.2 error_log ([date] [level] ...): notice, warn, error, crit and other lines per 10 seconds (Logster\'s ErrorLogLogster)',
  schema: () => z.strictObject({}),
  create() {
    const counts = new Map<string, number>([...LEVELS, 'other'].map((l) => [l, 0]));
    return {
      parseLine(line: string) {
        const m = LINE.exec(line);
        if (m === null) return;
        const level = counts.has(m[1]!) ? m[1]! : 'other';
        counts.set(level, counts.get(level)! + 1);
      },
      report(duration: number): ParsedMetric[] {
        const per10 = (duration > 0 ? duration : 1) / 10;
        const out = [...counts].map(([name, n]) => ({ name, value: n / per10, float: true, units: 'Logs per 10 sec' }));
        for (const k of counts.keys()) counts.set(k, 0);
        return out;
      },
    };
  },
});
