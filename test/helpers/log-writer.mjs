// A process that writes a log the way a daemon does, for rotation tests: numbered Postfix
// "sent" lines appended through an O_APPEND descriptor at a steady pace.
//
//   node log-writer.mjs FILE TOTAL [LINES_PER_TICK] [TICK_MS] [LATE_MS]
//
// SIGHUP: reopen FILE now (postrotate `kill -HUP`), then print "reopened".
// SIGUSR1: keep writing to the old descriptor for LATE_MS, then reopen (a late writer).
// SIGUSR2: pause writing (prints "paused"), or resume when paused (prints "resumed").
// The test may SIGSTOP/SIGCONT it around a copytruncate. Prints "done <n>" and exits when all
// TOTAL lines are written.
import { closeSync, constants, openSync, writeSync } from 'node:fs';

const [file, totalArg, perTickArg = '2', tickArg = '2', lateArg = '700'] = process.argv.slice(2);
const total = Number(totalArg);
const perTick = Number(perTickArg);
const tick = Number(tickArg);
const late = Number(lateArg);

const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT;
let fd = openSync(file, flags, 0o644);
let n = 0;

const line = (i) => `Nov 23 10:00:00 mx1 postfix/smtp[1]: Q${i}: to=<u${i}@x.org>, relay=x[192.0.2.1]:25, delay=1, delays=0/0/0/0, dsn=2.0.0, status=sent (250 ok seq=${i})\n`;

function reopen() {
  const old = fd;
  fd = openSync(file, flags, 0o644);
  closeSync(old);
  process.stdout.write('reopened\n');
}

process.on('SIGHUP', reopen);
process.on('SIGUSR1', () => setTimeout(reopen, late));
let paused = false;
process.on('SIGUSR2', () => {
  paused = !paused;
  process.stdout.write(paused ? 'paused\n' : 'resumed\n');
});

const timer = setInterval(() => {
  if (paused) return;
  let chunk = '';
  for (let k = 0; k < perTick && n < total; k++) chunk += line(++n);
  if (chunk) writeSync(fd, chunk);
  if (n >= total) {
    clearInterval(timer);
    // Give a pending late reopen the chance to happen, so the test sees the final file layout.
    setTimeout(() => {
      closeSync(fd);
      process.stdout.write(`done ${n}\n`);
      process.exit(0);
    }, late + 50);
  }
}, tick);
