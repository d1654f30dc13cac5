// graphite: samples to carbon as plaintext lines (TCP or UDP) or pickle (TCP). Mode failover tries
// the destinations in order; replicate and shard give each destination its own part (shard places
// metrics by carbon-relay's consistent hashing, ring.ts; see docs/compat.md, "carbon"). Retry,
// backoff, batching and ordering are the core outbox's job. A sample carbon cannot take fails the
// send with a RejectedSamplesError before anything is written, so the core drops just that sample.
import dgram from 'node:dgram';
import net from 'node:net';
import { defineHandler, duration, RejectedSamplesError, z, type HandlerContext, type MetricName, type Sample } from '../../src/plugin-api.js';
import { encodePickleMessages, type PickleItem } from './pickle.js';
import { carbonLine } from './plaintext.js';
import { ConsistentHashRing } from './ring.js';

export interface Destination {
  readonly host: string;
  readonly port: number;
  readonly instance: string | undefined;
}

/** `host:port[:instance]`, with `[v6]:port` for IPv6 addresses. */
export function parseDestination(s: string): Destination | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})(?::([A-Za-z0-9_.-]+))?$/.exec(s.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (m[1] ?? m[2])!, port, instance: m[4] };
}

/** The section's schema, built when a config uses this handler (see SchemaSource in the plugin API). */
function configSchema() {
  const destinationSchema = z.string().superRefine((v, ctx) => {
    if (!parseDestination(v)) ctx.addIssue({ code: 'custom', message: `expected host:port or host:port:instance, got ${JSON.stringify(v)}` });
  });

  // Config is inferred from this, so the two cannot drift apart.
  return z.object({
    protocol: z.enum(['plaintext', 'pickle']).default('plaintext').describe('plaintext: "<path> <value> <timestamp>" lines (port 2003); pickle: carbon\'s batched binary format (port 2004).'),
    destinations: z
      .array(destinationSchema)
      .min(1)
      .superRefine((list, ctx) => {
        // Each destination of replicate and shard has its own outbox and spool, named after it: a
        // second entry for the same listener would take the first one's place and lose its share.
        list.forEach((d, i) => {
          if (list.indexOf(d) < i) ctx.addIssue({ code: 'custom', path: [i], message: `${d} is listed twice; list each carbon listener once` });
        });
      })
      .default(['127.0.0.1:2003'])
      .describe('carbon listeners, host:port[:instance].'),
    transport: z.enum(['tcp', 'udp']).default('tcp').describe('udp sends plaintext lines in datagrams of at most 1400 bytes: nothing is retried, carbon may drop them; use tcp unless you must.'),
    mode: z
      .enum(['failover', 'replicate', 'shard'])
      .default('failover')
      .describe('failover: the first destination that answers gets everything; replicate: every destination gets every sample; shard: each metric goes where carbon-relay\'s consistent hashing puts it. replicate and shard give each destination its own outbox and spool.'),
    hash: z.enum(['carbon_ch', 'fnv1a_ch']).default('carbon_ch').describe('With mode shard: carbon-relay\'s hashing (carbon_ch) or fnv1a_ch.'),
    connect_timeout: duration({ min: '100ms', max: '10m' }).prefault('5s').describe('How long a connection attempt may take.'),
    resend_window: duration({ max: '1h' })
      .prefault('10s')
      .describe('After a broken connection, what was written in this window before the break (at most queue_size samples) is sent again first, and spooled at shutdown if carbon is still down: carbon acknowledges nothing, and may not have stored it. 0 turns it off.'),
  });
}

type Config = z.output<ReturnType<typeof configSchema>>;

interface Conn {
  socket: net.Socket;
  dest: Destination;
  /** Set when the server closed the connection or it failed: reconnect before the next write. */
  broken: Error | undefined;
}

interface State {
  conn: Conn | undefined;
  /** Index of the destination to try first. */
  next: number;
  /** UTF-8 paths for pickle, built once per metric name. */
  readonly paths: WeakMap<MetricName, Buffer>;
}

