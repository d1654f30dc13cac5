// A real Prometheus (Debian's prometheus) with its remote-write receiver on, its own data dir and
// a free loopback port, no scrape targets; started and stopped by the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './carbon.js';

export interface Prometheus {
  readonly url: string;
  /** GET /api/v1/query; returns `data.result`. */
  query(q: string, timeSeconds: number): Promise<{ metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(dir: string): Promise<Prometheus> {
  const port = await freePort();
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  const conf = path.join(dir, 'prometheus.yml');
  writeFileSync(conf, 'global:\n  scrape_interval: 1h\nscrape_configs: []\n');
  const proc: ChildProcess = spawn(
    '/usr/bin/prometheus',
    [`--config.file=${conf}`, `--storage.tsdb.path=${dir}/data`, `--web.listen-address=127.0.0.1:${port}`, '--web.enable-remote-write-receiver', '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const end = Date.now() + 30_000;
  for (;;) {
    const ok = await fetch(`${url}/-/ready`).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (proc.exitCode !== null || Date.now() > end) {
      proc.kill('SIGKILL');
      throw new Error(`prometheus did not become ready on ${port}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async query(q, timeSeconds) {
      const r = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: q, time: String(timeSeconds) })}`);
      const j = (await r.json()) as { status: string; error?: string; data: { result: never[] } };
      if (j.status !== 'success') throw new Error(`query ${q} failed: ${j.error}`);
      return j.data.result;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
      }),
  };
}
