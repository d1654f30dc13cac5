// A deterministic, realistic Postfix mail.log: smtpd connect/disconnect, cleanup, qmgr, smtp and
// local deliveries (sent, deferred, bounced in realistic shares) and NOQUEUE rejects.
import { openSync, writeSync, closeSync } from 'node:fs';

/** Small deterministic PRNG (mulberry32) so every run writes the same file. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Writes `lines` lines to `file`; returns the expected counts of sent, deferred and bounced. */
export function writeMailLog(file, lines, seed = 42) {
  const r = rng(seed);
  const fd = openSync(file, 'w');
  const hosts = ['mail.example.org', 'mx.example.net', 'smtp.example.com', 'relay.example.de'];
  const counts = { sent: 0, deferred: 0, bounced: 0, delaySum: 0, bytes: 0 };
  let out = '';
  let n = 0;
  let t = 0;
  let q = 0x1a2b3c;
  const stamp = () => {
    t += 1;
    const s = t % 60, m = Math.floor(t / 60) % 60, h = Math.floor(t / 3600) % 24;
    return `Nov 22 ${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')} mx1`;
  };
  const emit = (line) => {
    out += line + '\n';
    n++;
    if (out.length > 1 << 20) {
      counts.bytes += writeSync(fd, out);
      out = '';
    }
  };
  while (n < lines) {
    const id = (q++).toString(16).toUpperCase();
    const ip = `192.0.2.${Math.floor(r() * 250) + 1}`;
    const host = hosts[Math.floor(r() * hosts.length)];
    const pid = 1000 + Math.floor(r() * 9000);
    const ts = stamp();
    if (lines - n < 7) {
      // Fill up to the exact line count with lines that count for nothing.
      emit(`${ts} postfix/anvil[${pid}]: statistics: max connection rate 1/60s for (smtp:${ip}) at ${ts.slice(7, 15)}`);
      continue;
    }
    const x = r();
    if (x < 0.08) {
      emit(`${ts} postfix/smtpd[${pid}]: connect from unknown[${ip}]`);
      emit(`${ts} postfix/smtpd[${pid}]: NOQUEUE: reject: RCPT from unknown[${ip}]: 554 5.7.1 <user${pid}@${host}>: Relay access denied; from=<spam@${host}> to=<user${pid}@${host}> proto=ESMTP helo=<${host}>`);
      emit(`${ts} postfix/smtpd[${pid}]: disconnect from unknown[${ip}] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4`);
      continue;
    }
    emit(`${ts} postfix/smtpd[${pid}]: connect from ${host}[${ip}]`);
    emit(`${ts} postfix/smtpd[${pid}]: ${id}: client=${host}[${ip}]`);
    emit(`${ts} postfix/cleanup[${pid + 1}]: ${id}: message-id=<${id}.${pid}@${host}>`);
    emit(`${ts} postfix/qmgr[812]: ${id}: from=<sender${pid}@${host}>, size=${1000 + Math.floor(r() * 90000)}, nrcpt=1 (queue active)`);
    emit(`${ts} postfix/smtpd[${pid}]: disconnect from ${host}[${ip}] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5`);
    const delay = (r() * 5).toFixed(2);
    const y = r();
    const local = r() < 0.2;
    const agent = local ? 'local' : 'smtp';
    const relay = local ? 'local' : `${host}[${ip}]:25`;
    if (y < 0.85) {
      counts.sent++;
      counts.delaySum += Number(delay);
      emit(`${ts} postfix/${agent}[${pid + 2}]: ${id}: to=<rcpt${pid}@${host}>, relay=${relay}, delay=${delay}, delays=0.1/0.01/0.2/0.3, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as ${id}1)`);
    } else if (y < 0.97) {
      counts.deferred++;
      emit(`${ts} postfix/${agent}[${pid + 2}]: ${id}: to=<rcpt${pid}@${host}>, relay=none, delay=${delay}, delays=0.1/0.01/3/0, dsn=4.4.1, status=deferred (connect to ${host}[${ip}]:25: Connection refused)`);
    } else {
      counts.bounced++;
      emit(`${ts} postfix/${agent}[${pid + 2}]: ${id}: to=<rcpt${pid}@${host}>, relay=${relay}, delay=${delay}, delays=0.1/0.01/0.2/0.3, dsn=5.1.1, status=bounced (host ${host}[${ip}] said: 550 5.1.1 user unknown)`);
    }
    emit(`${ts} postfix/qmgr[812]: ${id}: removed`);
  }
  counts.bytes += writeSync(fd, out);
  closeSync(fd);
  return { ...counts, lines: n };
}
