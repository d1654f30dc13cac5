// Postfix mail.log: Logster's PostfixLogster, figure for figure (COMPAT.md section 3).
import { defineParser, pyFloat, z, type ParsedMetric } from '../src/plugin-api.js';

const STATUS = Buffer.from('status=');
const DELAY = Buffer.from('delay=');
const SENT = 1;
const DEFERRED = 2;
const BOUNCED = 3;

/** The status word at buf[at] (just after `status=`): sent, deferred, bounced, or 0. */
function statusAt(buf: Buffer, at: number, end: number): number {
  const c = buf[at];
  if (c === 0x73 && at + 4 <= end && buf[at + 1] === 0x65 && buf[at + 2] === 0x6e && buf[at + 3] === 0x74) return SENT; // sent
  if (c === 0x64 && at + 8 <= end && buf.toString('latin1', at, at + 8) === 'deferred') return DEFERRED;
  if (c === 0x62 && at + 7 <= end && buf.toString('latin1', at, at + 7) === 'bounced') return BOUNCED;
  return 0;
}

export default defineParser({
  name: 'postfix',
  aliases: ['PostfixLogster'],
  description:
    'Postfix mail.log: counts deliveries with status sent, deferred and bounced, their shares and rates, and the mean delay of sent mail (Logster\'s PostfixLogster)',
  schema: z.strictObject({}),
  create() {
    let sent = 0;
    let deferred = 0;
    let bounced = 0;
    let totalDelay = 0;
    // Logster's pattern `.*delay=(?P<d>[^,]+),.*status=(?P<s>sent|deferred|bounced)`, matched from the
    // line's start, picks the last such status and the last `delay=<value>,` that ends before it.
    const parseBytes = (buf: Buffer, start: number, end: number): void => {
      // (A negative offset would make lastIndexOf count from the buffer's end.)
      if (end - start < DELAY.length + STATUS.length + 5) return;
      let j = buf.lastIndexOf(STATUS, end - STATUS.length);
      let status = 0;
      while (j >= start) {
        status = statusAt(buf, j + STATUS.length, end);
        if (status !== 0) break;
        j = j === start ? -1 : buf.lastIndexOf(STATUS, j - 1);
      }
      if (status === 0 || j < start) return;
      let i = j - DELAY.length >= start ? buf.lastIndexOf(DELAY, j - DELAY.length) : -1;
      while (i >= start) {
        const v = i + DELAY.length;
        const comma = buf.indexOf(0x2c, v);
        if (comma > v && comma < j) {
          if (status === SENT) {
            const d = pyFloat(buf.toString('latin1', v, comma));
            if (d === undefined) return; // Logster's float() raises: the line does not count
            totalDelay += d;
            sent++;
          } else if (status === DEFERRED) deferred++;
          else bounced++;
          return;
        }
        i = i === start ? -1 : buf.lastIndexOf(DELAY, i - 1);
      }
    };
    return {
      needles: ['status='],
      parseBytes,
      parseLine(line: string) {
        const b = Buffer.from(line, 'utf8');
        parseBytes(b, 0, b.length);
      },
      report(duration: number): ParsedMetric[] {
        const total = sent + deferred + bounced;
        const pct = (n: number) => (total > 0 ? (n / total) * 100 : 0);
        const out: ParsedMetric[] = [
          { name: 'numSent', value: sent, units: 'Total Sent' },
          { name: 'pctSent', value: pct(sent), float: true, units: 'Percentage Sent' },
          { name: 'numDeferred', value: deferred, units: 'Total Deferred' },
          { name: 'pctDeferred', value: pct(deferred), float: true, units: 'Percentage Deferred' },
          { name: 'numBounced', value: bounced, units: 'Total Bounced' },
          { name: 'pctBounced', value: pct(bounced), float: true, units: 'Percentage Bounced' },
          { name: 'mailTxnsSec', value: duration > 0 ? total / duration : 0, float: duration > 0, units: 'Transactions per sec' },
          { name: 'mailSentSec', value: duration > 0 ? sent / duration : 0, float: duration > 0, units: 'Sends per sec' },
          { name: 'avgDelay', value: sent > 0 ? totalDelay / sent : 0, float: sent > 0, units: 'Average Sending Delay' },
        ];
        sent = deferred = bounced = totalDelay = 0;
        return out;
      },
    };
  },
});
