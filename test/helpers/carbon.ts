// A real carbon-cache (Debian's graphite-carbon) on free loopback ports, with its own storage
// and a 1 s retention, started and stopped by the test.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface Carbon {
  readonly plaintextPort: number;
  readonly picklePort: number;
  readonly storage: string;
  /** Values stored for a metric path between two Unix times (whisper-fetch), null slots left out. */
  fetch(metric: string, from: number, until: number): Map<number, number>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), r(true)));
      c.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`carbon-cache did not listen on ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts carbon-cache; pass the ports of a previous run to restart it where sonde sends. */
export async function startCarbon(dir: string, ports?: { plaintextPort: number; picklePort: number }): Promise<Carbon> {
  const [plaintextPort, picklePort, queryPort] = [ports?.plaintextPort ?? (await freePort()), ports?.picklePort ?? (await freePort()), await freePort()];
  const conf = path.join(dir, 'conf');
  const storage = path.join(dir, 'storage');
  for (const d of [conf, path.join(storage, 'whisper'), path.join(dir, 'log'), path.join(dir, 'run')]) mkdirSync(d, { recursive: true });
  writeFileSync(
    path.join(conf, 'carbon.conf'),
    `[cache]
STORAGE_DIR = ${storage}
LOCAL_DATA_DIR = ${storage}/whisper
WHITELISTS_DIR = ${storage}/lists
CONF_DIR = ${conf}
LOG_DIR = ${dir}/log
PID_DIR = ${dir}/run
ENABLE_LOGROTATION = False
ENABLE_TAGS = False
USER =
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = 100000
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = ${plaintextPort}
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = ${picklePort}
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = ${queryPort}
LOG_LISTENER_CONNECTIONS = False
`,
  );
  writeFileSync(path.join(conf, 'storage-schemas.conf'), '[all]\npattern = .*\nretentions = 1s:1h\n');
  const child: ChildProcess = spawn('carbon-cache', [`--config=${path.join(conf, 'carbon.conf')}`, '--debug', 'start'], { stdio: 'ignore' });
  await waitForPort(plaintextPort, 30_000);
  await waitForPort(picklePort, 30_000);
  return {
    plaintextPort,
    picklePort,
    storage,
    fetch(metric, from, until) {
      const file = path.join(storage, 'whisper', ...metric.split('.')) + '.wsp';
      const out = execFileSync('whisper-fetch', [`--from=${from}`, `--until=${until}`, file], { encoding: 'utf8' });
      const m = new Map<number, number>();
      for (const line of out.trim().split('\n')) {
        const [t, v] = line.split('\t');
        if (v !== 'None') m.set(Number(t), Number(v));
      }
      return m;
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    },
  };
}
