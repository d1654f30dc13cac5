// The mysql collector's section of sonde.yaml.
import { duration, z } from '../../src/plugin-api.js';

/** The section's schema, built when a config has a mysql section (see SchemaSource in the plugin API). */
export function schema() {
  const instance = z.strictObject({
    socket: z.string().min(1).optional().describe('Unix socket of the instance, e.g. /run/mysqld/m0.sock (a unix_socket account needs no password)'),
    host: z.string().min(1).optional().describe('Host name or address for TCP, e.g. 127.0.0.1 (localhost is TCP too: for the socket write socket)'),
    port: z.number().int().min(1).max(65535).optional().describe('TCP port; 3306 with a host; a port alone means 127.0.0.1'),
    user: z.string().min(1).optional().describe("Login; defaults to the defaults file's, else the name of the user sonde runs as"),
    password: z
      .string()
      .optional()
      .describe('Never written here: give password_file (a file holding only the password) or ${ENV_VAR}, or a defaults_file with password= in [client]'),
    defaults_file: z.string().min(1).optional().describe('An option file whose [client] group gives user, password, socket, host and port; keys written here win'),
  });

  const discover = z.strictObject({
    mysqld_multi: z.string().min(1).optional().describe('An option file (e.g. /etc/mysql/my.cnf, !include lines followed): each [mysqldN] group with a socket or port is instance mysqldN'),
    sandboxes: z.string().min(1).optional().describe('A directory of sandboxes: each <dir>/<name>/my.sandbox.cnf is instance <name>, logged in with its [client] group'),
    user: z.string().min(1).optional().describe("Login for mysqld_multi's instances; defaults to the name of the user sonde runs as"),
    password: z.string().optional().describe('Password for that login: give password_file or ${ENV_VAR}'),
    interval: duration({ min: '100ms', max: '1d' }).prefault('1m').describe('How often the sources are read again: new instances are collected, gone ones dropped'),
  });

  return z.object({
    instances: z
      .record(z.string(), instance)
      .default({})
      .describe('The instances, by name: servers.<host>.mysql.<name>.<Variable>. Each needs a socket, a host or port, or a defaults_file'),
    discover: discover.prefault({}).describe('Instances found on the host as well, named by their source'),
    replication: z.boolean().default(true).describe('Replication figures from SHOW ALL SLAVES STATUS (MariaDB) or SHOW REPLICA STATUS (MySQL)'),
    innodb: z.boolean().default(false).describe("SHOW ENGINE INNODB STATUS, under Diamond's Innodb_* names (needs PROCESS)"),
    publish: z.array(z.string().min(1)).default([]).describe('Only these SHOW GLOBAL STATUS variables (exact names); empty publishes all'),
    levels: z
      .array(z.string().min(1))
      .default([])
      .describe('Status variables to publish as levels rather than per-second rates, for variables sonde does not know'),
    instance_timeout: duration({ min: '10ms', max: '1h' })
      .prefault('5s')
      .describe("Each instance's connect and queries must finish within this, or it reports up 0 for the interval; keep it below the collector's interval"),
  });
}

export type Config = z.output<ReturnType<typeof schema>>;
export type InstanceConfig = Config['instances'][string];
export type DiscoverConfig = Config['discover'];
