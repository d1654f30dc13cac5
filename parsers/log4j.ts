// log4j levels: Logster's Log4jLogster.
import { defineParser, z, type ParsedMetric } from '../src/plugin-api.js';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export default defineParser({
  name: 'log4j',
  aliases: ['Log4jLogster'],
  description:
    'log4j logs: lines per second for each level, for lines that start with a timestamp of digits and - _ : . then one space and the level (Logster\'s Log4jLogster)',
  schema: () => z.strictObject({
    log_levels: z.string().min(1).default('WARN,ERROR,FATAL').describe('Comma-separated levels to count, each reported under its own name (`-l`/`--log-levels`)'),
  }),
  flags: [{ long: '--log-levels', short: '-l', key: 'log_levels' }],
  create(options) {
    const levels = options.log_levels.split(',');
    const re = new RegExp(`^[0-9\\-_:.]+ (${levels.map(escape).join('|')})`);
    const counts = new Map<string, number>(levels.map((l) => [l, 0]));
    return {
      parseLine(line: string) {
        const m = re.exec(line);
        if (m !== null) counts.set(m[1]!, counts.get(m[1]!)! + 1);
      },
      report(duration: number): ParsedMetric[] {
        const d = duration > 0 ? duration : 1;
        const out = levels.map((l) => ({ name: l, value: counts.get(l)! / d, float: true }));
        for (const l of levels) counts.set(l, 0);
        return out;
      },
    };
  },
});
