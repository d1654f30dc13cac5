// A duration of 0: a `sonde logster` run in the same second as the previous one, and the agent's
// logs collector whose saved offsets are dated in the future. No figure may be lost: each parser
// prints what Logster prints for 0 where it prints something (PostfixLogster), and divides by 1 s
// where Logster raises ZeroDivisionError or drops figures (docs/compat.md, "Logster: parsers").
import { appendFileSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sonde } from './helpers/sonde.js';
import { tmpdir } from './helpers/tmp.js';

const FIXTURES = path.resolve(import.meta.dirname, 'fixtures', 'parsers');

// Each fixture case with an expected-0.txt: the figures for a duration of 0, written by hand from
// Logster's code (expected-1.txt's figures where the rule is "divide by 1 s").
const cases: { parser: string; logster: string; dir: string; options?: string }[] = [
  { parser: 'postfix', logster: 'PostfixLogster', dir: 'postfix/worked' },
  { parser: 'apache', logster: 'SampleLogster', dir: 'apache/basic' },
  { parser: 'squid', logster: 'SquidLogster', dir: 'squid/basic' },
  { parser: 'log4j', logster: 'Log4jLogster', dir: 'log4j/levels', options: '-l WARN,ERROR,INFO' },
  { parser: 'errorlog', logster: 'ErrorLogLogster', dir: 'errorlog/basic' },
  { parser: 'metric', logster: 'MetricLogster', dir: 'metric/basic' },
  { parser: 'json', logster: 'JsonLogster', dir: 'json/last-line' },
];

/** Waits for a fresh second, then dates `file` to it: a run started now has a duration of 0. */
function sameSecond(file: string): void {
  const ms = Date.now() % 1000;
  if (ms > 20) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1005 - ms);
  const t = Math.floor(Date.now() / 1000);
  utimesSync(file, t, t);
}

describe('sonde logster with a duration of 0 (two runs in the same second)', () => {
  it('every fixture case with an expected-0.txt is run here', () => {
    const withZero = readdirSync(FIXTURES).flatMap((p) => readdirSync(path.join(FIXTURES, p)).filter((c) => readdirSync(path.join(FIXTURES, p, c)).includes('expected-0.txt')).map((c) => `${p}/${c}`));
    expect(cases.map((c) => c.dir).sort()).toEqual(withZero.sort());
  });

  for (const c of cases) {
    it(`${c.logster}: every figure, as Logster prints it for 0 or divided by 1 s`, () => {
      const dir = tmpdir();
      const log = path.join(dir, 'app.log');
      const state = path.join(dir, 'state');
      const stateFile = path.join(state, `logtail-logster.parsers.${c.logster}.${c.logster}${log.split('/').join('-')}.state`);
      const run = (...extra: string[]) =>
        sonde(['logster', '-s', state, '-l', path.join(dir, 'logs'), '-o', 'stdout', ...(c.options ? ['--parser-options', c.options] : []), ...extra, c.logster, log]);
      writeFileSync(log, '');
      expect(run().status).toBe(0); // the first run records the end of the log
      appendFileSync(log, readFileSync(path.join(FIXTURES, c.dir, 'input.log')));
      sameSecond(stateFile);
      const r = run('-D');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain('Setting duration to 0 seconds.');
      const got = r.stdout.split('\n').filter(Boolean).map((l) => l.split(' ').slice(1).join(' '));
      expect(got).toEqual(readFileSync(path.join(FIXTURES, c.dir, 'expected-0.txt'), 'utf8').trim().split('\n'));
    });
  }

  it('a state file dated in the future (the clock went back) counts as a duration of 0', () => {
    const dir = tmpdir();
    const log = path.join(dir, 'app.log');
    const state = path.join(dir, 'state');
    const stateFile = path.join(state, `logtail-logster.parsers.MetricLogster.MetricLogster${log.split('/').join('-')}.state`);
    const run = (...extra: string[]) => sonde(['logster', '-s', state, '-l', path.join(dir, 'logs'), '-o', 'stdout', ...extra, 'MetricLogster', log]);
    writeFileSync(log, '');
    expect(run().status).toBe(0);
    appendFileSync(log, 'x METRIC_COUNT metric=req value=6\n');
    const future = Math.floor(Date.now() / 1000) + 3600;
    utimesSync(stateFile, future, future);
    const r = run('-D');
    expect(r.stderr).toContain('Setting duration to 0 seconds.');
    expect(r.stdout.split('\n').filter(Boolean).map((l) => l.split(' ').slice(1).join(' '))).toEqual(['req 6.0']);
  });
});

describe('logs collector with a duration of 0', () => {
  it('saved offsets dated in the future: the METRIC_COUNT sums are emitted (divided by 1 s), not dropped', () => {
    const dir = tmpdir();
    const log = path.join(dir, 'app.log');
    writeFileSync(log, '');
    const cfg = path.join(dir, 'sonde.yaml');
    writeFileSync(
      cfg,
      `hostname: h\nstate_dir: ${dir}/state\nself_metrics: { enabled: false }\ncollectors:\n  logs:\n    files:\n      - { path: '${log}', parser: metric, name: app }\nhandlers:\n  stdout: {}\n`,
    );
    sonde(['once', '--config', cfg]); // records the offsets
    const offsets = path.join(dir, 'state', 'collectors', 'logs', 'app');
    const files = readdirSync(offsets);
    expect(files).toHaveLength(1);
    appendFileSync(log, 'x METRIC_COUNT metric=req value=3\nx METRIC_COUNT metric=req value=4\nx METRIC_TIME metric=t value=5ms\n');
    const future = Math.floor(Date.now() / 1000) + 3600;
    utimesSync(path.join(offsets, files[0]!), future, future);
    const r = sonde(['once', '--config', cfg]);
    const app = r.stdout.split('\n').filter((l) => l.startsWith('servers.h.app.')).map((l) => l.split(' ').slice(0, 2).join(' '));
    // 3 + 4 over 1 s; the timer's figures do not depend on the duration.
    expect(app).toEqual(['servers.h.app.req 7', 'servers.h.app.t.mean 5', 'servers.h.app.t.median 5', 'servers.h.app.t.90th_percentile 5']);
  });
});
