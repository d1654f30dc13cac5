// What sonde does with a plugin's repeated warnings and with errors nobody caught: the plugin
// logger's throttle, and putting a stray error down to its plugin.
import pino from 'pino';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pluginLogger } from '../src/logging/logger.js';
import { inPluginScope } from '../src/logging/plugin-scope.js';
import { pluginFilesOf, StrayErrors } from '../src/logging/stray-errors.js';
import { LogThrottle } from '../src/logging/throttle.js';

function lines() {
  const out: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void out.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, out };
}

describe('plugin logger', () => {
  it('logs a warning or error the plugin repeats word for word once per window, then says how many were held back', () => {
    let now = 0;
    const { log, out } = lines();
    const p = pluginLogger(log, new LogThrottle(60_000, () => now));
    const denied = "logs app: reading /var/log/app.log failed: EACCES: permission denied, open '/var/log/app.log'; tried again next interval";
    for (let i = 0; i < 30; i++) {
      p.error(denied);
      p.warn('logs app: skipped 3 lines longer than max_line_bytes');
      p.info('logs app: following /var/log/app.log');
      now += 1000;
    }
    // 30 s: one of each repeated warning and error, every info line.
    expect(out.filter((l) => l.msg === denied)).toHaveLength(1);
    expect(out.filter((l) => String(l.msg).includes('longer than'))).toHaveLength(1);
    expect(out.filter((l) => String(l.msg).includes('following'))).toHaveLength(30);
    now += 60_000;
    p.error(denied);
    const again = out.filter((l) => l.msg === denied);
    expect(again).toHaveLength(2);
    expect(again[1]!.held_back).toBe(29);
  });

  it('remembers a bounded number of messages, forgetting the oldest', () => {
    const t = new LogThrottle(60_000, () => 0, { maxKeys: 3 });
    for (const k of ['a', 'b', 'c']) expect(t.check(k).log).toBe(true);
    expect(t.check('a').log).toBe(false);
    t.check('d'); // forgets a, logged longest ago
    expect(t.check('c').log).toBe(false);
    expect(t.check('a').log).toBe(true);
  });
});

describe('stray errors', () => {
  it('puts an error down to the plugin whose scope it was raised in', () => {
    const s = new StrayErrors();
    const err = inPluginScope({ plugin: 'ticker', collector: 'tick2' }, () => s.owner(new Error('x')));
    expect(err).toEqual({ plugin: 'ticker', collector: 'tick2', file: undefined, where: undefined });
    expect(s.owner(new Error('outside'))).toBeUndefined();
  });

  it('puts an error raised outside any scope down to a plugin file on its stack, by its frame', () => {
    const s = new StrayErrors();
    s.setPluginFiles(pluginFilesOf(new Map([[{ name: 'filesink' }, '/etc/sonde/plugins/sink.mjs'], [{ name: 'cpu' }, 'built-in']])));
    const err = new Error('socket closed');
    err.stack = [
      'Error: socket closed',
      '    at emitError (node:events:100:5)',
      `    at Socket.<anonymous> (${pathToFileURL('/etc/sonde/plugins/sink.mjs').href}?mtime=1796154293882:31:9)`,
      '    at file:///usr/lib/sonde/dist/sonde-agent.mjs:126:15510',
    ].join('\n');
    expect(s.owner(err)).toEqual({ plugin: 'filesink', collector: undefined, file: '/etc/sonde/plugins/sink.mjs', where: '/etc/sonde/plugins/sink.mjs:31:9' });
    const core = new Error('bug in sonde');
    core.stack = 'Error: bug in sonde\n    at Outbox.send (file:///usr/lib/sonde/dist/sonde-agent.mjs:126:15510)';
    expect(s.owner(core)).toBeUndefined();
  });

  it('counts every stray error, and per collector those put down to one', () => {
    const s = new StrayErrors();
    s.count({ plugin: 'p', collector: 'c1', file: undefined, where: undefined });
    s.count({ plugin: 'p', collector: 'c1', file: undefined, where: undefined });
    s.count(undefined);
    expect(s.total).toBe(3);
    expect([...s.byCollector]).toEqual([['c1', 2]]);
  });
});
