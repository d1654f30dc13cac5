// Debian's memcached on a free loopback port, started and stopped by the test (`-M -m 2` for the
// out-of-memory cases: it then refuses sets instead of evicting). Restarted on the same port it is
// empty again, as a real memcached restart is.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort } from './carbon.js';

export const MEMCACHED = '/usr/bin/memcached';

export interface MemcachedOptions {
  /** `-m`: megabytes of item memory (memcached refuses fewer than 2). */
  readonly memoryMb?: number;
  /** `-M`: answer "SERVER_ERROR out of memory" instead of evicting items. */
  readonly noEvict?: boolean;
  /** The port of a server stopped before, to start it again where the agent writes. */
  readonly port?: number;
}

export interface Memcached {
  readonly port: number;
  readonly address: string;
  /** What memcached printed. */
  output(): string;
  /** SIGSTOP: a hung memcached whose socket still accepts. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, out: () => string): Promise<void> {
  const end = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`memcached exited with ${child.exitCode} before it listened on ${port}:\n${out()}`);
    const ok = await new Promise<boolean>((r) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), r(true)));
      c.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`memcached did not listen on ${port} within 10 s:\n${out()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startMemcached(opts: MemcachedOptions = {}): Promise<Memcached> {
  const port = opts.port ?? (await freePort());
  const args = ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', String(opts.memoryMb ?? 64), '-c', '64', '-t', '1'];
  if (opts.noEvict) args.push('-M');
  // memcached refuses to run as root without a user to switch to.
  if (process.getuid?.() === 0) args.push('-u', 'root');
  const child = spawn(MEMCACHED, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (text += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (text += d));
  const output = () => text;
  try {
    await waitForPort(port, child, output);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    port,
    address: `127.0.0.1:${port}`,
    output,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    },
  };
}
