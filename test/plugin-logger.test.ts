// The plugin logger takes both argument orders: ours, (msg, fields), and pino's, (fields, msg),
// which authors who know pino write first. Neither drops the message or the fields.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { pluginLogger } from '../src/logging/logger.js';
import { logLine } from '../src/logging/log-args.js';
import { LogThrottle } from '../src/logging/throttle.js';

function lines() {
  const out: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug', base: undefined, timestamp: false }, { write: (s: string) => void out.push(JSON.parse(s) as Record<string, unknown>) });
  return { log: pluginLogger(log, new LogThrottle(60_000, () => 0)), out };
}

describe('plugin logger argument order', () => {
  it("prints both the message and the fields in pino's order and in ours", () => {
    const { log, out } = lines();
    const cfg = { port: 3306, hosts: ['a', 'b'] };
    log.info({ cfg }, 'config');
    log.info('config', { cfg });
    log.debug({ step: 2 }, 'connecting');
    log.warn({ file: '/var/log/app.log' }, 'cannot read');
    log.error('failed', { code: 'EACCES' });
    expect(out).toEqual([
      { level: 30, cfg, msg: 'config' },
      { level: 30, cfg, msg: 'config' },
      { level: 20, step: 2, msg: 'connecting' },
      { level: 40, file: '/var/log/app.log', msg: 'cannot read' },
      { level: 50, code: 'EACCES', msg: 'failed' },
    ]);
  });

  it('prints an Error with its message and stack under err, in either place', () => {
    const { log, out } = lines();
    const err = new Error('connect ECONNREFUSED 127.0.0.1:3306');
    log.error(err, 'query failed');
    log.error('insert failed', err as unknown as Record<string, unknown>);
    log.warn(err);
    for (const l of out) expect((l.err as { message: string; stack: string }).message).toBe('connect ECONNREFUSED 127.0.0.1:3306');
    expect(out.map((l) => l.msg)).toEqual(['query failed', 'insert failed', 'connect ECONNREFUSED 127.0.0.1:3306']);
    expect((out[0]!.err as { stack: string }).stack).toContain('plugin-logger.test.ts');
  });

  it('prints fields alone, and odd arguments as text rather than dropping them', () => {
    const { log, out } = lines();
    log.info({ rows: 3 });
    (log.info as (...a: unknown[]) => void)('took', 25);
    (log.info as (...a: unknown[]) => void)(42);
    expect(out).toEqual([
      { level: 30, rows: 3, msg: '' },
      { level: 30, msg: 'took 25' },
      { level: 30, msg: '42' },
    ]);
  });

  it("holds back a repeated warning whichever order it was written in", () => {
    const { log, out } = lines();
    for (let i = 0; i < 3; i++) log.warn({ n: i }, 'disk slow');
    log.warn('disk slow', { n: 9 });
    expect(out).toEqual([{ level: 40, n: 0, msg: 'disk slow' }]);
  });

  it("writes the fields after the message in sonde logster's text log", () => {
    expect(logLine({ cfg: { port: 1 } }, 'config')).toBe('config {"cfg":{"port":1}}');
    expect(logLine('config', { cfg: { port: 1 } })).toBe('config {"cfg":{"port":1}}');
    expect(logLine(new Error('boom'), 'send failed')).toBe('send failed {"err":"boom"}');
    expect(logLine('plain', undefined)).toBe('plain');
  });
});
