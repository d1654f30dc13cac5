// Logging: pino, written synchronously (nothing is lost on a quick exit), JSON for journald and
// log shippers, pretty when a person is watching a terminal.
import pino, { type Logger } from 'pino';
import type { PluginLogger } from '../plugin-api.js';
import type { LogLevel } from './levels.js';

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
  return pino(opts, pino.destination({ dest: fd, sync: true }));
}

/** The plugin-facing view of a logger: message first, fields second. */
export function pluginLogger(log: Logger): PluginLogger {
  return {
    debug: (msg, fields) => log.debug(fields ?? {}, msg),
    info: (msg, fields) => log.info(fields ?? {}, msg),
    warn: (msg, fields) => log.warn(fields ?? {}, msg),
    error: (msg, fields) => log.error(fields ?? {}, msg),
  };
}
