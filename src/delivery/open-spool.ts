// Opens a handler's disk spool under <state_dir>/spool/<handler>/; a spool that cannot be used
// is logged and the handler runs without one (a full outbox then drops its oldest samples).
import path from 'node:path';
import type { HandlerSection } from '../config/types.js';
import type { Logger } from '../logging/logger.js';
import { Spool } from './spool.js';

export function openSpool(stateDir: string, section: HandlerSection, log: Logger): Spool | undefined {
  if (!section.outbox.spool) return undefined;
  const dir = path.join(stateDir, 'spool', section.key);
  try {
    const spool = new Spool(dir, { maxBytes: section.outbox.spoolMaxBytes, maxAge: section.outbox.spoolMaxAge });
    if (spool.pending > 0) log.info({ handler: section.key, spooled: spool.pending }, `handler ${section.key}: ${spool.pending} spooled samples in ${dir} are sent first`);
    return spool;
  } catch (err) {
    log.error({ handler: section.key }, `handler ${section.key}: cannot use the spool in ${dir} (${(err as Error).message}); when its outbox is full the oldest samples will be dropped`);
    return undefined;
  }
}
