// Which instances to collect and how to reach each: the ones named in the config (with their
// defaults files), and the ones found on the host (mysqld_multi groups, sandbox directories).
import { readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OptionFileError, readFailure, readOptionFile, type OptionGroups } from './option-file.js';
import type { DiscoverConfig, InstanceConfig } from './schema.js';

export interface InstanceSpec {
  /** The path segment: servers.<host>.mysql.<name>. */
  readonly name: string;
  /** Where it was configured, for messages: `instances.m1`, `[mysqld2] of /etc/mysql/my.cnf`. */
  readonly source: string;
  readonly socket: string | undefined;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly user: string;
  readonly password: string | undefined;
}

/** A problem at a key of the collector's section (for check()), or about a discovered instance. */
export interface SpecProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** Names become one metric path segment: nothing that Graphite or a glob would read apart. */
const SAFE_NAME = /^[A-Za-z0-9_-]+$/;

/** The account sonde logs in as when none is given: its own, as the mysql client does. */
export function processUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}

/** How an instance is reached, for messages: `socket /run/mysqld/m0.sock` or `127.0.0.1:3307`. */
export function endpointText(s: Pick<InstanceSpec, 'socket' | 'host' | 'port'>): string {
  return s.socket !== undefined ? `socket ${s.socket}` : `${s.host}:${s.port}`;
}

/** Equal for two specs that reach the same server. */
export function endpointKey(s: Pick<InstanceSpec, 'socket' | 'host' | 'port'>): string {
  return s.socket !== undefined ? `unix:${path.resolve(s.socket)}` : `tcp:${(s.host ?? '').toLowerCase()}:${s.port}`;
}

interface Reach {
  socket?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
}

/** Socket, host and port as a client resolves them: a port alone is 127.0.0.1, a host alone port 3306. */
function reach(r: Reach): { socket: string | undefined; host: string | undefined; port: number | undefined } | undefined {
  if (r.socket !== undefined && (r.host === undefined || r.host === 'localhost')) return { socket: r.socket, host: undefined, port: undefined };
  if (r.host === undefined && r.port === undefined) return undefined;
  return { socket: undefined, host: r.host ?? '127.0.0.1', port: r.port ?? 3306 };
}

/** An option file's port, or a problem. */
function portOf(v: string | undefined): number | string | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : `port=${JSON.stringify(v)} is not a port number (1-65535)`;
}

/** [client] of an option file: what a client reads from a defaults file. */
function clientGroup(groups: OptionGroups): Map<string, string> {
  return groups.get('client') ?? new Map();
}

/** One configured instance, resolved; problems are at keys of the section. */
export function configuredInstance(name: string, cfg: InstanceConfig): { spec?: InstanceSpec; problems: SpecProblem[] } {
  const at = ['instances', name];
  const problems: SpecProblem[] = [];
  if (!SAFE_NAME.test(name)) {
    problems.push({ path: at, message: `the name ${JSON.stringify(name)} becomes a metric path segment (servers.<host>.mysql.<name>); use only letters, digits, _ and -, e.g. ${JSON.stringify(name.replace(/[^A-Za-z0-9_-]/g, '_') || 'm1')}` });
  }
  if (cfg.socket !== undefined && cfg.host !== undefined) {
    problems.push({ path: [...at, 'host'], message: `set socket or host, not both: socket ${cfg.socket} is a local connection, host ${cfg.host} a TCP one` });
  }
  let file = new Map<string, string>();
  if (cfg.defaults_file !== undefined) {
    try {
      file = clientGroup(readOptionFile(cfg.defaults_file));
    } catch (err) {
      const reason = err instanceof OptionFileError ? (err.file === cfg.defaults_file ? err.reason : `${err.file}, which it includes: ${err.reason}`) : readFailure(err);
      problems.push({ path: [...at, 'defaults_file'], message: `cannot read ${cfg.defaults_file}: ${reason}` });
      return { problems };
    }
  }
  const filePort = portOf(file.get('port'));
  if (typeof filePort === 'string') problems.push({ path: [...at, 'defaults_file'], message: `${cfg.defaults_file}: [client] ${filePort}` });
  // Keys written in sonde.yaml win over the defaults file's, as command-line options do over a client's.
  const r = reach({
    socket: cfg.socket ?? (cfg.host === undefined ? file.get('socket') : undefined),
    host: cfg.host ?? (cfg.socket === undefined ? file.get('host') : undefined),
    port: cfg.port ?? (typeof filePort === 'number' ? filePort : undefined),
  });
  if (r === undefined) {
    const where = cfg.defaults_file === undefined ? '' : ` (nor does the [client] group of ${cfg.defaults_file})`;
    problems.push({ path: at, message: `says neither socket nor host nor port${where}, so sonde cannot tell which server it is; add socket: /path/to/mysqld.sock or host: and port:` });
  }
  if (problems.length > 0 || r === undefined) return { problems };
  return {
    spec: {
      name,
      source: `instances.${name}`,
      ...r,
      user: cfg.user ?? file.get('user') ?? processUser(),
      password: cfg.password ?? file.get('password'),
    },
    problems,
  };
}

