// `sonde logster` as cron runs it: the built bundle, real files, logtail2 and carbon-cache.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, truncateSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { startCarbon, freePort, type Carbon } from './helpers/carbon.js';
import { BUNDLE, sonde } from './helpers/sonde.js';
import { tmpdir } from './helpers/tmp.js';

const sentLine = (i: number) => `Nov 22 10:00:00 mx1 postfix/smtp[1]: Q${i}: to=<u${i}@x.org>, relay=x[192.0.2.1]:25, delay=${i % 7}, delays=0/0/0/0, dsn=2.0.0, status=sent (250 ok)\n`;
const lines = (from: number, n: number) => Array.from({ length: n }, (_, k) => sentLine(from + k)).join('');

function setup() {
  const dir = tmpdir();
  const log = path.join(dir, 'mail.log');
  const state = path.join(dir, 'state');
  const stateFile = path.join(state, `logtail-logster.parsers.PostfixLogster.PostfixLogster${log.split('/').join('-')}.state`);
  const run = (...extra: string[]) => sonde(['logster', '-s', state, '-l', path.join(dir, 'logs'), ...extra, 'PostfixLogster', log]);
  /** Runs with -o stdout and returns numSent (throws on a failed run). */
  const sent = (...extra: string[]): number => {
    const r = run('-o', 'stdout', ...extra);
    if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
    return Number(/ numSent (\d+)/.exec(r.stdout)?.[1] ?? 0);
  };
  /**
   * Makes the last run `s` seconds ago. The duration is counted in whole seconds from the next run's
   * start; with `exact`, this waits for a fresh second first so the run starts within it, not later.
   */
  const age = (s: number, exact = false) => {
    const ms = Date.now() % 1000;
    if (exact && ms > 20) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1005 - ms);
    const t = Math.floor(Date.now() / 1000) - s;
    utimesSync(stateFile, t, t);
  };
  return { dir, log, state, stateFile, run, sent, age };
}

