// One instance's connection, kept open from one interval to the next (a connect costs the server
// a thread and an authentication; Diamond paid it every run). It is replaced when the server
// closed it, and destroyed when an answer is late: a server that accepts and never answers
// would otherwise hold a query, and the collector's run, for ever.
import { parseFlavour, type Flavour } from './flavour.js';
import type { InstanceSpec } from './instances.js';

type Mysql2 = typeof import('mysql2');
type Connection = ReturnType<Mysql2['createConnection']>;

/** A result as arrays of column values, with the column names. */
export interface Rows {
  readonly rows: readonly (readonly unknown[])[];
  readonly columns: readonly string[];
}

/** What a connect or query failed with; mysql2's errors carry `code` and `errno`. */
export interface ServerError extends Error {
  readonly code?: string;
  readonly errno?: number;
  readonly sqlMessage?: string;
}

/** An answer that did not come within the instance's deadline. */
export class LateError extends Error {
  constructor(
    readonly stage: string,
    readonly ms: number,
  ) {
    super(`no answer to ${stage} within ${ms} ms`);
    this.name = 'LateError';
  }
}

/** mysql2's own connect timeout is this much later than the deadline, so that it never fires first. */
const CONNECT_BACKSTOP_MS = 1000;
/** How long COM_QUIT may take at close before the socket is simply destroyed. */
const QUIT_MS = 1000;

export class InstanceConnection {
  private conn: Connection | undefined;
  /** A connect under way, and its number: a connect that was given up on is closed when it completes. */
  private pending: Connection | undefined;
  private attempt = 0;
  /** Connections made so far: a change tells that the last one was lost (the server may have restarted). */
  connects = 0;
  /** The server's version, known once a connection was made. */
  flavour: Flavour | undefined;
  /** What the current step is waiting for, for a message when it is late. */
  stage = 'the connect';

  constructor(
    private readonly mysql: Mysql2,
    readonly spec: InstanceSpec,
  ) {}

  get connected(): boolean {
    return this.conn !== undefined;
  }

  /** The open connection, or a new one; `timeoutMs` bounds the connect and the login. */
  private open(timeoutMs: number): Promise<Connection> {
    const open = this.conn;
    if (open !== undefined) return Promise.resolve(open);
    this.stage = 'the connect and login';
    const s = this.spec;
    const attempt = ++this.attempt;
    return new Promise((resolve, reject) => {
      const c = this.mysql.createConnection({
        ...(s.socket !== undefined ? { socketPath: s.socket } : { host: s.host, port: s.port }),
        user: s.user,
        password: s.password,
        // The instance's own deadline decides (and says what was late); this only backs it up.
        connectTimeout: Math.ceil(timeoutMs) + CONNECT_BACKSTOP_MS,
        // Status values are text; big counters stay exact until they become numbers here.
        supportBigNumbers: true,
        bigNumberStrings: true,
        multipleStatements: false,
        // No prepared statements are made: mysql2's cache of them would set aside arrays for
        // 16,000 (about 0.5 MB per connection).
        maxPreparedStatements: 1,
      });
      this.pending = c;
      let settled = false;
      c.once('connect', (handshake: { serverVersion?: unknown }) => {
        settled = true;
        if (this.pending === c) this.pending = undefined;
        if (attempt !== this.attempt) {
          c.destroy();
          reject(new Error('connect given up'));
          return;
        }
        this.flavour = parseFlavour(typeof handshake?.serverVersion === 'string' ? handshake.serverVersion : '');
        this.conn = c;
        this.connects++;
        resolve(c);
      });
      // Without a listener a lost connection would be an uncaught 'error' event.
      c.on('error', (err: ServerError) => {
        if (this.conn === c) this.conn = undefined;
        if (this.pending === c) this.pending = undefined;
        if (!settled) {
          settled = true;
          c.destroy();
          reject(err);
        }
      });
      c.on('end', () => {
        if (this.conn === c) this.conn = undefined;
      });
    });
  }

  /** Runs `sql` (connecting first if needed); rows come as arrays. */
  async query(sql: string, timeoutMs: number): Promise<Rows> {
    const c = await this.open(timeoutMs);
    this.stage = sql;
    return new Promise((resolve, reject) => {
      c.query({ sql, rowsAsArray: true }, (err: ServerError | null, rows: unknown, fields: unknown) => {
        if (err) {
          // A fatal error (the server went away) ends the connection; the next run makes a new one.
          if ((err as { fatal?: boolean }).fatal && this.conn === c) this.drop();
          reject(err);
          return;
        }
        const columns = Array.isArray(fields) ? fields.map((f: { name?: unknown }) => String(f?.name ?? '')) : [];
        resolve({ rows: Array.isArray(rows) ? (rows as unknown[][]) : [], columns });
      });
    });
  }

  /** Forgets the connection at once (its socket destroyed): for a server that stopped answering. */
  drop(): void {
    this.attempt++;
    const c = this.conn;
    const p = this.pending;
    this.conn = undefined;
    this.pending = undefined;
    c?.destroy();
    p?.destroy();
  }

  /** Says goodbye (COM_QUIT, so the server counts no aborted client), or destroys after QUIT_MS. */
  async close(): Promise<void> {
    this.attempt++;
    this.pending?.destroy();
    this.pending = undefined;
    const c = this.conn;
    this.conn = undefined;
    if (c === undefined) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        c.destroy();
        resolve();
      }, QUIT_MS);
      c.end(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
