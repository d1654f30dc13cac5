// Postfix mail.log: Logster's PostfixLogster, figure for figure (same names, values and rounding).
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
  if (c === 0x64 && at + 8 <= end && same(buf, at, DEFERRED_W)) return DEFERRED;
  if (c === 0x62 && at + 7 <= end && same(buf, at, BOUNCED_W)) return BOUNCED;
  return 0;
}

/** Whether `buf` holds `word` at `at` (a byte loop: Buffer.compare's call costs more for 8 bytes). */
function same(buf: Buffer, at: number, word: Buffer): boolean {
  for (let i = 1; i < word.length; i++) if (buf[at + i] !== word[i]) return false;
  return true;
}

// Exact powers of ten, written as literals (each is exactly representable up to 1e22).
const POW10 = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
const DEFERRED_W = Buffer.from('deferred');
const BOUNCED_W = Buffer.from('bounced');

/**
 * The delay as Python's float() reads it. Plain decimals (`2.49`) are read here without making a
 * string: digits / 10^k is correctly rounded while both are exact, as strtod's result is.
 */
function delayValue(buf: Buffer, from: number, to: number): number | undefined {
  let m = 0;
  let k = 0;
  let dot = false;
  let digits = 0;
  for (let p = from; p < to; p++) {
    const c = buf[p]!;
    if (c >= 0x30 && c <= 0x39) {
      m = m * 10 + (c - 0x30);
      digits++;
      if (dot) k++;
    } else if (c === 0x2e && !dot) dot = true;
    else return pyFloat(buf.toString('latin1', from, to));
  }
  if (digits === 0 || digits > 15 || k > 22) return pyFloat(buf.toString('latin1', from, to));
  return k === 0 ? m : m / POW10[k]!;
}

export default defineParser({
  name: 'postfix',
  aliases: ['PostfixLogster'],
  description:
    'Postfix mail.log: counts deliveries with status sent, deferred and bounced, their shares and rates, and the mean delay of sent mail (Logster\'s PostfixLogster)',
  schema: () => z.strictObject({}),
  create() {
    let sent = 0;
    let deferred = 0;
    let bounced = 0;
    let totalDelay = 0;
    // Logster's pattern `.*delay=(?P<d>[^,]+),.*status=(?P<s>sent|deferred|bounced)`, matched from the
    // line's start, picks the last such status and the last `delay=<value>,` that ends before it.
    const parseBytes = (buf: Buffer, start: number, end: number, lastNeedle: number): void => {
      // (A negative offset would make lastIndexOf count from the buffer's end.)
      if (end - start < DELAY.length + STATUS.length + 5) return;
      // The core passes the last `status=` of the line when it found it (the needle below).
      let j = lastNeedle >= start ? lastNeedle : buf.lastIndexOf(STATUS, end - STATUS.length);
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
            const d = delayValue(buf, v, comma);
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
        parseBytes(b, 0, b.length, -1);
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
