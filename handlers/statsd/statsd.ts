// statsd: samples to a StatsD server (Etsy's statsd and its kin) as `name:value|g` and
// `name:growth|c` lines, packed into datagrams over UDP or newline-terminated over TCP. Retry,
// backoff, batching and the spool are the core outbox's job. StatsD adds counters up, so nothing is
// ever sent twice on purpose: there is no resend window. See docs/compat.md, "StatsD".
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import path from 'node:path';
import { bytes, defineHandler, duration, hostPort, parseHostPort, z, type HandlerContext, type HostPort, type Sample } from '../../src/plugin-api.js';
import { CounterState, STATE_FILE } from './counter-state.js';
import { removeStateFile } from './state-file.js';
import { Encoder } from './encode.js';
import { Packer } from './pack.js';
import { Pacer } from './pacing.js';

/** A name not sent for this long is forgotten (its counter total too: it starts again as new). */
const FORGET_AFTER_MS = 24 * 3600_000;
/** How often names are looked over for that. */
const SWEEP_EVERY_MS = 60_000;
/** Counter totals are saved this long after the send that changed them (and at close). */
const SAVE_DELAY_MS = 1000;
/** After failed saves (a full disk, a directory in the way), the next waits twice as long, up to this. */
const MAX_SAVE_DELAY_MS = 60_000;

/** The section's schema, built when a config uses this handler (see SchemaSource in the plugin API). */
function configSchema() {
  return z.object({
    destination: hostPort()
      .default('127.0.0.1:8125')
      .describe('The StatsD server, host:port; [v6 address]:port for IPv6.'),
    protocol: z
      .enum(['udp', 'tcp'])
      .default('udp')
      .describe('udp: datagrams, "sent" means handed to the kernel (a StatsD that is down or drops loses them); tcp: newline-terminated lines on one connection, waiting in the outbox and the spool while StatsD is down.'),
    max_packet_bytes: z
      .number()
      .int()
      .min(64)
      .max(65507)
      .default(1432)
      .describe('UDP: lines are packed into datagrams of at most this many bytes, never splitting a line: 1432 on Ethernet, 512 across the internet, 8932 with jumbo frames.'),
    counters_as: z
      .enum(['counter', 'gauge'])
      .default('counter')
      .describe('counter: "|c" with the growth since the total last sent for that name (nothing the first time, nothing after a reset; kept in the state directory across restarts); gauge: the running total as "|g".'),
    prefix: z.string().default('').describe('Put before every Graphite path, e.g. "hosts" (made safe for StatsD like the path); empty for none.'),
    udp_rate: bytes({ max: '1GiB' })
      .superRefine((v, ctx) => {
        if (v !== 0 && v < 64 * 1024) ctx.addIssue({ code: 'custom', message: `must be 0 (unpaced) or at least 64KiB a second, got ${v} bytes: slower, one interval's samples would not go out before the next` });
      })
      .prefault('4MiB')
      .describe("UDP: bytes a second once a burst has filled about half of a receiver's default socket buffer (212992 bytes), so a receiver that reads slower than sonde sends does not drop one interval's samples; 0 sends unpaced."),
    connect_timeout: duration({ min: '100ms', max: '10m' }).prefault('5s').describe('How long a TCP connection attempt (or resolving the host name) may take.'),
    max_names: z
      .number()
      .int()
      .min(1000)
      .max(10_000_000)
      .default(100_000)
      .describe('Metric names (with their counter totals) kept; past it the least recently sent are forgotten (logged), and a forgotten counter sends nothing until its second sample. Names not sent for a day are forgotten anyway.'),
  });
}

type Config = z.output<ReturnType<typeof configSchema>>;

interface Udp {
  readonly socket: dgram.Socket;
  /** An ICMP refusal (or another socket error) not yet reported by a send. */
  refused: Error | undefined;
  closed: boolean;
}

interface Tcp {
  readonly socket: net.Socket;
  /** Set when the server closed the connection or it failed: reconnect before the next write. */
  broken: Error | undefined;
}

interface State {
  readonly dest: HostPort;
  readonly where: string;
  readonly counters: CounterState;
  readonly encoder: Encoder;
  readonly packer: Packer;
  readonly pacer: Pacer;
  readonly stateFile: string | undefined;
  udp: Udp | undefined;
  tcp: Tcp | undefined;
  unfinished: Unfinished | undefined;
  saving: Promise<void> | undefined;
  saveTimer: NodeJS.Timeout | undefined;
  /** How long after a send the next save waits: SAVE_DELAY_MS, longer after failed ones. */
  saveDelay: number;
  lastSweep: number;
  /** Closed: no more saves from timers (a replacement may own the file by now). */
  closed: boolean;
}

