// Rotations while a writer process keeps appending, for both ways sonde reads logs: the daemon's
// `logs` collector (`sonde run`) and cron's `sonde logster` run again and again. In every
// scenario the lines the writer wrote must be the lines counted: none lost, none twice.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BUNDLE, RunningSonde } from './helpers/sonde.js';

const WRITER = path.resolve(import.meta.dirname, 'helpers', 'log-writer.mjs');
const TOTAL = 2000; // at 1000 lines/s: the rotation happens in the middle of the stream
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Writer {
  readonly child: ChildProcess;
  out = '';
  readonly done: Promise<void>;
  constructor(file: string) {
    this.child = spawn(process.execPath, [WRITER, file, String(TOTAL), '2', '2', '700'], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.out += d));
    this.done = new Promise((resolve, reject) =>
      this.child.on('exit', (code) => (code === 0 && this.out.includes(`done ${TOTAL}`) ? resolve() : reject(new Error(`writer exited ${code}: ${this.out}`)))),
    );
  }
  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }
  async await(text: string, count = 1): Promise<void> {
    const end = Date.now() + 10_000;
    while (this.out.split(text).length - 1 < count) {
      if (Date.now() > end) throw new Error(`writer never printed ${text}: ${this.out}`);
      await sleep(10);
    }
  }
}

interface Counted {
  lines: number;
  seqsum: number | undefined;
}

/** What a consumer needs: start, and stop once it has caught up (returning what it counted). */
interface Consumer {
  runs(): number;
  /** Lines counted so far. */
  counted(): number;
  finish(): Promise<Counted>;
  /** Stops at once (a failed scenario). */
  kill?(): void;
  /** Stops and starts again (daemon: SIGTERM and a new process), `between` running while it is down. */
  restart?(between: () => Promise<void>): Promise<void>;
}

function daemon(dir: string): Consumer {
  const cfg = path.join(dir, 'sonde.yaml');
  writeFileSync(
    cfg,
    `hostname: h
state_dir: ${dir}/state
interval: 1s
self_metrics: { enabled: false }
collectors:
  logs:
    rotate_wait: 2s
    files:
      - path: ${dir}/logs/*.log
        parser: regex
        name: app
        from_start: true
        patterns:
          - match: 'status=sent \\(250 ok seq=(?<seq>\\d+)\\)'
            contains: 'seq='
            counter: lines
            sum: { name: seqsum, value: seq }
handlers:
  stdout: { flush_interval: 100ms }
`,
  );
  const done: RunningSonde[] = [];
  let s = new RunningSonde(['run', '--config', cfg]);
  const all = () => [...done, s];
  const count = (): Counted => {
    let lines = 0;
    let seqsum = 0;
    for (const p of all()) {
      for (const m of p.stdout.matchAll(/^servers\.h\.app\.(lines|seqsum) (\S+) \d+$/gm)) {
        if (m[1] === 'lines') lines += Number(m[2]);
        else seqsum += Number(m[2]);
      }
    }
    return { lines, seqsum };
  };
  return {
    counted: () => count().lines,
    runs: () => all().reduce((n, p) => n + (p.stdout.match(/^servers\.h\.sonde\.collector\.logs\.app_files /gm)?.length ?? 0), 0),
    async restart(between) {
      s.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      done.push(s);
      await between();
      s = new RunningSonde(['run', '--config', cfg]);
    },
    async finish() {
      try {
        // Caught up, then two more intervals to see that nothing is counted twice late.
        await s.until(`${TOTAL} lines counted (so far ${JSON.stringify(count())})`, () => count().lines >= TOTAL, 20_000);
        await sleep(2200);
        s.kill('SIGTERM');
        expect(await s.exited).toBe(0);
        expect(all().map((p) => p.stderr).join('')).not.toMatch(/"level":(50|60)/);
        return count();
      } finally {
        s.kill('SIGKILL');
      }
    },
    kill: () => s.kill('SIGKILL'),
  };
}

function cron(dir: string): Consumer {
  const log = path.join(dir, 'logs', 'mail.log');
  let lines = 0;
  let runs = 0;
  let stopping = false;
  const errors: string[] = [];
  const once = (first: boolean) =>
    new Promise<void>((resolve) => {
      const args = [BUNDLE, 'logster', '-o', 'stdout', '-s', path.join(dir, 'state'), '-l', dir, ...(first ? ['--from-start'] : []), 'PostfixLogster', log];
      const c = spawn(process.execPath, args);
      let out = '';
      let err = '';
      c.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      c.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      c.on('exit', (code) => {
        if (code !== 0) errors.push(`exit ${code}: ${err}`);
        lines += Number(/ numSent (\d+)/.exec(out)?.[1] ?? 0);
        runs++;
        resolve();
      });
    });
  const loop = (async () => {
    await once(true);
    while (!stopping) await once(false);
  })();
  return {
    counted: () => lines,
    runs: () => runs,
    kill: () => void (stopping = true),
    async finish() {
      // The writer is done: a few more runs read what the last ones left (late writers included).
      const until = runs + 3;
      while (runs < until) await sleep(50);
      stopping = true;
      await loop;
      expect(errors).toEqual([]);
      return { lines, seqsum: undefined };
    },
  };
}