describe('sonde logster', () => {
  it('first run records the end of the log and prints nothing; the next run reports only new lines with one timestamp', () => {
    const t = setup();
    writeFileSync(t.log, lines(0, 5));
    const first = t.run('-o', 'stdout');
    expect([first.status, first.stdout]).toEqual([0, '']);
    const size = statSync(t.log).size;
    expect(readFileSync(t.stateFile, 'utf8').split('\n').slice(0, 2)).toEqual([String(statSync(t.log).ino), String(size)]);
    appendFileSync(t.log, readFileSync(path.resolve(import.meta.dirname, 'fixtures/parsers/postfix/worked/input.log')));
    t.age(60, true);
    const before = Math.floor(Date.now() / 1000);
    const r = t.run('-o', 'stdout', '-p', 'servers.mx1.postfix');
    expect(r.status).toBe(0);
    const out = r.stdout.trim().split('\n').map((l) => l.split(' '));
    const ts = new Set(out.map((w) => Number(w[0])));
    expect(ts.size).toBe(1);
    expect([...ts][0]).toBeGreaterThanOrEqual(before);
    // The worked example's figures (fixtures/parsers/postfix/worked; docs/compat.md, "Logster: parsers"), prefixed with the stdout separator.
    expect(out.map((w) => `${w[1]} ${w[2]}`).join('\n')).toBe(
      readFileSync(path.resolve(import.meta.dirname, 'fixtures/parsers/postfix/worked/expected-60.txt'), 'utf8').trim().split('\n').map((l) => `servers.mx1.postfix_${l}`).join('\n'),
    );
    // The state's mtime is the run's start second (Logster's duration rule).
    expect(Math.floor(statSync(t.stateFile).mtimeMs / 1000)).toBe([...ts][0]);
  });

  it('--from-start parses the whole log on a first run', () => {
    const t = setup();
    writeFileSync(t.log, lines(0, 40));
    expect(t.sent('--from-start')).toBe(40);
  });

  it('runs the same when V8 rejects the build\'s code cache (another node, other V8 flags)', () => {
    const t = setup();
    writeFileSync(t.log, lines(0, 25));
    // Other V8 flags make V8 reject dist/sonde-logster.cache, as another node version would.
    const r = spawnSync(process.execPath, ['--max-semi-space-size=2', BUNDLE, 'logster', '-s', t.state, '-l', path.join(t.dir, 'logs'), '--from-start', '-o', 'stdout', 'PostfixLogster', t.log], { encoding: 'utf8' });
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(/ numSent (\d+)/.exec(r.stdout)?.[1]).toBe('25');
  });

  it('continues from a state file written by logtail2, and logtail2 continues from ours', () => {
    const t = setup();
    writeFileSync(t.log, lines(0, 10));
    execFileSync('mkdir', ['-p', t.state]);
    execFileSync('/usr/sbin/logtail2', ['-f', t.log, '-o', t.stateFile]);
    appendFileSync(t.log, lines(10, 7));
    t.age(60);
    expect(t.sent()).toBe(7);
    appendFileSync(t.log, lines(17, 3));
    const tail = execFileSync('/usr/sbin/logtail2', ['-f', t.log, '-o', t.stateFile], { encoding: 'utf8' });
    expect(tail).toBe(lines(17, 3));
    appendFileSync(t.log, lines(20, 2));
    t.age(60);
    expect(t.sent()).toBe(2);
  });

  it('--dry-run prints what would be sent and keeps the position', () => {
    const t = setup();
    writeFileSync(t.log, '');
    t.sent();
    appendFileSync(t.log, lines(0, 4));
    t.age(60);
    const r = t.run('-o', 'graphite', '--graphite-host', '127.0.0.1:9', '-d');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^127\.0\.0\.1:9 numSent 4 \d+$/m);
    expect(t.sent()).toBe(4);
  });

  describe('with carbon-cache', () => {
    let carbon: Carbon | undefined;
    /** The values carbon stored for `metric` in the last 30 s, once its whisper file exists. */
    const stored = async (c: Carbon, metric: string): Promise<number[]> => {
      const now = Math.floor(Date.now() / 1000);
      for (let i = 0; i < 100; i++) {
        await new Promise((r) => setTimeout(r, 200));
        try {
          const got = c.fetch(metric, now - 30, now + 5);
          if (got.size > 0) return [...got.values()];
        } catch {
          /* not created yet */
        }
      }
      return [];
    };
    afterAll(async () => carbon?.stop());

    it('graphite down: exit 1 and the position kept; the next run with carbon up sends every line', async () => {
      const t = setup();
      const port = await freePort();
      writeFileSync(t.log, '');
      t.sent();
      appendFileSync(t.log, lines(0, 12));
      t.age(60);
      const down = t.run('-o', 'graphite', '--graphite-host', `127.0.0.1:${port}`, '-p', 'pf');
      expect(down.status).toBe(1);
      expect(down.stderr).toMatch(/did not accept|ECONNREFUSED/);
      appendFileSync(t.log, lines(12, 3));
      carbon = await startCarbon(t.dir, { plaintextPort: port, picklePort: await freePort() });
      const up = t.run('-o', 'graphite', '--graphite-host', `127.0.0.1:${port}`, '-p', 'pf');
      expect(up.status).toBe(0);
      expect(await stored(carbon, 'pf.numSent')).toEqual([15]);
    }, 60_000);

    it('--config FILE -o <handler>: a handler of sonde.yaml (graphite over pickle) carries the figures; down means exit 1 and the position kept', async () => {
      carbon ??= await startCarbon(tmpdir());
      const t = setup();
      const deadPort = await freePort();
      const cfg = (port: number) => {
        writeFileSync(
          path.join(t.dir, 'sonde.yaml'),
          `handlers:\n  carbon: { type: graphite, protocol: pickle, destinations: ["127.0.0.1:${port}"], retry_max: 500ms }\n  stdout: { enabled: false }\n`,
        );
        return path.join(t.dir, 'sonde.yaml');
      };
      writeFileSync(t.log, '');
      t.sent();
      appendFileSync(t.log, lines(0, 7));
      t.age(60);
      const down = t.run('--config', cfg(deadPort), '-o', 'carbon', '-p', 'viaconfig');
      expect(down.status).toBe(1);
      expect(down.stderr).toContain('handler carbon');
      const unknown = t.run('--config', cfg(deadPort), '-o', 'memcached_queue');
      expect([unknown.status, unknown.stderr.includes('has no handler section named memcached_queue (it has: carbon, stdout)')]).toEqual([2, true]);
      appendFileSync(t.log, lines(7, 2));
      const up = t.run('--config', cfg(carbon.picklePort), '-o', 'carbon', '-p', 'viaconfig');
      expect([up.status, up.stderr]).toEqual([0, '']);
      expect(await stored(carbon!, 'viaconfig.numSent')).toEqual([9]);
    }, 90_000);
  });

  it('a lock held by a live process makes the run exit 1 without parsing; a dead owner\'s lock is taken over', () => {
    const t = setup();
    writeFileSync(t.log, '');
    t.sent();
    appendFileSync(t.log, lines(0, 3));
    t.age(60);
    const lock = t.stateFile.replace(/\.state$/, '.lock');
    writeFileSync(lock, String(process.pid));
    const held = t.run('-o', 'stdout');
    expect([held.status, held.stdout]).toEqual([1, '']);
    expect(held.stderr).toContain('holds the lock');
    const dead = spawnSync('true').pid!;
    writeFileSync(lock, String(dead));
    expect(t.sent()).toBe(3);
    expect(existsSync(lock)).toBe(false);
  });

  /** A log of `blocks` × 10,000 sent lines: long enough that a run holds its lock for a while. */
  const bigLog = (file: string, blocks: number) => {
    const block = lines(0, 10_000);
    writeFileSync(file, '');
    for (let i = 0; i < blocks; i++) appendFileSync(file, block);
    return blocks * 10_000;
  };
  const start = (t: ReturnType<typeof setup>) => {
    const c = spawn(process.execPath, [BUNDLE, 'logster', '-s', t.state, '-l', path.join(t.dir, 'logs'), '-o', 'stdout', 'PostfixLogster', t.log]);
    let out = '';
    let err = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    return { child: c, done: new Promise<{ status: number | null; sent: number; stderr: string }>((r) => c.on('exit', (status) => r({ status, sent: Number(/ numSent (\d+)/.exec(out)?.[1] ?? 0), stderr: err }))) };
  };

  it('kill -9 in the middle of a run: nothing sent, the position unchanged; the next run counts every line once', async () => {
    const t = setup();
    writeFileSync(t.log, '');
    t.sent();
    const n = bigLog(t.log, 300); // about 0.6 s of parsing: room to be killed in the middle
    t.age(60);
    const before = readFileSync(t.stateFile, 'utf8');
    const lock = t.stateFile.replace(/\.state$/, '.lock');
    const run = start(t);
    // The lock is taken just before reading: kill the run while it parses.
    const end = Date.now() + 20_000;
    // Polled without the event loop, whose timers can be late by more than the parse on a busy machine.
    const nap = new Int32Array(new SharedArrayBuffer(4));
    while (!existsSync(lock) && Date.now() < end) Atomics.wait(nap, 0, 0, 1);
    run.child.kill('SIGKILL');
    const killed = await run.done;
    expect(killed.status).toBe(null);
    expect(killed.sent).toBe(0);
    expect(readFileSync(t.stateFile, 'utf8')).toBe(before);
    expect(existsSync(lock)).toBe(true); // left behind by the dead run: taken over next
    expect(t.sent()).toBe(n);
    expect(t.sent()).toBe(0);
  }, 60_000);

  it('two runs at once on one log: never both parse it, and every line is counted once', async () => {
    const t = setup();
    writeFileSync(t.log, '');
    t.sent();
    const n = bigLog(t.log, 150);
    t.age(60);
    const [a, b] = await Promise.all([start(t).done, start(t).done]);
    const results = [a, b].sort((x, y) => (x.status ?? 9) - (y.status ?? 9));
    if (results[1]!.status === 1) {
      // They overlapped: the second refused, as Logster's lock does.
      expect(results[1]!.stderr).toContain('holds the lock');
      expect(results.map((r) => r.sent)).toEqual([n, 0]);
    } else {
      // The second started after the first had finished: it found no new lines.
      expect(results.map((r) => r.status)).toEqual([0, 0]);
      expect(results.map((r) => r.sent).sort((x, y) => x - y)).toEqual([0, n]);
    }
  }, 60_000);

  it('a damaged state file is warned about and treated as a first run', () => {
    const t = setup();
    writeFileSync(t.log, lines(0, 3));
    t.sent();
    writeFileSync(t.stateFile, 'garbage\n');
    const r = t.run('-o', 'stdout');
    expect([r.status, r.stdout]).toEqual([0, '']);
    expect(r.stderr).toContain('damaged');
    appendFileSync(t.log, lines(3, 2));
    t.age(60);
    expect(t.sent()).toBe(2);
  });

  it('a missing log file: a clear message, exit 1, the state kept', () => {
    const t = setup();
    writeFileSync(t.log, lines(0, 3));
    t.sent();
    const before = readFileSync(t.stateFile, 'utf8');
    unlinkSync(t.log);
    const r = t.run('-o', 'stdout');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`cannot read the log file ${t.log}`);
    expect(readFileSync(t.stateFile, 'utf8')).toBe(before);
  });

  it('a 20 MiB line without a newline and binary garbage are skipped and counted; the lines around them count', () => {
    const t = setup();
    writeFileSync(t.log, '');
    t.sent();
    appendFileSync(t.log, lines(0, 2) + Buffer.alloc(20 * 1024 * 1024, 0x61).toString());
    t.age(60);
    const mid = t.run('-o', 'stdout');
    expect(mid.status).toBe(0);
    expect(/numSent (\d+)/.exec(mid.stdout)![1]).toBe('2');
    expect(mid.stderr).toContain('1 lines longer than');
    appendFileSync(t.log, Buffer.concat([Buffer.from('aaa\n\x00\xff\xfe\x01garbage status=sent\n'), Buffer.from(lines(2, 3))]));
    t.age(60);
    expect(t.sent()).toBe(3);
  });

  it('a parser plugin that calls a /proc parser is told that sonde logster has none, and the run fails', () => {
    const t = setup();
    const plugin = path.join(t.dir, 'procparser.mjs');
    writeFileSync(
      plugin,
      `export default (api) => api.defineParser({
        name: 'procparser', aliases: [], description: 'Reads /proc from a parser', schema: api.z.object({}),
        create() { const l = api.procfs.parseLoadavg('0.1 0.2 0.3 1/2 3'); return { parseLine() {}, report: () => [{ name: 'load', value: l.load1 }] }; },
      });\n`,
    );
    writeFileSync(t.log, 'one line\n');
    const r = sonde(['logster', '-s', path.join(t.dir, 'pstate'), '-l', path.join(t.dir, 'logs'), '--from-start', '-o', 'stdout', plugin, t.log]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('procfs.parseLoadavg is not available in sonde logster: parsers read no files');
  });

  it('a parser plugin file (.mjs) with its own --parser-options', () => {
    const t = setup();
    const plugin = path.join(t.dir, 'haproxy.mjs');
    // An outside author's parser: counts lines with a status code at or above --min.
    writeFileSync(
      plugin,
      `export default (api) => api.defineParser({
        name: 'haproxy_errors',
        aliases: [],
        description: 'HTTP statuses at or above a threshold',
        schema: api.z.strictObject({ min: api.z.coerce.number().default(500) }),
        flags: [{ long: '--min', short: '-m', key: 'min' }],
        create(o) {
          let n = 0;
          return {
            needles: [' status='],
            parseLine(line) { const m = / status=(\\d{3})/.exec(line); if (m && Number(m[1]) >= o.min) n++; },
            report: () => { const r = [{ name: 'errors', value: n }]; n = 0; return r; },
          };
        },
      });\n`,
    );
    writeFileSync(t.log, ['a status=200', 'b status=404', 'c status=503', 'd nothing', 'e status=500', ''].join('\n'));
    const pstate = path.join(t.dir, 'pstate');
    const r = sonde(['logster', '-s', pstate, '-l', path.join(t.dir, 'logs'), '--from-start', '-o', 'stdout', '--parser-options', '-m 404', plugin, t.log]);
    expect(r.stderr).toBe('');
    expect([r.status, r.stdout.split(' ').slice(1).join(' ')]).toEqual([0, 'errors 3\n']);
    // Its state file is named after the parser's name, as for a dotted Python parser.
    expect(existsSync(path.join(pstate, `logtail-haproxy_errors${t.log.split('/').join('-')}.state`))).toBe(true);
  });

  it('-l naming a place logster.log cannot be written: one warning with the path and the reason, and the run goes on', () => {
    const t = setup();
    writeFileSync(t.log, '');
    t.sent();
    const notDir = path.join(t.dir, 'plain-file');
    writeFileSync(notDir, '');
    const blocked = path.join(t.dir, 'blocked');
    mkdirSync(path.join(blocked, 'logster.log'), { recursive: true }); // a directory where the file should be
    for (const [dir, reason] of [[notDir, `${notDir} is not a directory`], [blocked, 'EISDIR']] as const) {
      appendFileSync(t.log, lines(0, 2));
      t.age(60);
      const r = sonde(['logster', '-s', t.state, '-l', dir, '-o', 'stdout', 'PostfixLogster', t.log]);
      expect([r.status, / numSent (\d+)/.exec(r.stdout)?.[1]]).toEqual([0, '2']);
      const warnings = r.stderr.split('\n').filter(Boolean);
      expect(warnings, r.stderr).toHaveLength(1);
      expect(warnings[0]).toContain(`cannot write the run log ${path.join(dir, 'logster.log')}: `);
      expect(warnings[0]).toContain(reason);
      expect(warnings[0]).toContain('or pass -l DIR');
    }
  });

  it('bad command lines exit 2 naming the problem; cloudwatch says what to use instead', () => {
    const t = setup();
    writeFileSync(t.log, '');
    expect(t.run().status).toBe(2);
    const cw = t.run('-o', 'cloudwatch');
    expect(cw.status).toBe(2);
    expect(cw.stderr).toContain('not supported');
    const g = t.run('-o', 'graphite');
    expect([g.status, g.stderr.includes('--graphite-host')]).toEqual([2, true]);
    const bad = t.run('-o', 'stdout', '--parser-options', '-z 1');
    expect([bad.status, bad.stderr.includes('-z')]).toEqual([2, true]);
  });
});

