// A small client for memcached's text protocol: one connection, commands pipelined in order, a
// deadline on the connect and on every command. It never retries: after a timeout or a broken
// connection the caller cannot know whether the command was applied (an `incr` may have claimed
// slots), so it gets an error that says so and decides itself. After a timeout the connection is
// kept a while for the late replies (a server that stalled and resumes), which a store's caller
// can hear of; past that, or when it breaks, the next command reconnects. Commands are written in
// the order they are called, and memcached answers them in that order.
import net from 'node:net';
import { parseReply, type Reply, type ReplyKind } from './reply.js';

export interface MemcachedAddress {
  readonly host: string;
  readonly port: number;
}

export interface MemcachedClientOptions extends MemcachedAddress {
  /** ms to wait for the TCP connection. */
  readonly connectTimeout: number;
  /** ms to wait for the reply to one command, counted from when it was written. */
  readonly commandTimeout: number;
}

/** One item read back by `get`/`gets`. */
export interface MemcachedItem {
  readonly flags: number;
  readonly value: Buffer;
  /** Only from `gets`. */
  readonly cas?: bigint;
}

/**
 * What a storage command got back: `STORED`, or a refusal that left nothing stored (`NOT_STORED`,
 * `EXISTS`, `NOT_FOUND`, or a `SERVER_ERROR` such as `out of memory storing object`).
 */
export interface StoreResult {
  readonly stored: boolean;
  /** The server's reply line, e.g. `SERVER_ERROR out of memory storing object`; empty with `error`. */
  readonly reply: string;
  /** No reply came (a timeout, a broken connection): the item may or may not be stored. */
  readonly error?: MemcachedError;
}

/** One item for `storeMany`. */
export interface StoreRequest {
  readonly key: string;
  readonly value: Buffer | string;
  readonly flags?: number;
  /** A string value's UTF-8 length when the caller knows it (it must be exact), saving a pass over it. */
  readonly bytes?: number;
}

export type StoreCommand = 'set' | 'add';

/**
 * A command that failed. `uncertain` is true when the command was written but no reply came (a
 * timeout, a broken connection): the server may or may not have applied it.
 */
export class MemcachedError extends Error {
  constructor(
    message: string,
    /** The command as written, without its data block, e.g. `incr _mcpq__cassandra_1_last_added 5`. */
    readonly command: string,
    readonly uncertain: boolean,
  ) {
    super(message);
    this.name = 'MemcachedError';
  }
}

const MAX_KEY_BYTES = 250;
const CRLF = Buffer.from('\r\n');

/** Throws when `key` is not a key memcached takes (1 to 250 bytes, no space or control character). */
export function checkKey(key: string): void {
  const bytes = Buffer.byteLength(key);
  if (bytes === 0 || bytes > MAX_KEY_BYTES) throw new Error(`memcached key ${JSON.stringify(key.slice(0, 60))} is ${bytes} bytes; memcached takes 1 to ${MAX_KEY_BYTES}`);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f]/.test(key)) throw new Error(`memcached key ${JSON.stringify(key)} holds a space or a control character, which memcached's text protocol cannot carry`);
}

interface Pending {
  readonly command: string;
  readonly kind: ReplyKind;
  readonly resolve: (reply: Reply) => void;
  readonly reject: (err: MemcachedError) => void;
  /** A reply came (or the connection went): its deadline no longer applies. */
  answered: boolean;
  /** Past its deadline: its promise was rejected, a reply that still comes goes to `late`. */
  overdue: boolean;
  readonly late: ((reply: Reply) => void) | undefined;
}

