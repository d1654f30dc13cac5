// A real InfluxDB 1.x (Debian's influxdb) on free loopback ports, with its own config and data
// dirs, started and stopped by the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './carbon.js';

export interface InfluxDb {
  readonly url: string;
  /** Runs an InfluxQL statement through /query; returns the parsed JSON answer. */
  query(q: string, db?: string): Promise<InfluxAnswer>;
  stop(): Promise<void>;
}

export interface InfluxAnswer {
  results: { series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[]; error?: string }[];
}

export async function startInfluxDb(dir: string): Promise<InfluxDb> {
  const [httpPort, rpcPort] = [await freePort(), await freePort()];
  for (const d of ['meta', 'data', 'wal']) mkdirSync(path.join(dir, d), { recursive: true });
  const conf = path.join(dir, 'influxdb.conf');
  writeFileSync(
    conf,
    `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
`,
  );
  const proc: ChildProcess = spawn('/usr/bin/influxd', ['-config', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${httpPort}`;
  const end = Date.now() + 20_000;
  for (;;) {
    const ok = await fetch(`${url}/ping`).then((r) => r.status === 204, () => false);
    if (ok) break;
    if (proc.exitCode !== null || Date.now() > end) {
      proc.kill('SIGKILL');
      throw new Error(`influxd did not answer /ping on ${httpPort}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const query = async (q: string, db?: string): Promise<InfluxAnswer> => {
    const body = new URLSearchParams({ q, epoch: 's', ...(db ? { db } : {}) });
    const r = await fetch(`${url}/query`, { method: 'POST', body });
    return (await r.json()) as InfluxAnswer;
  };
  return {
    url,
    query,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
      }),
  };
}
