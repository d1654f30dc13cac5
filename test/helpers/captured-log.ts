// sonde's own logger (pino) writing its JSON lines into an array, to check what operators read.
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export function capturedLog(): { lines: { msg: string; [k: string]: unknown }[]; log: Logger } {
  const lines: { msg: string; [k: string]: unknown }[] = [];
  const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(JSON.parse(chunk.toString()) as { msg: string }), cb()) }));
  return { lines, log };
}