type Ctx = HandlerContext<Config, State>;

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError(signal));
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves the destination's host (an address comes back as it is), within connect_timeout. */
async function resolveHost(st: State, timeoutMs: number): Promise<{ address: string; family: number }> {
  if (net.isIP(st.dest.host)) return { address: st.dest.host, family: net.isIPv6(st.dest.host) ? 6 : 4 };
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      lookup(st.dest.host),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`resolving ${st.dest.host} took longer than connect_timeout (${timeoutMs} ms)`)), timeoutMs))),
    ]);
  } catch (err) {
    throw new Error(`cannot resolve ${st.dest.host} (${(err as Error).message}); check destination and DNS`);
  } finally {
    clearTimeout(timer);
  }
}

function udpError(st: State, err: NodeJS.ErrnoException): Error {
  if (err.code === 'ECONNREFUSED') {
    return new Error(`${st.where} refused UDP datagrams (ICMP port unreachable): no StatsD listens on that port. Start it, or correct destination`);
  }
  return new Error(`UDP to ${st.where} failed: ${err.message}; check destination and the network to it`);
}

async function openUdp(st: State, config: Config): Promise<Udp> {
  if (st.udp && !st.udp.closed) return st.udp;
  const { address, family } = await resolveHost(st, config.connect_timeout);
  const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
  // A connected socket hears of ICMP refusals: they arrive as 'error' events or fail a later send.
  const u: Udp = { socket, refused: undefined, closed: false };
  socket.on('error', (err: NodeJS.ErrnoException) => (u.refused ??= udpError(st, err)));
  socket.on('close', () => (u.closed = true));
  socket.unref();
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(st.dest.port, address, () => {
      socket.off('error', reject);
      resolve();
    });
  }).catch((err: Error) => {
    closeUdp(u);
    throw new Error(`cannot open a UDP socket to ${st.where}: ${err.message}`);
  });
  st.udp = u;
  return u;
}

function closeUdp(u: Udp | undefined): void {
  if (u === undefined || u.closed) return;
  u.closed = true;
  try {
    u.socket.close();
  } catch {
    /* already closed */
  }
}

/**
 * The datagrams of a batch whose send was abandoned (send_timeout) part way through a paced
 * burst. Those before `next` are with the kernel and StatsD counts them; when the outbox retries
 * the same batch, the rest go from here, or a burst longer than send_timeout would never get
 * through and would count its start again each time.
 */
interface Unfinished {
  readonly batch: readonly Sample[];
  readonly buf: Buffer;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly count: number;
  readonly next: number;
}

/** Sends datagrams `from` on, paced; fails when a send or an ICMP refusal says StatsD is not there. */
async function sendUdp(st: State, ctx: Ctx, batch: readonly Sample[], d: Omit<Unfinished, 'batch' | 'next'>, from: number): Promise<void> {
  if (from >= d.count) return;
  const u = await openUdp(st, ctx.config);
  if (u.refused !== undefined) {
    // Heard after the last send returned: what it sent was lost. This batch waits for a retry.
    const err = u.refused;
    closeUdp(u);
    throw err;
  }
  const { pacer } = st;
  let pending = 0;
  let failed: Error | undefined;
  let wake: (() => void) | undefined;
  const done = (err: Error | null): void => {
    if (err && failed === undefined) failed = udpError(st, err as NodeJS.ErrnoException);
    if (--pending === 0) wake?.();
  };
  let i = from;
  try {
    for (; i < d.count && failed === undefined && u.refused === undefined; i++) {
      const start = d.starts[i]!;
      const len = d.ends[i]! - start;
      for (let w = pacer.take(len); w > 0; w = pacer.take(len)) await sleep(w, ctx.signal);
      pending++;
      u.socket.send(d.buf, start, len, done);
    }
    if (pending > 0) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(abortError(ctx.signal));
        if (ctx.signal.aborted) return onAbort();
        ctx.signal.addEventListener('abort', onAbort, { once: true });
        wake = () => {
          ctx.signal.removeEventListener('abort', onAbort);
          resolve();
        };
      });
    }
  } catch (err) {
    // Abandoned with datagrams handed to the socket: those go out (the socket stays open and keeps
    // this buffer, so the next batch is written into another); a retry of this batch sends the rest.
    if (failed === undefined && u.refused === undefined) {
      st.unfinished = { batch, buf: d.buf, starts: d.starts.slice(0, d.count), ends: d.ends.slice(0, d.count), count: d.count, next: i };
    }
    if (d.buf === st.encoder.buf) st.encoder.detach();
    throw err;
  }
  // On loopback the refusal of this batch's datagrams comes back before the next turn of the loop.
  await new Promise((r) => setImmediate(r));
  const err = failed ?? u.refused;
  if (err !== undefined) {
    closeUdp(u);
    throw err;
  }
}

