// A small client for memcached's text protocol: one connection, commands pipelined in order, a
// deadline on the connect and on every command. It never retries: after a timeout or a broken
// connection the caller cannot know whether the command was applied (an `incr` may have claimed
// slots), so it gets an error that says so and decides itself. After a timeout the connection is
// kept a while for the late replies (a server that stalled and resumes), which a store's caller
// can hear of; past that, or when it breaks, the next command reconnects. Commands are written in
// the order they are called, and memcached answers them in that order.
import net from 'node:net';
import { lineEnd, parseReply, type Reply, type ReplyKind } from './reply.js';

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
const CR = 13;
const LF = 10;
const STORED: StoreResult = Object.freeze({ stored: true, reply: 'STORED' });

/** Throws when `key` is not a key memcached takes (1 to 250 bytes, no space or control character). */
export function checkKey(key: string): void {
  if (printableAscii(key)) return;
  const bytes = Buffer.byteLength(key);
  if (bytes === 0 || bytes > MAX_KEY_BYTES) throw new Error(`memcached key ${JSON.stringify(key.slice(0, 60))} is ${bytes} bytes; memcached takes 1 to ${MAX_KEY_BYTES}`);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f]/.test(key)) throw new Error(`memcached key ${JSON.stringify(key)} holds a space or a control character, which memcached's text protocol cannot carry`);
}

/** Whether `key` is 1 to 250 printable ASCII characters (no space): a key, and one byte a character. */
function printableAscii(key: string): boolean {
  const n = key.length;
  if (n === 0 || n > MAX_KEY_BYTES) return false;
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/** Writes an ASCII string at `pos`; the position after it. */
function putAscii(buf: Buffer, pos: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[pos + i] = s.charCodeAt(i);
  return pos + s.length;
}

/** Buffers for pipelines, taken back once their write is done: no new one (and its garbage) per pipeline. At most 8 MiB are kept. */
const SPARE_BUFFERS = 8;
const SPARE_MIN_BYTES = 64 * 1024;
const SPARE_MAX_BYTES = 1024 * 1024;

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
  /** When its reply is due (performance.now()): commandTimeout after it was written. */
  readonly deadline: number;
}

/** What a group of one-line commands got: the reply lines that came, and why the others did not. */
interface LinesAnswer {
  /** Per command, its reply line; undefined past the last one that came. */
  readonly lines: readonly (string | undefined)[];
  /** How the first one without a reply failed, e.g. `got no reply within 2000 ms (command_timeout)`. */
  readonly why: string;
}

/** Commands written together that each get one line back (storeMany): one waiting entry for all. */
interface LinesPending {
  readonly kind: 'lines';
  /** The first command, for the lost connection's message. */
  readonly command: string;
  readonly count: number;
  readonly got: string[];
  answered: boolean;
  overdue: boolean;
  /** Settles the caller's promise with the lines so far; `why` the others got none. */
  readonly finish: (why: string) => void;
  readonly late: ((index: number, line: string) => void) | undefined;
  /** When its replies are due (performance.now()). */
  readonly deadline: number;
}

type Waiting = Pending | LinesPending;

