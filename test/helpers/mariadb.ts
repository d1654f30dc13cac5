// Real MariaDB servers for the mysql collector's tests (Debian's mariadb-server): each instance
// in a temp dir of its own, on its own socket and a free 127.0.0.1 port, started in parallel
// from one data directory made once per test file by mariadb-install-db. Also: replication
// between two of them, Debian's prometheus-mysqld-exporter in front of one, and listeners that
// accept and never answer.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { freePort } from './carbon.js';

const MARIADBD = '/usr/sbin/mariadbd';
const INSTALL_DB = '/usr/bin/mariadb-install-db';
const EXPORTER = '/usr/bin/prometheus-mysqld-exporter';

/** The password of the `sonde` account (PROCESS, SLAVE MONITOR) on every instance. */
export const SONDE_PASSWORD = 'sonde-pw';
/** The password of the `bare` account: it may log in and nothing more. */
export const BARE_PASSWORD = 'bare-pw';
const REPL_PASSWORD = 'repl-pw';

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

// A small server: the tests need a working InnoDB, not a fast one.
const SERVER_ARGS = ['--innodb-buffer-pool-size=8M', '--innodb-log-file-size=4M', '--key-buffer-size=1M', '--max-connections=60', '--skip-name-resolve', '--performance-schema=OFF'];

const everyone = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of everyone) c.kill('SIGKILL');
});

let template: { dir: string; root: string } | undefined;

