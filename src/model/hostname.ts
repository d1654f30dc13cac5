// The host segment of every metric path, resolved the ways Diamond users configure it.
import os from 'node:os';
import dns from 'node:dns/promises';
import { execFile } from 'node:child_process';

export const HOSTNAME_METHODS = [
  'smart',
  'fqdn_short',
  'fqdn',
  'hostname',
  'hostname_short',
  'uname_short',
  'shell',
  'none',
] as const;
export type HostnameMethod = (typeof HOSTNAME_METHODS)[number];

export interface HostnameOptions {
  /** A literal host name (wins over the method), or the command to run for `shell`. */
  readonly hostname: string | undefined;
  readonly method: HostnameMethod;
  /** How long DNS (fqdn methods) or the shell command may take before we fall back. */
  readonly timeoutMs: number;
  /** The FQDN resolved a moment ago for this kernel host name: the fqdn methods use it instead of DNS. */
  readonly knownFqdn?: { readonly kernel: string; readonly fqdn: string } | undefined;
}

export interface ResolvedHostname {
  /** undefined for `none`: paths then have no host segment. */
  readonly host: string | undefined;
  /** Set when the method could not be followed and a fallback was used; log it. */
  readonly warning: string | undefined;
  /** For the fqdn methods, when they were followed: the kernel host name and the FQDN it resolved to. */
  readonly fqdn?: { readonly kernel: string; readonly fqdn: string };
}

/** The first label of a dotted name: `web01.example.com` is `web01`. */
function first(name: string): string {
  const dot = name.indexOf('.');
  return dot < 0 ? name : name.slice(0, dot);
}

/** The names a host segment is made from: the kernel's (uname -n) and, for the fqdn methods, the FQDN. */
export interface HostNames {
  readonly kernel: string;
  readonly fqdn: string;
}

/** The methods whose result is a function of HostNames alone. */
export type NameMethod = Exclude<HostnameMethod, 'shell' | 'none'>;

/**
 * Diamond's rules (diamond/collector.py get_hostname), given the names: `fqdn` turns dots into
 * `_`, the `_short` methods keep the first label, `smart` is fqdn_short unless that is
 * `localhost`, then hostname_short. Pure, so the rules are tested with hand-written names.
 */
export function hostFromNames(method: NameMethod, names: HostNames): string {
  switch (method) {
    case 'hostname':
      return names.kernel;
    case 'hostname_short':
    case 'uname_short':
      // uname(2)'s nodename is the kernel host name: the same name for both.
      return first(names.kernel);
    case 'fqdn':
      return names.fqdn.replaceAll('.', '_');
    case 'fqdn_short':
      return first(names.fqdn);
    case 'smart': {
      const short = first(names.fqdn);
      return short === 'localhost' ? first(names.kernel) : short;
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The FQDN: a kernel host name with a dot as it is; otherwise the host's address, then its name by
 * reverse lookup, as Python's socket.getfqdn() (Diamond's source) does. Unlike Python, a reverse
 * name without a dot (`localhost`) gives the kernel host name instead.
 */
async function fqdn(timeoutMs: number): Promise<string> {
  const host = os.hostname();
  if (host.includes('.')) return host;
  const lookup = async (): Promise<string> => {
    const { address } = await dns.lookup(host);
    const { hostname } = await dns.lookupService(address, 0);
    return hostname.includes('.') ? hostname : host;
  };
  return withTimeout(lookup(), timeoutMs, `resolving the fully qualified name of ${host}`);
}

function shell(command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('/bin/sh', ['-c', command], { timeout: timeoutMs }, (err, stdout) => {
      if (err) {
        const why = err.killed ? `no answer within ${timeoutMs} ms` : `exit status ${String(err.code)}`;
        reject(new Error(`hostname command ${JSON.stringify(command)} failed (${why})`));
      }
      else resolve(stdout.trim());
    });
  });
}

/**
 * Resolves the host segment. DNS is only consulted for the fqdn methods and is bounded by a
 * timeout, so a broken resolver delays start-up by at most `timeoutMs` and then falls back to the
 * kernel's host name with a warning.
 */
export async function resolveHostname(opts: HostnameOptions): Promise<ResolvedHostname> {
  if (opts.hostname !== undefined && opts.method !== 'shell') return { host: opts.hostname, warning: undefined };
  const kernel = os.hostname();
  try {
    switch (opts.method) {
      case 'none':
        return { host: undefined, warning: undefined };
      case 'hostname':
      case 'hostname_short':
      case 'uname_short':
        // These never read the FQDN: no DNS.
        return { host: hostFromNames(opts.method, { kernel, fqdn: kernel }), warning: undefined };
      case 'fqdn':
      case 'fqdn_short':
      case 'smart': {
        const known = opts.knownFqdn?.kernel === kernel ? opts.knownFqdn.fqdn : undefined;
        const names = { kernel, fqdn: known ?? (await fqdn(opts.timeoutMs)) };
        return { host: hostFromNames(opts.method, names), warning: undefined, fqdn: names };
      }
      case 'shell': {
        if (opts.hostname === undefined) {
          throw new Error('hostname_method is "shell" but no hostname command is set');
        }
        const out = await shell(opts.hostname, opts.timeoutMs);
        if (out.length === 0) throw new Error(`hostname command ${JSON.stringify(opts.hostname)} printed nothing`);
        return { host: out, warning: undefined };
      }
    }
  } catch (err) {
    const fallback = first(kernel);
    return {
      host: fallback,
      warning: `hostname_method ${opts.method}: ${(err as Error).message}; using ${JSON.stringify(fallback)} instead`,
    };
  }
}
