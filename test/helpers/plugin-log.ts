// A plugin logger that keeps what it was told, as `<level> <message>` lines.
import type { PluginLogger } from '../../src/plugin-api.js';

export function recordingLog(): { log: PluginLogger; said: string[] } {
  const said: string[] = [];
  const log: PluginLogger = {
    debug: () => undefined,
    info: (m) => said.push(`info ${m}`),
    warn: (m) => said.push(`warn ${m}`),
    error: (m) => said.push(`error ${m}`),
  };
  return { log, said };
}
