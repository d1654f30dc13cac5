// What an operator reads when an instance fails: which instance, what happened, what it costs,
// and the fix, with the GRANT line for the server's flavour when a privilege is missing.
// Messages hold no counts or times that change, so the core's throttle sees a repeat as one.
import { account, grantLine, neededPrivileges, type Flavour } from './flavour.js';
import { LateError, type ServerError } from './connection.js';
import { endpointText, processUser, type InstanceSpec } from './instances.js';

/** `mysql instance m1 (socket /run/mysqld/m1.sock, instances.m1)`. */
export function instanceLabel(spec: InstanceSpec): string {
  return `mysql instance ${spec.name} (${endpointText(spec)}, ${spec.source})`;
}

/** The account sonde logs in as, as the server names it in an error, or as it would. */
function accountOf(spec: InstanceSpec, err: ServerError | undefined): string {
  const m = /'([^']*)'@'([^']*)'/.exec(err?.sqlMessage ?? err?.message ?? '');
  if (m) return account(m[1]!, m[2]!);
  return account(spec.user, spec.socket !== undefined ? 'localhost' : '<sonde host>');
}

/** Why a connect or query failed and what to do, for an instance that gives up 0. */
export function failureText(spec: InstanceSpec, err: unknown, flavour: Flavour | undefined): string {
  const e = err as ServerError;
  const what = `${instanceLabel(spec)}: `;
  const down = 'it reports up 0, and none of its other figures, until it answers';
  const where = spec.socket !== undefined ? 'socket' : 'host and port';
  if (err instanceof LateError) {
    return `${what}${err.message}: the server accepts connections but does not answer (hung, overloaded, or waiting on a lock); ${down}. Look at the server (its error log, SHOW PROCESSLIST from a console); if it is only slow, raise instance_timeout (keep it below the collector's interval)`;
  }
  switch (e?.code) {
    case 'ENOENT':
      return `${what}the socket ${spec.socket} does not exist (the instance is not running, or listens elsewhere); ${down}. Start it, or set ${where} in ${spec.source} to where it listens (SHOW VARIABLES LIKE 'socket')`;
    case 'ECONNREFUSED':
      return `${what}nothing accepts connections on ${endpointText(spec)} (connection refused: the instance is down); ${down}. Start it, or fix ${where} in ${spec.source}`;
    case 'EACCES':
    case 'EPERM':
      return `${what}permission denied on the socket ${spec.socket}; ${down}. Let sonde's user (${processUser()}) open it: add it to the group of the socket's directory (e.g. usermod -aG mysql ${processUser()})`;
    case 'ETIMEDOUT':
      return `${what}no answer to the connect (${e.message}); ${down}. Check that the server runs and that nothing between drops the packets; raise instance_timeout if it is only slow`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${what}cannot reach host ${spec.host} (${e.code}); ${down}. Fix host in ${spec.source}, or the network`;
    case 'PROTOCOL_CONNECTION_LOST':
    case 'ECONNRESET':
    case 'EPIPE':
      return `${what}the server closed the connection (it restarted, was killed, or ended the session); ${down}. sonde connects again at the next interval; if this repeats, read the server's error log`;
    case 'AUTH_SWITCH_PLUGIN_ERROR':
      return `${what}the account ${accountOf(spec, undefined)} uses an authentication plugin sonde's client does not speak (${e.message.split('. See')[0]}); ${down}. Give it mysql_native_password, caching_sha2_password or unix_socket, e.g. ALTER USER ${accountOf(spec, undefined)} IDENTIFIED VIA unix_socket;`;
    default:
      break;
  }
  const sql = e?.sqlMessage ?? e?.message ?? String(err);
  const acct = accountOf(spec, e);
  switch (e?.errno) {
    case 1045:
      return `${what}refused the login: ${sql} (wrong password, or no such account); ${down}. Check the password given to ${spec.source} (password_file, \${ENV} or defaults_file), or create the account: CREATE USER ${acct} IDENTIFIED BY '<password>'; ${grantLine(flavour, acct)}`;
    case 1698:
      return `${what}refused the login of ${acct} without a password: the account checks another way (unix_socket for a different OS user, or a password); ${down}. For sonde's own OS user: CREATE USER ${account(processUser(), 'localhost')} IDENTIFIED VIA unix_socket; ${grantLine(flavour, account(processUser(), 'localhost'))} and leave user unset; or give ${spec.source} a password_file`;
    case 1130:
      return `${what}does not let sonde's address log in: ${sql}; ${down}. Create the account for the address sonde connects from: CREATE USER ${acct} IDENTIFIED BY '<password>'; ${grantLine(flavour, acct)}`;
    case 1040:
      return `${what}refused the connection: too many connections (max_connections is reached); ${down}. Raise max_connections, or let the sonde account use the connection kept for administrators: GRANT CONNECTION ADMIN ON *.* TO ${acct}; (MariaDB 10.5.2+, MySQL 8)`;
    case 1226:
      return `${what}refused the connection: ${sql}; ${down}. Raise the account's MAX_USER_CONNECTIONS, or close its other sessions`;
    case 3159:
      return `${what}requires TLS for this account (${sql}); sonde speaks MySQL without TLS; ${down}. Connect over the socket, or ALTER USER ${acct} REQUIRE NONE;`;
    default:
      return `${what}${sql}; ${down}. Check the instance and ${spec.source}`;
  }
}

/** True for a query refused for want of a privilege (not for a failed login). */
export function isMissingGrant(err: unknown): boolean {
  const n = (err as ServerError)?.errno;
  return n === 1227 || n === 1142 || n === 1044;
}

/** A statement refused for want of a privilege: what is not collected and the GRANT that fixes it. */
export function grantText(spec: InstanceSpec, flavour: Flavour | undefined, statement: string, err: unknown, acct: string, option: 'replication' | 'innodb'): string {
  const e = err as ServerError;
  const lost = option === 'replication' ? 'its replication figures are not collected' : 'its InnoDB monitor figures are not collected';
  return `${instanceLabel(spec)}: ${statement} was refused (${e?.sqlMessage ?? e?.message}); ${lost}, the status ones are. Run on the instance: ${grantLine(flavour, acct)} (${neededPrivileges(flavour)} is what sonde needs there), or set ${option}: false`;
}

/** A statement that failed for another reason (a server without it, a bug): what is lost, and where to look. */
export function queryText(spec: InstanceSpec, statement: string, err: unknown, option: 'replication' | 'innodb'): string {
  const e = err as ServerError;
  return `${instanceLabel(spec)}: ${statement} failed (${e?.sqlMessage ?? e?.message}); its ${option} figures are not collected this interval, the status ones are. If the server does not have it, set ${option}: false`;
}