export class MemcachedClient {
  private socket: net.Socket | undefined;
  private connecting: Promise<net.Socket> | undefined;
  private readonly pending: Pending[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private closed = false;
  /** Drops the connection if overdue commands are still unanswered when it fires. */
  private lateTimer: NodeJS.Timeout | undefined;
  readonly where: string;

  constructor(private readonly opts: MemcachedClientOptions) {
    this.where = `memcached ${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}`;
  }

  /** Connects now (commands connect on their own when needed); rejects after `connectTimeout`. */
  connect(): Promise<void> {
    return this.ensure().then(() => undefined);
  }

  /** `get k1 k2 …`: the items found, by key (absent keys are missing from the map). */
  async get(keys: readonly string[]): Promise<Map<string, MemcachedItem>> {
    return this.retrieve('get', keys);
  }

  /** `gets k1 k2 …`: as `get`, with each item's CAS unique. */
  async gets(keys: readonly string[]): Promise<Map<string, MemcachedItem>> {
    return this.retrieve('gets', keys);
  }

  /** `set`/`add` of one item, exptime 0 (never expires); rejects (uncertain) when no reply came. */
  async store(command: StoreCommand, key: string, value: Buffer | string, flags = 0): Promise<StoreResult> {
    const [r] = await this.storeMany(command, [{ key, value, flags }]);
    if (r!.error !== undefined) throw r!.error;
    return r!;
  }

  set(key: string, value: Buffer | string, flags = 0): Promise<StoreResult> {
    return this.store('set', key, value, flags);
  }

  add(key: string, value: Buffer | string, flags = 0): Promise<StoreResult> {
    return this.store('add', key, value, flags);
  }

  /**
   * Several `set`s (or `add`s) written at once and answered in order: one result per item. An item
   * whose reply was lost (a timeout, a broken connection) gets `error`, uncertain: it may be stored.
   * Rejects only when nothing could be written (no connection).
   */
  async storeMany(command: StoreCommand, items: readonly StoreRequest[], onLate?: (index: number, result: StoreResult) => void): Promise<StoreResult[]> {
    const chunks: Buffer[] = [];
    const lines: string[] = [];
    // Text values go out as one string, encoded once: no buffer per item, no copy to join them.
    let text = '';
    for (const it of items) {
      checkKey(it.key);
      const flags = it.flags ?? 0;
      if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) throw new Error(`memcached flags must be a 32-bit unsigned integer, got ${flags}`);
      const v = it.value;
      const bytes = typeof v === 'string' ? (it.bytes ?? Buffer.byteLength(v)) : v.length;
      const line = `${command} ${it.key} ${flags} 0 ${bytes}`;
      lines.push(line);
      if (typeof v === 'string') text += `${line}\r\n${v}\r\n`;
      else {
        if (text !== '') chunks.push(Buffer.from(text));
        text = '';
        chunks.push(Buffer.from(`${line}\r\n`), v, CRLF);
      }
    }
    if (text !== '') chunks.push(Buffer.from(text));
    const late = onLate && ((i: number, r: Reply) => onLate(i, { stored: r.line === 'STORED', reply: r.line }));
    const replies = await this.write(lines, chunks, 'line', late);
    const out: StoreResult[] = [];
    for (let i = 0; i < replies.length; i++) {
      try {
        const r = await replies[i]!;
        this.check(lines[i]!, r, true);
        out.push({ stored: r.line === 'STORED', reply: r.line });
      } catch (err) {
        const e = err instanceof MemcachedError ? err : new MemcachedError(`${this.where}: "${lines[i]}" failed: ${(err as Error).message}`, lines[i]!, true);
        out.push({ stored: false, reply: '', error: e });
      }
    }
    return out;
  }

  /**
   * `incr <key> <by>`: the new value, or undefined when the key does not exist (nothing was
   * changed then). A timeout or a broken connection rejects with `uncertain`: do not simply repeat it.
   */
  async incr(key: string, by: number | bigint = 1): Promise<bigint | undefined> {
    checkKey(key);
    const n = BigInt(by);
    if (n < 0n || n > 0xffffffffffffffffn) throw new Error(`memcached incr takes 0 to 2^64-1, got ${by}`);
    const line = `incr ${key} ${n}`;
    const [r] = await this.run([line], [Buffer.from(`${line}\r\n`)], 'line');
    if (r!.line === 'NOT_FOUND') return undefined;
    if (!/^\d+$/.test(r!.line)) throw new MemcachedError(`${this.where}: "${line}" failed: ${r!.line}`, line, false);
    return BigInt(r!.line);
  }