function connect(dest: Destination, timeoutMs: number, signal: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: dest.host, port: dest.port });
    socket.setNoDelay(false);
    const fail = (err: Error) => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`connect to ${dest.host}:${dest.port} timed out after ${timeoutMs} ms`)), timeoutMs);
    const onAbort = () => fail(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const onError = (err: Error) => fail(new Error(`connect to ${dest.host}:${dest.port} failed: ${err.message}`));
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

async function open(ctx: HandlerContext<Config, State>): Promise<Conn> {
  const { state, config } = ctx;
  if (state.conn && !state.conn.broken && !state.conn.socket.destroyed) return state.conn;
  if (state.conn) {
    // The previous connection broke (or the server closed it). What was written last may be lost:
    // the core's outbox sends it again (resendWindow below).
    state.conn.socket.destroy();
    state.conn = undefined;
  }
  const dests = config.destinations.map((d) => parseDestination(d)!);
  const errors: string[] = [];
  for (let i = 0; i < dests.length; i++) {
    const idx = (state.next + i) % dests.length;
    const dest = dests[idx]!;
    try {
      const socket = await connect(dest, config.connect_timeout, ctx.signal);
      const conn: Conn = { socket, dest, broken: undefined };
      // carbon never writes back; data or end from it means the connection is going away.
      socket.on('error', (err) => (conn.broken = err));
      socket.on('end', () => (conn.broken = new Error(`${dest.host}:${dest.port} closed the connection`)));
      socket.on('close', () => (conn.broken ??= new Error(`connection to ${dest.host}:${dest.port} closed`)));
      socket.resume();
      state.conn = conn;
      state.next = idx;
      if (i > 0) ctx.log.warn(`graphite: failed over to ${dest.host}:${dest.port}`);
      return conn;
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  throw new Error(errors.join('; '));
}

function write(ctx: HandlerContext<Config, State>, conn: Conn, data: string | Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    conn.socket.write(data, (err) => {
      if (err || conn.broken) {
        const e = err ?? conn.broken!;
        conn.broken = e;
        // Next time, try the next destination first.
        ctx.state.next = (ctx.state.next + 1) % ctx.config.destinations.length;
        reject(new Error(`write to ${conn.dest.host}:${conn.dest.port} failed: ${e.message}`));
      } else resolve();
    });
  });
}

/** Plaintext over UDP: whole lines packed into datagrams of at most 1400 bytes, to the first destination. */
async function sendUdp(batch: readonly Sample[], ctx: HandlerContext<Config, State>): Promise<void> {
  if (ctx.config.protocol !== 'plaintext') throw new Error('graphite: transport udp carries plaintext only; set protocol: plaintext');
  const dest = parseDestination(ctx.config.destinations[0]!)!;
  // Every line is made before the first datagram goes: a rejected sample fails the batch unsent.
  const datagrams: string[] = [];
  let datagram = '';
  for (const s of batch) {
    const line = carbonLine(ctx.path(s.name), s);
    if (datagram.length > 0 && datagram.length + line.length > 1400) {
      datagrams.push(datagram);
      datagram = '';
    }
    datagram += line;
  }
  if (datagram.length > 0) datagrams.push(datagram);
  const socket = dgram.createSocket(net.isIPv6(dest.host) ? 'udp6' : 'udp4');
  try {
    for (const data of datagrams) await new Promise<void>((resolve, reject) => socket.send(data, dest.port, dest.host, (err) => (err ? reject(err) : resolve())));
  } finally {
    socket.close();
  }
}

export default defineHandler({
  name: 'graphite',
  description: 'Sends samples to carbon over TCP (plaintext on 2003 or pickle on 2004), failing over between destinations.',
  schema: configSchema,
  outbox: { batch_size: 1000, flush_interval: '1s' },
  expand(config) {
    if (config.mode === 'failover' || config.destinations.length <= 1) return undefined;
    const parts = config.destinations.map((d) => ({ label: d, config: { ...config, destinations: [d], mode: 'failover' as const } }));
    if (config.mode === 'replicate') return { parts };
    const ring = new ConsistentHashRing(
      config.destinations.map((d, i) => {
        const dest = parseDestination(d)!;
        return { server: dest.host, instance: dest.instance, i };
      }),
      config.hash,
    );
    return { parts, choose: (path: string) => ring.get(path).i };
  },
  // carbon acknowledges nothing: the core keeps what was written in resend_window and, when a send
  // fails, sends it again and spools it at shutdown (whisper keeps one point per slot, so a repeat
  // is harmless). UDP is fire-and-forget anyway.
  resendWindow: (config) => (config.transport === 'udp' ? 0 : config.resend_window),
  init: (): State => ({ conn: undefined, next: 0, paths: new WeakMap() }),
  async send(batch, ctx) {
    if (ctx.config.transport === 'udp') return sendUdp(batch, ctx);
    const conn = await open(ctx);
    let out: string | Buffer;
    if (ctx.config.protocol === 'pickle') {
      const items: PickleItem[] = [];
      for (let i = 0; i < batch.length; i++) {
        const s = batch[i]!;
        if (!Number.isFinite(s.value)) throw new RejectedSamplesError(`value ${s.value} is not a finite number; carbon stores finite numbers only`);
        if (!Number.isFinite(s.timestamp)) throw new RejectedSamplesError(`timestamp ${s.timestamp} is not a finite number`);
        let path = ctx.state.paths.get(s.name);
        if (path === undefined) ctx.state.paths.set(s.name, (path = Buffer.from(ctx.path(s.name), 'utf8')));
        items.push({ path, timestamp: Math.floor(s.timestamp / 1000), value: s.value });
      }
      let encoded: ReturnType<typeof encodePickleMessages>;
      try {
        encoded = encodePickleMessages(items);
      } catch (err) {
        // Encoding is pure: what fails here fails the same way every time.
        throw new RejectedSamplesError(`cannot be written as pickle: ${(err as Error).message}`);
      }
      const { messages, tooLarge } = encoded;
      if (tooLarge.length > 0) throw new RejectedSamplesError(`its path of ${tooLarge[0]!.path.length} bytes does not fit in one pickle message (carbon takes at most 1 MiB)`);
      out = Buffer.concat(messages);
    } else {
      out = '';
      for (let i = 0; i < batch.length; i++) {
        const s = batch[i]!;
        out += carbonLine(ctx.path(s.name), s);
      }
    }
    await write(ctx, conn, out);
  },
  close(ctx) {
    ctx.state?.conn?.socket.end();
  },
});