/** One data directory, installed once per test file and copied for each instance. */
function installed(): string {
  if (template) return template.dir;
  const root = mkdtempSync(path.join(os.tmpdir(), 'sonde-mariadb-template-'));
  const dir = path.join(root, 'data');
  const args = ['--no-defaults', `--datadir=${dir}`, '--auth-root-authentication-method=socket', '--skip-test-db', ...SERVER_ARGS.slice(0, 2)];
  if (asRoot) args.push('--user=root');
  const r = spawnSync(INSTALL_DB, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${INSTALL_DB} failed (${r.status}): ${r.stderr.slice(-2000)}${r.stdout.slice(-1000)}`);
  template = { dir, root };
  process.on('exit', () => rmSync(root, { recursive: true, force: true }));
  return dir;
}

export interface MariaDB {
  readonly name: string;
  readonly dir: string;
  readonly socket: string;
  readonly port: number;
  readonly serverId: number;
  /** Runs a statement as root over the socket; rows as objects. */
  sql(statement: string): Promise<Record<string, unknown>[]>;
  /** Runs statements one after the other on one connection (session settings hold for all). */
  batch(statements: readonly string[]): Promise<void>;
  /** SHOW GLOBAL STATUS as numbers (text values left out). */
  status(): Promise<Map<string, number>>;
  /** A root connection of the test's own, for a workload; end it when done. */
  connect(): Promise<mysql.Connection>;
  /** Kills the server (SIGKILL by default) and waits until it is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same directory, socket and port; resolves once it answers. */
  start(): Promise<void>;
  readonly running: boolean;
}

class Instance implements MariaDB {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly dir: string,
    readonly port: number,
    readonly serverId: number,
  ) {}

  get socket(): string {
    return path.join(this.dir, 'mysqld.sock');
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  private get errorLog(): string {
    return path.join(this.dir, 'error.log');
  }

  async start(): Promise<void> {
    const args = [
      '--no-defaults',
      `--datadir=${path.join(this.dir, 'data')}`,
      `--socket=${this.socket}`,
      `--port=${this.port}`,
      '--bind-address=127.0.0.1',
      `--pid-file=${path.join(this.dir, 'mysqld.pid')}`,
      `--log-error=${this.errorLog}`,
      `--server-id=${this.serverId}`,
      // A domain per server, so that a replica of two of them (multi-source) keeps their GTIDs apart.
      `--gtid-domain-id=${this.serverId}`,
      '--log-bin=mysql-bin',
      '--relay-log=relay-bin',
      ...SERVER_ARGS,
    ];
    if (asRoot) args.push('--user=root');
    const child = spawn(MARIADBD, args, { stdio: 'ignore' });
    everyone.add(child);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => (everyone.delete(child), resolve())));
    const end = Date.now() + 30_000;
    for (;;) {
      if (!this.running) throw new Error(`mariadbd ${this.name} exited while starting:\n${this.logTail()}`);
      try {
        await this.sql('SELECT 1');
        return;
      } catch {
        if (Date.now() > end) throw new Error(`mariadbd ${this.name} did not answer on ${this.socket} within 30 s:\n${this.logTail()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  logTail(): string {
    return existsSync(this.errorLog) ? readFileSync(this.errorLog, 'utf8').slice(-3000) : '(no error log)';
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    this.child!.kill(signal);
    await this.exited;
  }

  connect(): Promise<mysql.Connection> {
    return mysql.createConnection({ socketPath: this.socket, user: 'root', connectTimeout: 2000 });
  }

  async sql(statement: string): Promise<Record<string, unknown>[]> {
    const c = await this.connect();
    try {
      const [rows] = await c.query(statement);
      return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
    } finally {
      // COM_QUIT: a dropped socket would count in the server's Aborted_clients, which tests read.
      await c.end().catch(() => c.destroy());
    }
  }

  /** Runs statements one after the other on one connection (session settings hold for all). */
  async batch(statements: readonly string[]): Promise<void> {
    const c = await this.connect();
    try {
      for (const st of statements) await c.query(st);
    } finally {
      await c.end().catch(() => c.destroy());
    }
  }

  async status(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const r of await this.sql('SHOW GLOBAL STATUS')) {
      const v = Number(r.Value);
      if (r.Value !== '' && Number.isFinite(v)) out.set(String(r.Variable_name), v);
    }
    return out;
  }
}

export interface MariaDBs {
  readonly all: readonly MariaDB[];
  get(name: string): MariaDB;
  /** Kills every instance and removes their directories. */
  stop(): Promise<void>;
}

/**
 * Starts one instance per name, in parallel, each with the accounts the tests use (made with
 * sql_log_bin off, so that a replica does not apply them a second time):
 * `sonde` (SONDE_PASSWORD; PROCESS, SLAVE MONITOR), `bare` (BARE_PASSWORD; no privilege),
 * `repl` (for replication), on localhost (the socket) and 127.0.0.1.
 */
export async function startMariaDBs(names: readonly string[]): Promise<MariaDBs> {
  const data = installed();
  const root = mkdtempSync(path.join(os.tmpdir(), 'sonde-mariadb-'));
  const instances = await Promise.all(
    names.map(async (name, i) => {
      const dir = path.join(root, name);
      mkdirSync(dir, { recursive: true });
      cpSync(data, path.join(dir, 'data'), { recursive: true });
      const inst = new Instance(name, dir, await freePort(), i + 1);
      await inst.start();
      const accounts = ['localhost', '127.0.0.1'].flatMap((h) => [
        `CREATE USER 'sonde'@'${h}' IDENTIFIED BY '${SONDE_PASSWORD}'`,
        `GRANT PROCESS, SLAVE MONITOR ON *.* TO 'sonde'@'${h}'`,
        `CREATE USER 'bare'@'${h}' IDENTIFIED BY '${BARE_PASSWORD}'`,
      ]);
      await inst.batch(['SET sql_log_bin = 0', ...accounts, `CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY '${REPL_PASSWORD}'`, "GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'"]);
      return inst;
    }),
  );
  return {
    all: instances,
    get(name) {
      const i = instances.find((x) => x.name === name);
      if (!i) throw new Error(`no instance ${name}`);
      return i;
    },
    async stop() {
      await Promise.all(instances.map((i) => i.kill()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * Makes `replica` replicate from `master` (GTID, connect retry 1 s), as its default connection
 * or as the named one, and waits until both threads run.
 */
export async function replicate(replica: MariaDB, master: MariaDB, connection = ''): Promise<void> {
  const conn = connection === '' ? '' : ` '${connection}'`;
  await replica.sql(
    `CHANGE MASTER${conn} TO MASTER_HOST='127.0.0.1', MASTER_PORT=${master.port}, MASTER_USER='repl', MASTER_PASSWORD='${REPL_PASSWORD}', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1`,
  );
  await replica.sql(`START SLAVE${conn}`);
  await until(`replication ${master.name} -> ${replica.name}${conn}`, async () => {
    const rows = await replica.sql('SHOW ALL SLAVES STATUS');
    const r = rows.find((x) => x.Connection_name === connection);
    return r?.Slave_IO_Running === 'Yes' && r?.Slave_SQL_Running === 'Yes';
  });
}

/** Polls `check` until it holds; fails naming `what` after `ms`. */
export async function until(what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Debian's mysqld_exporter in front of one instance (root over its socket), on a free port. */
export interface Exporter {
  /** One scrape: `name{labels}` -> value, as the exposition format writes them. */
  scrape(): Promise<Map<string, number>>;
  stop(): Promise<void>;
}

export async function startExporter(instance: MariaDB): Promise<Exporter> {
  const port = await freePort();
  const child = spawn(EXPORTER, [`--web.listen-address=127.0.0.1:${port}`], {
    stdio: 'ignore',
    env: { ...process.env, DATA_SOURCE_NAME: `root@unix(${instance.socket})/` },
  });
  everyone.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => (everyone.delete(child), resolve())));
  const scrape = async (): Promise<Map<string, number>> => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const out = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const cut = line.lastIndexOf(' ');
      out.set(line.slice(0, cut), Number(line.slice(cut + 1)));
    }
    return out;
  };
  await until(`mysqld_exporter on port ${port}`, async () => {
    try {
      return (await scrape()).get('mysql_up') === 1;
    } catch {
      return false;
    }
  });
  return {
    scrape,
    async stop() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A listener that accepts connections and never answers: a hung server, on TCP or a unix socket. */
export async function silentListener(at: { port: number } | { socket: string }): Promise<{ accepted: () => number; close: () => Promise<void> }> {
  const held = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((s) => {
    accepted++;
    held.add(s);
    s.on('error', () => undefined);
    s.on('close', () => held.delete(s));
  });
  await new Promise<void>((resolve) => ('port' in at ? server.listen(at.port, '127.0.0.1', resolve) : server.listen(at.socket, resolve)));
  return {
    accepted: () => accepted,
    close: async () => {
      for (const s of held) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
