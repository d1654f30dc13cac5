// Which server an instance runs, from the version its handshake announces, and what follows from
// it: the statement that shows replication, and the GRANT line that lets sonde run it.

export interface Flavour {
  readonly mariadb: boolean;
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** As the server announced it, e.g. `10.11.19-MariaDB-0+deb12u1-log`. */
  readonly text: string;
}

/**
 * Reads a handshake's server version. MariaDB 10.x prefixes `5.5.5-` for old replication
 * clients (`5.5.5-10.11.19-MariaDB-log`); the real version follows it.
 */
export function parseFlavour(serverVersion: string): Flavour {
  const text = serverVersion.replace(/^5\.5\.5-/, '');
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(text);
  return {
    mariadb: /mariadb/i.test(serverVersion),
    major: m ? Number(m[1]) : 0,
    minor: m ? Number(m[2]) : 0,
    patch: m ? Number(m[3]) : 0,
    text,
  };
}

function atLeast(f: Flavour, major: number, minor: number, patch: number): boolean {
  if (f.major !== major) return f.major > major;
  if (f.minor !== minor) return f.minor > minor;
  return f.patch >= patch;
}

/**
 * The statement that lists every replication connection: MariaDB's multi-source SHOW ALL SLAVES
 * STATUS (10.0+); on MySQL 8.0.22+ SHOW REPLICA STATUS (one row per channel; 8.4 dropped the old
 * spelling), before it SHOW SLAVE STATUS.
 */
export function replicationStatement(f: Flavour): string {
  if (f.mariadb) return f.major >= 10 ? 'SHOW ALL SLAVES STATUS' : 'SHOW SLAVE STATUS';
  return atLeast(f, 8, 0, 22) ? 'SHOW REPLICA STATUS' : 'SHOW SLAVE STATUS';
}

/**
 * The privileges sonde needs on this server: PROCESS for SHOW ENGINE INNODB STATUS, and the one
 * that allows the replication statement. MariaDB 10.5 made REPLICATION CLIENT an alias of BINLOG
 * MONITOR, which no longer allows SHOW SLAVE STATUS: 10.5.0-10.5.8 need REPLICATION SLAVE ADMIN,
 * 10.5.9+ SLAVE MONITOR.
 */
export function neededPrivileges(f: Flavour | undefined): string {
  if (f === undefined) return 'PROCESS, SLAVE MONITOR (MariaDB 10.5.9 and later) or PROCESS, REPLICATION CLIENT (MySQL, MariaDB before 10.5)';
  if (!f.mariadb || !atLeast(f, 10, 5, 0)) return 'PROCESS, REPLICATION CLIENT';
  return atLeast(f, 10, 5, 9) ? 'PROCESS, SLAVE MONITOR' : 'PROCESS, REPLICATION SLAVE ADMIN';
}

/** `GRANT ... ON *.* TO <account>;` for this server. */
export function grantLine(f: Flavour | undefined, account: string): string {
  return `GRANT ${neededPrivileges(f)} ON *.* TO ${account};`;
}

/** `'user'@'host'` as SQL writes an account. */
export function account(user: string, host: string): string {
  const q = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  return `${q(user)}@${q(host)}`;
}