  /** `delete <key>`: true when it was there (DELETED), false when it was not (NOT_FOUND). */
  async delete(key: string): Promise<boolean> {
    return (await this.deleteMany([key]))[0]!;
  }

  /** Several `delete`s written at once: per key, whether it was there. */
  async deleteMany(keys: readonly string[]): Promise<boolean[]> {
    const lines = keys.map((k) => (checkKey(k), `delete ${k}`));
    const replies = await this.run(lines, lines.map((l) => Buffer.from(`${l}\r\n`)), 'line');
    return replies.map((r, i) => {
      if (r.line === 'DELETED') return true;
      if (r.line === 'NOT_FOUND') return false;
      throw new MemcachedError(`${this.where}: "${lines[i]}" failed: ${r.line}`, lines[i]!, false);
    });
  }

  /** `stats [group]`: the `STAT name value` lines as a map. */
  async stats(group?: string): Promise<Map<string, string>> {
    const line = group ? `stats ${group}` : 'stats';
    const [r] = await this.run([line], [Buffer.from(`${line}\r\n`)], 'stats');
    const out = new Map<string, string>();
    for (const s of r!.stats ?? []) out.set(s[0], s[1]);
    return out;
  }

  /** Closes the connection; commands still waiting fail (uncertain). */
  close(): void {
    this.closed = true;
    this.drop(new Error('the client was closed'));
  }

  private async retrieve(cmd: 'get' | 'gets', keys: readonly string[]): Promise<Map<string, MemcachedItem>> {
    if (keys.length === 0) return new Map();
    for (const k of keys) checkKey(k);
    const line = `${cmd} ${keys.join(' ')}`;
    const [r] = await this.run([line.length > 200 ? `${cmd} ${keys[0]} … (${keys.length} keys)` : line], [Buffer.from(`${line}\r\n`)], 'retrieve');
    const out = new Map<string, MemcachedItem>();
    for (const v of r!.values ?? []) out.set(v.key, v.cas === undefined ? { flags: v.flags, value: v.value } : { flags: v.flags, value: v.value, cas: v.cas });
    return out;
  }

  /** Writes `chunks` (the commands `lines`, data blocks included) in one go; one reply per line. */
  private async run(lines: readonly string[], chunks: readonly Buffer[], kind: ReplyKind): Promise<Reply[]> {
    const out = await Promise.all(await this.write(lines, chunks, kind));
    for (let i = 0; i < out.length; i++) this.check(lines[i]!, out[i]!, false);
    return out;
  }

  /** Throws for a reply that is an error; a refused store (SERVER_ERROR) is a result when `storing`. */
  private check(command: string, reply: Reply, storing: boolean): void {
    const line = reply.line;
    // The server did not understand the command: the protocol is out of step.
    if (line === 'ERROR' || line.startsWith('CLIENT_ERROR')) {
      this.drop(new Error(`it answered "${line}"`));
      throw new MemcachedError(`${this.where}: "${command}" was not understood: ${line}`, command, false);
    }
    if (line.startsWith('SERVER_ERROR') && !storing) throw new MemcachedError(`${this.where}: "${command}" failed: ${line}`, command, false);
  }

  /** Writes the commands; a promise of each one's reply, in order. */
  private async write(lines: readonly string[], chunks: readonly Buffer[], kind: ReplyKind, late?: (index: number, reply: Reply) => void): Promise<Promise<Reply>[]> {
    if (this.closed) throw new MemcachedError(`${this.where}: the client is closed`, lines[0] ?? '', false);
    // Written at once when connected, so commands go out in the order they were called (a caller
    // may pipeline a get behind its sets and know it runs after them); else in that order once connected.
    const sock = this.socket !== undefined && !this.socket.destroyed ? this.socket : await this.ensure(lines[0] ?? '');
    const group: Pending[] = [];
    const replies = lines.map(
      (command, i) =>
        new Promise<Reply>((resolve, reject) => {
          const p: Pending = { command, kind, resolve, reject, answered: false, overdue: false, late: late && ((r) => late(i, r)) };
          group.push(p);
          this.pending.push(p);
        }),
    );
    // One deadline for the commands written together; those still unanswered then are overdue.
    const timer = setTimeout(() => {
      for (const p of group) if (!p.answered) this.timeout(p);
    }, this.opts.commandTimeout);
    replies[replies.length - 1]!.then(
      () => clearTimeout(timer),
      () => undefined,
    );
    // A failure of the first leaves the others rejected too; mark them handled so none goes unobserved.
    for (const r of replies) r.catch(() => undefined);
    if (chunks.length === 1) sock.write(chunks[0]!);
    else {
      // One writev for all of them, without copying them together first.
      sock.cork();
      for (const c of chunks) sock.write(c);
      sock.uncork();
    }
    return replies;
  }