type Rotate = (log: string, w: Writer, c: Consumer) => Promise<void>;

async function scenario(mode: 'daemon' | 'cron', rotate: Rotate): Promise<Counted> {
  // Its own directory, removed by this test only: the tests of this file run concurrently.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sonde-rot-'));
  try {
    return await inDir(dir, mode, rotate);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function inDir(dir: string, mode: 'daemon' | 'cron', rotate: Rotate): Promise<Counted> {
  mkdirSync(path.join(dir, 'logs'));
  const log = path.join(dir, 'logs', 'mail.log');
  writeFileSync(log, '');
  const c = mode === 'daemon' ? daemon(dir) : cron(dir);
  // The consumer has looked once before the writer starts (cron: the --from-start run).
  const end = Date.now() + 20_000;
  while (c.runs() < 1 && Date.now() < end) await sleep(20);
  const w = new Writer(log);
  try {
    return await drive(log, w, c, rotate, end);
  } finally {
    w.child.kill('SIGKILL');
    c.kill?.();
  }
}

async function drive(log: string, w: Writer, c: Consumer, rotate: Rotate, end: number): Promise<Counted> {
  await sleep(800); // about 800 lines in
  // A reader that has read nothing has no fingerprint: a copytruncate of a file it last saw empty
  // is invisible to any reader (the copied lines are lost). Rotate once it has read some.
  while (c.counted() === 0 && Date.now() < end + 10_000) await sleep(20);
  await rotate(log, w, c);
  await w.done;
  return c.finish();
}

const seqsum = TOTAL * (TOTAL + 1) / 2;

const waitRuns = async (c: Consumer, n: number) => {
  const target = c.runs() + n;
  while (c.runs() < target) await sleep(20);
};

const rotations: Record<string, { rotate: Rotate; modes: ('daemon' | 'cron')[] }> = {
  'rename and create, the writer appending to the old file for 700 ms more (logrotate create)': {
    modes: ['daemon', 'cron'],
    async rotate(log, w) {
      renameSync(log, `${log}.1`);
      writeFileSync(log, '');
      w.signal('SIGUSR1');
      await w.await('reopened');
    },
  },
  copytruncate: {
    modes: ['daemon', 'cron'],
    async rotate(log, w) {
      // logrotate's copytruncate loses what is written between the copy and the truncation, for
      // any reader; the writer is held still for that moment, as the test is about the reader.
      w.signal('SIGSTOP');
      copyFileSync(log, `${log}.1`);
      truncateSync(log, 0);
      w.signal('SIGCONT');
    },
  },
  'rotate and compress at once, with a dateext name': {
    modes: ['daemon', 'cron'],
    async rotate(log, w) {
      renameSync(log, `${log}-20261123`);
      w.signal('SIGHUP'); // postrotate: the writer reopens before the old file is compressed
      await w.await('reopened');
      writeFileSync(`${log}-20261123.gz`, gzipSync(readFileSync(`${log}-20261123`)));
      unlinkSync(`${log}-20261123`);
    },
  },
  'dateext rename, the writer creating the new file late': {
    modes: ['daemon', 'cron'],
    async rotate(log, w) {
      renameSync(log, `${log}-20261123`);
      w.signal('SIGUSR1');
      await w.await('reopened');
    },
  },
  'deletion and recreation, the writer appending to the deleted file for 700 ms more': {
    modes: ['daemon'],
    async rotate(log, w) {
      unlinkSync(log);
      w.signal('SIGUSR1');
      await w.await('reopened');
    },
  },
  'deletion and recreation (cron: the deleted file was read up to its end first)': {
    // Once a file is deleted and no run holds it open, its unread lines are gone for any cron
    // reader: the writer pauses, one run reads to the end, then the file is deleted.
    modes: ['cron'],
    async rotate(log, w, c) {
      w.signal('SIGUSR2');
      await w.await('paused');
      await waitRuns(c, 2);
      unlinkSync(log);
      w.signal('SIGHUP');
      await w.await('reopened');
      w.signal('SIGUSR2');
    },
  },
  'a restart of the agent while a rotation happens (offsets and the late writer\'s file from the state directory)': {
    modes: ['daemon'],
    async rotate(log, w, c) {
      await c.restart!(async () => {
        renameSync(log, `${log}.1`);
        writeFileSync(log, '');
        w.signal('SIGUSR1');
        await sleep(400);
      });
      await w.await('reopened');
    },
  },
};

describe.concurrent('rotation while a writer process appends: every line written is counted once', () => {
  for (const [name, { rotate, modes }] of Object.entries(rotations)) {
    for (const mode of modes) {
      it(`${mode}: ${name}`, async () => {
        const r = await scenario(mode, rotate);
        expect(r.lines).toBe(TOTAL);
        if (r.seqsum !== undefined) expect(r.seqsum).toBe(seqsum);
      }, 90_000);
    }
  }
});
