// A server on its way down says so in turn as a closed connection, then a missing socket: the
// operator gets one warning for that, not one per wording; a different failure (a hung server)
// is still a warning of its own. A listener stands in for the server: the order of those
// failures is what a real server gives only by chance.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { fileReader } from '../src/runtime/file-reader.js';
import { relativePath } from '../src/model/naming.js';
import { builtinRunner } from './helpers/collector.js';
import { recordingLog } from './helpers/plugin-log.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sonde-mysql-down-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function listen(socket: string, onConnection: (c: net.Socket) => void): Promise<net.Server> {
  return new Promise((resolve) => {
    const s = net.createServer(onConnection);
    s.listen(socket, () => resolve(s));
  });
}
const closed = (s: net.Server) => new Promise<void>((r) => s.close(() => r()));

it('closed connection then missing socket: one warning; a hung server after that: a warning of its own', async () => {
  const socket = path.join(dir, 'm0.sock');
  const { log, said } = recordingLog();
  const r = builtinRunner('mysql', { instances: { m0: { socket } }, instance_timeout: '300ms' }, { proc: fileReader('/proc'), sys: fileReader('/sys'), log });
  const up = async () => {
    const res = await r.run(Date.now(), new AbortController().signal);
    return res.samples.find((s) => relativePath(s.name) === 'mysql.m0.up')?.value;
  };
  try {
    // Accepts and hangs up at once: "the server closed the connection".
    let server = await listen(socket, (c) => c.destroy());
    expect(await up()).toBe(0);
    await closed(server);
    // Gone: "the socket ... does not exist", twice.
    expect(await up()).toBe(0);
    expect(await up()).toBe(0);
    // Distinct words: the core's throttle turns a repeat into one line per window.
    const warned = () => [...new Set(said.filter((l) => l.startsWith('warn mysql instance m0')))];
    const warnings = warned();
    expect(warnings, said.join("\n")).toHaveLength(1);
    expect(warnings[0]).toContain('the server closed the connection');
    // Back, but silent: a failure of another kind, said.
    const held: net.Socket[] = [];
    server = await listen(socket, (c) => void held.push(c));
    expect(await up()).toBe(0);
    const after = warned();
    expect(after).toHaveLength(2);
    expect(after[1]).toContain('no answer to');
    for (const c of held) c.destroy();
    await closed(server);
  } finally {
    await r.close();
  }
});