describe('sonde logster across rotations (every line written is counted once)', () => {
  /** Runs once per step; returns the total numSent over all runs. */
  function scenario(steps: ((t: ReturnType<typeof setup>, next: () => string) => void)[]): { written: number; counted: number } {
    const t = setup();
    let n = 0;
    const next = () => lines(n++, 1);
    writeFileSync(t.log, '');
    t.sent();
    let counted = 0;
    for (const step of steps) {
      step(t, next);
      t.age(60);
      counted += t.sent();
    }
    return { written: n, counted };
  }
  const write = (file: string, next: () => string, k: number) => {
    for (let i = 0; i < k; i++) appendFileSync(file, next());
  };

  it('rename and create, with the writer still appending to the old file for a while (logrotate create)', () => {
    const r = scenario([
      (t, next) => write(t.log, next, 5),
      (t, next) => {
        write(t.log, next, 3);
        renameSync(t.log, `${t.log}.1`);
        writeFileSync(t.log, '');
        write(`${t.log}.1`, next, 2); // late writer, old descriptor
        write(t.log, next, 4);
      },
      (t, next) => {
        write(`${t.log}.1`, next, 2); // still late
        write(t.log, next, 1);
      },
      (t, next) => write(t.log, next, 3),
    ]);
    expect(r.counted).toBe(r.written);
  });

  it('copytruncate', () => {
    const r = scenario([
      (t, next) => write(t.log, next, 5),
      (t, next) => {
        write(t.log, next, 4);
        copyFileSync(t.log, `${t.log}.1`);
        truncateSync(t.log, 0);
        write(t.log, next, 6); // grows past the old offset: only the fingerprint tells
      },
      (t, next) => write(t.log, next, 2),
    ]);
    expect(r.counted).toBe(r.written);
  });

  it('rotate and compress at once, with dateext names', () => {
    const r = scenario([
      (t, next) => write(t.log, next, 5),
      (t, next) => {
        write(t.log, next, 4);
        writeFileSync(`${t.log}-20261122.gz`, gzipSync(readFileSync(t.log)));
        unlinkSync(t.log);
        writeFileSync(t.log, '');
        write(t.log, next, 3);
      },
      (t, next) => write(t.log, next, 1),
    ]);
    expect(r.counted).toBe(r.written);
  });

  it('dateext rename without compression', () => {
    const r = scenario([
      (t, next) => write(t.log, next, 2),
      (t, next) => {
        write(t.log, next, 2);
        renameSync(t.log, `${t.log}-20261122`);
        write(t.log, next, 2);
      },
    ]);
    expect(r.counted).toBe(r.written);
  });

  it('deletion and recreation', () => {
    const r = scenario([
      (t, next) => write(t.log, next, 3),
      (t, next) => {
        unlinkSync(t.log);
        write(t.log, next, 5);
      },
      (t, next) => write(t.log, next, 1),
    ]);
    expect(r.counted).toBe(r.written);
  });
});