function connectTcp(st: State, timeoutMs: number, address: string, signal: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address, port: st.dest.port });
    const fail = (err: Error) => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`connect to ${st.where} timed out after ${timeoutMs} ms`)), timeoutMs);
    const onAbort = () => fail(abortError(signal));
    const onError = (err: Error) => fail(new Error(`connect to ${st.where} failed: ${err.message}; check that StatsD listens there over TCP (Etsy's statsd does only with "./servers/tcp" in its servers)`));
    function cleanup() {
      clearTimeout(timer);
      socket.off('error', onError);
      signal.removeEventListener('abort', onAbort);
    }
    socket.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      cleanup();
      resolve(socket);
    });
  });
}

async function openTcp(st: State, ctx: Ctx): Promise<Tcp> {
  const c = st.tcp;
  if (c && c.broken === undefined && !c.socket.destroyed && c.socket.writable) return c;
  if (c) {
    // What the broken connection took last may be lost; it is not sent again (it may have counted).
    c.socket.destroy();
    st.tcp = undefined;
  }
  const { address } = await resolveHost(st, ctx.config.connect_timeout);
  const socket = await connectTcp(st, ctx.config.connect_timeout, address, ctx.signal);
  socket.setKeepAlive(true, 30_000);
  const conn: Tcp = { socket, broken: undefined };
  // StatsD never writes back: data is ignored, an end or an error means the connection is going.
  socket.on('error', (err) => (conn.broken ??= err));
  socket.on('end', () => (conn.broken ??= new Error(`${st.where} closed the connection`)));
  socket.on('close', () => (conn.broken ??= new Error(`the connection to ${st.where} closed`)));
  socket.resume();
  st.tcp = conn;
  return conn;
}

function sendTcp(st: State, conn: Tcp, signal: AbortSignal): Promise<void> {
  const data = st.encoder.buf.subarray(0, st.encoder.len);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      // A hung StatsD: drop the connection with what its buffers hold (a reset, not a close that
      // would still deliver it later), so the retry on a new one does not count it twice.
      conn.broken ??= abortError(signal);
      conn.socket.resetAndDestroy();
      st.encoder.detach();
      reject(abortError(signal));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    conn.socket.write(data, (err) => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) return;
      if (err || conn.broken) {
        conn.broken ??= err ?? undefined;
        conn.socket.destroy();
        reject(new Error(`write to ${st.where} failed: ${(err ?? conn.broken)!.message}`));
      } else resolve();
    });
  });
}

/**
 * After a failed save the totals on disk are older than those sent: taken after a restart, they
 * would send again the growth sent since. They are removed; what the operator hears says which.
 */
function saveFailed(file: string, err: Error): string {
  const left = removeStateFile(file);
  if (left === undefined) {
    return `statsd: cannot save counter totals to ${file} (${err.message}); no older totals are left there, so after a restart each counter sends nothing until its second sample (rather than send again the growth it sent since). Check that directory and its file system`;
  }
  return `statsd: cannot save counter totals to ${file} (${err.message}), nor remove the older ones there (${left.message}): after a restart each counter would send again the growth it sent since they were saved. Check that directory and its file system`;
}

/** Saves the counter totals a moment after a send changed them; one save at a time, backing off while they fail. */
function scheduleSave(st: State, ctx: Ctx): void {
  if (st.stateFile === undefined || st.closed || !st.counters.dirty || st.saveTimer !== undefined) return;
  const file = st.stateFile;
  st.saveTimer = setTimeout(() => {
    st.saveTimer = undefined;
    if (st.closed) return;
    if (st.saving !== undefined) return scheduleSave(st, ctx);
    st.saving = st.counters
      .save(file)
      .then(() => {
        st.saveDelay = SAVE_DELAY_MS;
      })
      .catch((err: Error) => {
        st.counters.dirty = true;
        st.saveDelay = Math.min(st.saveDelay * 2, MAX_SAVE_DELAY_MS);
        ctx.log.warn(saveFailed(file, err));
      })
      .finally(() => {
        st.saving = undefined;
        scheduleSave(st, ctx);
      });
  }, st.saveDelay);
  st.saveTimer.unref();
}

