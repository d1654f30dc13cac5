// The mysql2 the agent runs is the build's dist/sonde-vendor-mysql2.cjs, with parts of it loaded only
// on use (node's tls, crypto and zlib; the table of server error names). Against a real MariaDB:
// a password login (crypto) and a query work, the error table is not loaded by them, and a server
// error still carries its name (err.code) once it is.
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BARE_PASSWORD, startMariaDBs, type MariaDBs } from './helpers/mariadb.js';

const DIST = path.resolve(import.meta.dirname, '..', 'dist');
const require = createRequire(import.meta.url);

interface Conn {
  query(sql: string, cb: (err: (Error & { code?: string; errno?: number }) | null, rows: unknown) => void): void;
  once(event: 'connect' | 'error', cb: (x: unknown) => void): void;
  end(): void;
  destroy(): void;
}
interface Mysql2 {
  createConnection(o: Record<string, unknown>): Conn;
}

let dbs: MariaDBs;
beforeAll(async () => {
  dbs = await startMariaDBs(['v0']);
}, 120_000);
afterAll(async () => {
  await dbs?.stop();
});

function connect(mysql: Mysql2, password: string): Promise<Conn> {
  const m = dbs.get('v0');
  const c = mysql.createConnection({ host: '127.0.0.1', port: m.port, user: 'bare', password });
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('error', (e) => {
      c.destroy();
      reject(e as Error);
    });
  });
}

const loaded = (file: string) => Object.keys(require.cache).some((k) => k === path.join(DIST, file));

it('logs in with a password and queries without loading the error table; a refused login still gets its name', async () => {
  const mysql = require(path.join(DIST, 'sonde-vendor-mysql2.cjs')) as Mysql2;
  const c = await connect(mysql, BARE_PASSWORD);
  const rows = await new Promise<unknown>((resolve, reject) => c.query('SELECT 1 + 1 AS two', (err, r) => (err ? reject(err) : resolve(r))));
  expect(rows).toEqual([{ two: 2 }]);
  c.end();
  expect(loaded('sonde-vendor-mysql2-errors.cjs')).toBe(false);
  const refused = await connect(mysql, 'not-the-password').then(
    () => undefined,
    (e: Error & { code?: string; errno?: number }) => e,
  );
  expect(refused?.errno).toBe(1045);
  expect(refused?.code).toBe('ER_ACCESS_DENIED_ERROR');
  expect(loaded('sonde-vendor-mysql2-errors.cjs')).toBe(true);
}, 60_000);
