// Helpers shared by the benchmarks: timing child processes and reading their cost from /proc.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export const CLK_TCK = 100; // USER_HZ on Linux

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Wall time (ms) and peak RSS (KiB) of one run, via GNU time (Debian package "time"). */
export function timeOnce(cmd, args, env = {}) {
  if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is missing: apt-get install time');
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-500)}`);
  const rss = Number(r.stderr.trim().split('\n').pop());
  return { wall, rss };
}

/** Runs each command `n` times, interleaved so that machine noise hits them alike. */
export function timeMany(commands, n) {
  const res = commands.map(() => ({ wall: [], rss: [] }));
  for (let i = 0; i < n; i++) {
    commands.forEach((c, j) => {
      const r = timeOnce(c.cmd, c.args, c.env);
      res[j].wall.push(r.wall);
      res[j].rss.push(r.rss);
    });
  }
  return res.map((r, j) => ({ name: commands[j].name, wall: median(r.wall), rss: median(r.rss) }));
}

/** utime + stime of a process, in ms. */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** Peak and current resident set size (KiB). */
export function rssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const get = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { peak: get('VmHWM'), now: get('VmRSS') };
}

export function startProcess(cmd, args, opts = {}) {
  return spawn(cmd, args, { stdio: ['ignore', opts.stdout ?? 'ignore', opts.stderr ?? 'ignore'], env: { ...process.env, ...(opts.env ?? {}) } });
}

/** The number after `--<name>` on the command line, or `def`. */
export function numberArg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Prints rows as an aligned text table (also valid Markdown). */
export function table(headers, rows) {
  const all = [headers, ...rows].map((r) => r.map(String));
  const w = headers.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ')} |`;
  return [line(all[0]), `|${w.map((x, i) => (i === 0 ? '-'.repeat(x + 2) : `${'-'.repeat(x + 1)}:`)).join('|')}|`, ...all.slice(1).map(line)].join('\n');
}