  private timeout(p: Pending): void {
    p.answered = true;
    p.overdue = true;
    p.reject(new MemcachedError(`${this.where}: "${p.command}" got no reply within ${this.opts.commandTimeout} ms (command_timeout); the server may or may not have applied it`, p.command, true));
    // The connection stays, in step, for late replies; a server silent for ten deadlines loses it.
    if (this.lateTimer === undefined) {
      this.lateTimer = setTimeout(() => {
        this.lateTimer = undefined;
        if (this.pending.some((q) => q.overdue)) this.drop(new Error(`no reply within ${10 * this.opts.commandTimeout} ms`));
      }, 10 * this.opts.commandTimeout);
      this.lateTimer.unref();
    }
  }

  /** Fails every waiting command (uncertain: each was written) and closes the connection. */
  private drop(why: Error): void {
    clearTimeout(this.lateTimer);
    this.lateTimer = undefined;
    const sock = this.socket;
    this.socket = undefined;
    this.connecting = undefined;
    this.buf = Buffer.alloc(0);
    sock?.destroy();
    const waiting = this.pending.splice(0);
    for (const p of waiting) {
      p.answered = true;
      p.reject(new MemcachedError(`${this.where}: "${p.command}" got no reply: ${why.message}; the server may or may not have applied it`, p.command, true));
    }
  }

  private ensure(command = 'connect'): Promise<net.Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<net.Socket>((resolve, reject) => {
      const sock = net.connect({ host: this.opts.host, port: this.opts.port });
      sock.setNoDelay(true);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        sock.destroy();
        this.connecting = undefined;
        reject(new MemcachedError(`${this.where}: cannot connect (${err.message}) for "${command}"; is memcached running and listening there?`, command, false));
      };
      const timer = setTimeout(() => fail(new Error(`no connection within ${this.opts.connectTimeout} ms`)), this.opts.connectTimeout);
      sock.once('error', fail);
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.off('error', fail);
        this.connecting = undefined;
        if (this.closed) {
          sock.destroy();
          return reject(new MemcachedError(`${this.where}: the client is closed`, command, false));
        }
        this.socket = sock;
        this.buf = Buffer.alloc(0);
        sock.on('data', (d: Buffer) => this.onData(sock, d));
        sock.on('error', (err) => this.socket === sock && this.drop(err));
        sock.on('close', () => this.socket === sock && this.drop(new Error('memcached closed the connection')));
        resolve(sock);
      });
    });
    return this.connecting;
  }

  private onData(sock: net.Socket, chunk: Buffer): void {
    if (this.socket !== sock) return;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let pos = 0;
    while (this.pending.length > 0) {
      const head = this.pending[0]!;
      let parsed: { reply: Reply; end: number } | undefined;
      try {
        parsed = parseReply(this.buf, pos, head.kind);
      } catch (err) {
        this.drop(err as Error);
        return;
      }
      if (parsed === undefined) break;
      pos = parsed.end;
      this.pending.shift();
      const overdue = head.overdue;
      head.answered = true;
      if (overdue) head.late?.(parsed.reply);
      else head.resolve(parsed.reply);
    }
    if (this.pending.length === 0 && pos < this.buf.length) {
      this.drop(new Error('memcached sent a reply to no command'));
      return;
    }
    this.buf = pos >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(pos);
  }
}