/** Problems of the configured instances: each on its own, then two of them on one server. */
export function configuredProblems(instances: Record<string, InstanceConfig>): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const byEndpoint = new Map<string, string>();
  for (const [name, cfg] of Object.entries(instances)) {
    const r = configuredInstance(name, cfg);
    problems.push(...r.problems);
    if (r.spec === undefined) continue;
    const key = endpointKey(r.spec);
    const before = byEndpoint.get(key);
    if (before !== undefined) {
      const field = cfg.socket !== undefined ? 'socket' : cfg.host !== undefined ? 'host' : cfg.port !== undefined ? 'port' : 'defaults_file';
      problems.push({ path: ['instances', name, field], message: `instances ${before} and ${name} both reach ${endpointText(r.spec)}: one server would be collected twice, under two names. Remove one, or point it at its own instance` });
    } else {
      byEndpoint.set(key, name);
    }
  }
  return problems;
}

/** A discovery source that cannot be used, for check(); undefined when it can be read. */
export function discoverProblems(d: DiscoverConfig): SpecProblem[] {
  const problems: SpecProblem[] = [];
  if (d.mysqld_multi !== undefined) {
    try {
      readOptionFile(d.mysqld_multi);
    } catch (err) {
      const e = err as OptionFileError;
      problems.push({ path: ['discover', 'mysqld_multi'], message: `cannot read ${e.file ?? d.mysqld_multi}: ${e.reason ?? readFailure(err)}` });
    }
  }
  if (d.sandboxes !== undefined) {
    try {
      if (!statSync(d.sandboxes).isDirectory()) problems.push({ path: ['discover', 'sandboxes'], message: `${d.sandboxes} is not a directory; name the directory that holds one directory per sandbox` });
    } catch (err) {
      problems.push({ path: ['discover', 'sandboxes'], message: `cannot read ${d.sandboxes}: ${readFailure(err)}` });
    }
  }
  return problems;
}

export interface Discovered {
  readonly specs: InstanceSpec[];
  /** What was skipped and why, one line each, for the log. */
  readonly skipped: string[];
}

/** A discovered name as a path segment: what a metric path cannot hold becomes `_`. */
function safeName(raw: string): string {
  return raw.replace(/[^A-Za-z0-9_-]/g, '_') || '_';
}