export class MemcachedClient {
  private socket: net.Socket | undefined;
  private connecting: Promise<net.Socket> | undefined;
  private readonly pending: Waiting[] = [];
  /** The socket whose writes are held until the current tick ends, so that they go out as one. */
  private corked: net.Socket | undefined;
  private buf: Buffer = Buffer.alloc(0);
  private closed = false;
  /** Drops the connection if overdue commands are still unanswered when it fires. */
  private lateTimer: NodeJS.Timeout | undefined;
  /**
   * One timer for every command's deadline, set for the oldest one unanswered (commands are
   * answered in order, and all have the same timeout): no timer to set and clear per command.
   */
  private deadlineTimer: NodeJS.Timeout | undefined;
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
   * Rejects only when nothing could be written (no connection). The values are copied before it
   * returns its promise: their buffers may be reused right away.
   */
  async storeMany(command: StoreCommand, items: readonly StoreRequest[], onLate?: (index: number, result: StoreResult) => void): Promise<StoreResult[]> {
    const lines: string[] = new Array<string>(items.length);
    const sizes: number[] = new Array<number>(items.length);
    let total = 0;
    // A line of a printable ASCII key is ASCII: one byte a character, written without an encoder.
    let ascii = true;
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (!printableAscii(it.key)) {
        checkKey(it.key);
        ascii = false;
      }
      const flags = it.flags ?? 0;
      if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) throw new Error(`memcached flags must be a 32-bit unsigned integer, got ${flags}`);
      const v = it.value;
      const bytes = typeof v === 'string' ? (it.bytes ?? Buffer.byteLength(v)) : v.length;
      const line = `${command} ${it.key} ${flags} 0 ${bytes}`;
      lines[i] = line;
      sizes[i] = bytes;
      total += (ascii ? line.length : Buffer.byteLength(line)) + bytes + 4;
    }
    // All of them in one buffer, values copied in (a caller may reuse its buffers once this returns).
    const wire = this.spareBuffer(total);
    let pos = 0;
    for (let i = 0; i < items.length; i++) {
      pos = ascii ? putAscii(wire, pos, lines[i]!) : pos + wire.write(lines[i]!, pos);
      wire[pos++] = CR;
      wire[pos++] = LF;
      const v = items[i]!.value;
      pos += typeof v === 'string' ? wire.write(v, pos, sizes[i]!) : v.copy(wire, pos);
      wire[pos++] = CR;
      wire[pos++] = LF;
    }
    const late = onLate && ((i: number, line: string) => onLate(i, { stored: line === 'STORED', reply: line }));
    const answered = await this.writeLines(lines, wire, total, late);
    const out: StoreResult[] = new Array<StoreResult>(lines.length);
    for (let i = 0; i < lines.length; i++) {
      const line = answered.lines[i];
      if (line === undefined) {
        out[i] = { stored: false, reply: '', error: new MemcachedError(`${this.where}: "${lines[i]}" ${answered.why}; the server may or may not have applied it`, lines[i]!, true) };
        continue;
      }
      if (line === 'STORED') {
        out[i] = STORED;
        continue;
      }
      try {
        this.check(lines[i]!, { line }, true);
        out[i] = { stored: false, reply: line };
      } catch (err) {
        out[i] = { stored: false, reply: '', error: err as MemcachedError };
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

  /** The socket to write to now: the connection, or a new one. */
  private async sockFor(command: string): Promise<net.Socket> {
    if (this.closed) throw new MemcachedError(`${this.where}: the client is closed`, command, false);
    // Written at once when connected, so commands go out in the order they were called (a caller
    // may pipeline a get behind its sets and know it runs after them); else in that order once connected.
    return this.socket !== undefined && !this.socket.destroyed ? this.socket : this.ensure(command);
  }

  /**
   * Holds what is written to `sock` until the end of the tick: what several callers write in one
   * tick goes out in one writev (and is read by memcached at once), not one packet per command.
   */
  private hold(sock: net.Socket): void {
    if (this.corked === sock) return;
    this.corked?.uncork();
    sock.cork();
    this.corked = sock;
    process.nextTick(this.uncork);
  }

  private send(sock: net.Socket, chunks: readonly Buffer[]): void {
    this.hold(sock);
    for (const c of chunks) sock.write(c);
  }

  private readonly uncork = (): void => {
    const sock = this.corked;
    this.corked = undefined;
    sock?.uncork();
  };

  /** Writes the commands; a promise of each one's reply, in order. */
  private async write(lines: readonly string[], chunks: readonly Buffer[], kind: ReplyKind, late?: (index: number, reply: Reply) => void): Promise<Promise<Reply>[]> {
    const sock = this.socket !== undefined && !this.socket.destroyed && !this.closed ? this.socket : await this.sockFor(lines[0] ?? '');
    // One deadline for the commands written together; those still unanswered then are overdue.
    const deadline = performance.now() + this.opts.commandTimeout;
    const replies = lines.map(
      (command, i) =>
        new Promise<Reply>((resolve, reject) => {
          const p: Pending = { command, kind, resolve, reject, answered: false, overdue: false, late: late && ((r) => late(i, r)), deadline };
          this.pending.push(p);
        }),
    );
    this.armDeadline();
    // A failure of the first leaves the others rejected too; mark them handled so none goes unobserved.
    for (const r of replies) r.catch(() => undefined);
    this.send(sock, chunks);
    return replies;
  }

  /**
   * Writes `wire`, the commands `lines` (one reply line each), and gathers their replies in one
   * entry. It never rejects once written: a lost reply is a missing line, `why` says what happened.
   */
  private async writeLines(lines: readonly string[], wire: Buffer, bytes: number, late?: (index: number, line: string) => void): Promise<LinesAnswer> {
    if (lines.length === 0) {
      this.giveBack(wire);
      return { lines: [], why: '' };
    }
    const sock = this.socket !== undefined && !this.socket.destroyed && !this.closed ? this.socket : await this.sockFor(lines[0]!);
    const answer = new Promise<LinesAnswer>((resolve) => {
      const got: string[] = [];
      const p: LinesPending = {
        kind: 'lines',
        command: lines[0]!,
        count: lines.length,
        got,
        answered: false,
        overdue: false,
        finish: (why) => resolve({ lines: got.length === lines.length ? got : got.slice(), why }),
        late,
        deadline: performance.now() + this.opts.commandTimeout,
      };
      this.pending.push(p);
      this.armDeadline();
    });
    this.hold(sock);
    // The buffer is used again once written (or failed).
    sock.write(wire.length === bytes ? wire : wire.subarray(0, bytes), () => this.giveBack(wire));
    return answer;
  }

  private readonly spare: Buffer[] = [];

  /** A buffer of at least `n` bytes: a spare one, or a new one. */
  private spareBuffer(n: number): Buffer {
    for (let i = 0; i < this.spare.length; i++) {
      const b = this.spare[i]!;
      if (b.length >= n) {
        this.spare[i] = this.spare[this.spare.length - 1]!;
        this.spare.pop();
        return b;
      }
    }
    return Buffer.allocUnsafe(n <= SPARE_MAX_BYTES ? Math.max(n, SPARE_MIN_BYTES) : n);
  }

  private giveBack(b: Buffer): void {
    if (b.length < SPARE_MIN_BYTES || b.length > SPARE_MAX_BYTES) return;
    if (this.spare.length < SPARE_BUFFERS) this.spare.push(b);
  }

  /** Sets the deadline timer for the oldest unanswered command, if it is not set. */
  private armDeadline(): void {
    const t = this.deadlineTimer;
    if (t !== undefined) {
      // Unreferenced while nothing waited: it keeps the process alive again.
      t.ref();
      return;
    }
    const next = this.pending.find((p) => !p.answered);
    if (next === undefined) return;
    this.deadlineTimer = setTimeout(this.onDeadline, Math.max(1, next.deadline - performance.now()));
  }

  private readonly onDeadline = (): void => {
    this.deadlineTimer = undefined;
    const now = performance.now();
    for (const p of this.pending) {
      if (p.answered) continue;
      if (p.deadline > now) break;
      this.timeout(p);
    }
    this.armDeadline();
  };

  private timeout(p: Waiting): void {
    p.answered = true;
    p.overdue = true;
    const why = `got no reply within ${this.opts.commandTimeout} ms (command_timeout)`;
    if (p.kind === 'lines') p.finish(why);
    else p.reject(new MemcachedError(`${this.where}: "${p.command}" ${why}; the server may or may not have applied it`, p.command, true));
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
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    const sock = this.socket;
    this.socket = undefined;
    this.connecting = undefined;
    this.buf = Buffer.alloc(0);
    sock?.destroy();
    const waiting = this.pending.splice(0);
    for (const p of waiting) {
      const overdue = p.overdue;
      p.answered = true;
      if (p.kind !== 'lines') p.reject(new MemcachedError(`${this.where}: "${p.command}" got no reply: ${why.message}; the server may or may not have applied it`, p.command, true));
      else {
        // An overdue group's caller has its answer already.
        if (!overdue) p.finish(`got no reply: ${why.message}`);
      }
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
    const buf = this.buf;
    let pos = 0;
    while (this.pending.length > 0) {
      const head = this.pending[0]!;
      if (head.kind === 'lines') {
        // As many of the group's lines as are here.
        while (head.got.length < head.count) {
          // STORED\r\n, nearly every reply, by its bytes: no search for the line's end.
          if (pos + 8 <= buf.length && buf[pos] === 83 && buf[pos + 1] === 84 && buf[pos + 2] === 79 && buf[pos + 3] === 82 && buf[pos + 4] === 69 && buf[pos + 5] === 68 && buf[pos + 6] === CR && buf[pos + 7] === LF) {
            pos += 8;
            head.got.push('STORED');
            if (head.overdue) head.late?.(head.got.length - 1, 'STORED');
            continue;
          }
          let e: number;
          try {
            e = lineEnd(buf, pos);
          } catch (err) {
            this.drop(err as Error);
            return;
          }
          if (e < 0) break;
          const line = buf.toString('latin1', pos, e);
          pos = e + 2;
          head.got.push(line);
          if (head.overdue) head.late?.(head.got.length - 1, line);
        }
        if (head.got.length < head.count) break;
        this.pending.shift();
        const overdue = head.overdue;
        head.answered = true;
        if (!overdue) head.finish('');
        continue;
      }
      let parsed: { reply: Reply; end: number } | undefined;
      try {
        parsed = parseReply(buf, pos, head.kind);
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
    if (this.pending.length === 0 && pos < buf.length) {
      this.drop(new Error('memcached sent a reply to no command'));
      return;
    }
    // Nothing waits: the deadline timer (when it fires, it finds nothing due) no longer keeps the process alive.
    if (this.pending.length === 0) this.deadlineTimer?.unref();
    this.buf = pos >= buf.length ? Buffer.alloc(0) : buf.subarray(pos);
  }
}