function sweep(st: State, ctx: Ctx, now: number): void {
  const max = ctx.config.max_names;
  if (now - st.lastSweep < SWEEP_EVERY_MS && st.encoder.nameCount <= max) return;
  st.lastSweep = now;
  st.encoder.sweep(now, FORGET_AFTER_MS, max);
  const forgotten = st.counters.sweep(now, FORGET_AFTER_MS, max);
  if (forgotten > 0) {
    ctx.log.warn(
      `statsd: more than max_names (${max}) counter names were sent in a day; forgot the ${forgotten} least recently sent, and each of them sends nothing until its second sample. Raise max_names if the host really has that many`,
    );
  }
}

export default defineHandler({
  name: 'statsd',
  description: 'Sends samples to StatsD (Etsy\'s statsd and compatible servers): gauges and rates as |g, counters as |c with their growth, packed into datagrams over UDP or over TCP.',
  schema: configSchema,
  outbox: { batch_size: 1000, flush_interval: '1s' },
  // StatsD adds counters up: a batch sent again would count twice, so what a broken connection
  // may have lost is not resent (README, "Sending to StatsD").
  resendWindow: () => 0,
  init(ctx): State {
    const dest = parseHostPort(ctx.config.destination)!;
    const counters = new CounterState();
    const stateFile = ctx.stateDir === undefined ? undefined : path.join(ctx.stateDir, STATE_FILE);
    const now = Date.now();
    if (stateFile === undefined) {
      if (ctx.config.counters_as === 'counter') ctx.log.info('statsd: no state directory; counter totals are kept in memory only, so after a restart each counter sends nothing until its second sample');
    } else {
      try {
        const r = counters.load(stateFile, now, FORGET_AFTER_MS);
        if (r.result === 'other-boot') ctx.log.info(`statsd: the counter totals in ${stateFile} are from before the host restarted; not used (each counter sends its growth from its second sample on)`);
      } catch (err) {
        ctx.log.warn(`statsd: counter totals in ${stateFile} are unreadable (${(err as Error).message}); starting without them: each counter sends nothing until its second sample, and the file is written anew`);
      }
    }
    return {
      dest,
      where: net.isIPv6(dest.host) ? `[${dest.host}]:${dest.port}` : `${dest.host}:${dest.port}`,
      counters,
      encoder: new Encoder(ctx.config.prefix, ctx.config.counters_as, counters),
      packer: new Packer(),
      pacer: new Pacer(ctx.config.protocol === 'udp' ? ctx.config.udp_rate : 0, ctx.config.max_packet_bytes),
      stateFile,
      udp: undefined,
      tcp: undefined,
      unfinished: undefined,
      saving: undefined,
      saveTimer: undefined,
      saveDelay: SAVE_DELAY_MS,
      lastSweep: now,
      closed: false,
    };
  },
  async send(batch, ctx) {
    const st = ctx.state;
    const now = Date.now();
    sweep(st, ctx, now);
    if (ctx.config.protocol === 'udp') {
      const left = st.unfinished;
      st.unfinished = undefined;
      if (left !== undefined && left.batch === batch) {
        // The counters' pending totals are still those of this batch's encoding: no encode since.
        await sendUdp(st, ctx, batch, left, left.next);
      } else {
        st.encoder.encode(batch, ctx.path, now, st.packer, ctx.config.max_packet_bytes);
        const p = st.packer;
        await sendUdp(st, ctx, batch, { buf: st.encoder.buf, starts: p.starts, ends: p.ends, count: p.count }, 0);
      }
    } else {
      st.encoder.encode(batch, ctx.path, now);
      if (st.encoder.len > 0) await sendTcp(st, await openTcp(st, ctx), ctx.signal);
    }
    st.counters.commit(now);
    scheduleSave(st, ctx);
  },
  async close(ctx) {
    const st = ctx.state;
    if (st === undefined) return;
    st.closed = true;
    clearTimeout(st.saveTimer);
    st.saveTimer = undefined;
    closeUdp(st.udp);
    st.tcp?.socket.end();
    await st.saving;
    if (st.stateFile !== undefined && st.counters.dirty) {
      try {
        st.counters.saveSync(st.stateFile);
      } catch (err) {
        ctx.log.warn(saveFailed(st.stateFile, err as Error));
      }
    }
  },
});
