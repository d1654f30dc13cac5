// `host:port` as sonde's network handlers take a destination: a name or IPv4 address, or an IPv6
// address in brackets (`[::1]:8125`), and a port from 1 to 65535.

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/;

/** The host and port of `host:port` (`[v6]:port` for IPv6), or undefined when it is not one. */
export function parseHostPort(s: string): HostPort | undefined {
  const m = HOST_PORT.exec(s.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (m[1] ?? m[2])!, port };
}