/** Each [mysqldN] group of a mysqld_multi file with a socket or a port is instance mysqldN. */
export function mysqldMultiInstances(file: string, login: { user: string; password: string | undefined }): Discovered {
  const specs: InstanceSpec[] = [];
  const skipped: string[] = [];
  let groups: OptionGroups;
  try {
    groups = readOptionFile(file);
  } catch (err) {
    const e = err as OptionFileError;
    return { specs, skipped: [`cannot read ${e.file ?? file}: ${e.reason ?? readFailure(err)}; its instances are not collected until it can be read`] };
  }
  for (const [group, opts] of groups) {
    if (!/^mysqld\d+$/.test(group)) continue;
    const port = portOf(opts.get('port'));
    const bind = opts.get('bind_address');
    // A server bound to every address is reached on the loopback one.
    const host = bind === undefined || bind === '0.0.0.0' || bind === '::' || bind === '*' ? undefined : bind;
    // The socket when there is one: no password needed with unix_socket, no TCP stack in between.
    const socket = opts.get('socket');
    const r = reach({ socket, host: socket === undefined && typeof port === 'number' ? host : undefined, port: typeof port === 'number' ? port : undefined });
    if (r === undefined) {
      skipped.push(`[${group}] of ${file} has no socket${typeof port === 'string' ? ` and its ${port}` : ' or port'}; add socket= to collect it`);
      continue;
    }
    specs.push({ name: group, source: `[${group}] of ${file}`, ...r, user: login.user, password: login.password });
  }
  return { specs, skipped };
}

/** Each <dir>/<name>/my.sandbox.cnf is instance <name>, logged in with its [client] group. */
export function sandboxInstances(dir: string): Discovered {
  const specs: InstanceSpec[] = [];
  const skipped: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    return { specs, skipped: [`cannot read the sandbox directory ${dir}: ${readFailure(err)}; its instances are not collected until it can be read`] };
  }
  for (const entry of names) {
    const cnf = path.join(dir, entry, 'my.sandbox.cnf');
    let groups: OptionGroups;
    try {
      groups = readOptionFile(cnf);
    } catch (err) {
      // A directory without a sandbox in it (a tarball's, a backup) is not one to report.
      if ((err as OptionFileError).reason === 'no such file' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
      skipped.push(`cannot read ${cnf}: ${(err as OptionFileError).reason ?? readFailure(err)}`);
      continue;
    }
    const client = clientGroup(groups);
    const port = portOf(client.get('port'));
    const r = reach({ socket: client.get('socket'), host: client.get('host'), port: typeof port === 'number' ? port : undefined });
    if (r === undefined) {
      skipped.push(`${cnf} has no socket or port in [client]; it is not collected`);
      continue;
    }
    specs.push({ name: safeName(entry), source: `sandbox ${path.join(dir, entry)}`, ...r, user: client.get('user') ?? processUser(), password: client.get('password') });
  }
  return { specs, skipped };
}

/**
 * The instances to collect: the configured ones, then the discovered ones whose name and server
 * are not taken already (a configured instance wins: it was named on purpose).
 */
export function mergeInstances(configured: readonly InstanceSpec[], discovered: readonly InstanceSpec[]): Discovered {
  const specs = [...configured];
  const skipped: string[] = [];
  const names = new Map(specs.map((s) => [s.name, s]));
  const endpoints = new Map(specs.map((s) => [endpointKey(s), s]));
  for (const d of discovered) {
    const sameServer = endpoints.get(endpointKey(d));
    if (sameServer !== undefined) {
      if (sameServer.source.startsWith('instances.')) continue; // configured by hand as well: collected once, under that name
      skipped.push(`${d.source} reaches ${endpointText(d)}, as ${sameServer.source} does; it is collected once, as ${sameServer.name}`);
      continue;
    }
    const sameName = names.get(d.name);
    if (sameName !== undefined) {
      skipped.push(`${d.source} would be named ${d.name}, as ${sameName.source} is; it is not collected. Rename one of them, or configure it under instances: with a name of its own`);
      continue;
    }
    specs.push(d);
    names.set(d.name, d);
    endpoints.set(endpointKey(d), d);
  }
  return { specs, skipped };
}
