// Logging: pino, written synchronously (nothing is lost on a quick exit): JSON for log shippers,
// prioritised text lines for journald, pretty when a person is watching a terminal.
import pino, { type Logger } from 'pino';
import type { PluginLogger } from '../plugin-api.js';
import { isJournalStream, journalDestination } from './journal.js';
import { logArgs } from './log-args.js';
import type { LogLevel } from './levels.js';
import { LogThrottle } from './throttle.js';

export type { Logger };

/** fd 1 for the agent under systemd; fd 2 when stdout carries data (sonde once, collect, stdout handler). */
export async function createLogger(level: LogLevel, fd: 1 | 2): Promise<Logger> {
  const opts: pino.LoggerOptions = { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  const tty = fd === 1 ? process.stdout.isTTY : process.stderr.isTTY;
  if (tty) {
    // Only a person at a terminal needs pretty lines; cron and journald get JSON without loading it.
    const { default: pretty } = await import('pino-pretty');
    return pino(opts, pretty({ destination: fd, sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  }
  if (isJournalStream(fd)) return pino(opts, journalDestination(fd));
  return pino(opts, pino.destination({ dest: fd, sync: true }));
}

/** Distinct messages a plugin logger remembers for throttling; a plugin's messages may hold counts. */
const PLUGIN_MESSAGE_KEYS = 200;

/** The throttle of one plugin's logger: `windowMs` as the agent's (5 minutes by default). */
export function pluginThrottle(windowMs?: number): LogThrottle {
  return new LogThrottle(windowMs, undefined, { maxKeys: PLUGIN_MESSAGE_KEYS });
}

/**
 * The plugin-facing view of a logger: message first, fields second, or pino's order. A warning or error the plugin
 * repeats word for word (a file it cannot read, every interval) is logged once per `throttle`
 * window, as the agent's own repeating errors are, with how many were held back (`held_back`).
 */
export function pluginLogger(log: Logger, throttle: LogThrottle = pluginThrottle()): PluginLogger {
  const held = (msg: string, fields: Record<string, unknown> | undefined): Record<string, unknown> | undefined => {
    const t = throttle.check(msg);
    if (!t.log) return undefined;
    return t.suppressed > 0 ? { ...fields, held_back: t.suppressed } : (fields ?? {});
  };
  const call = (level: 'debug' | 'info' | 'warn' | 'error', throttled: boolean) => (a: unknown, b?: unknown): void => {
    const { msg, fields } = logArgs(a, b);
    const f = throttled ? held(msg, fields) : (fields ?? {});
    if (f !== undefined) log[level](f, msg);
  };
  return { debug: call('debug', false), info: call('info', false), warn: call('warn', true), error: call('error', true) };
}
