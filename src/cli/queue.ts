// `sonde queue status` and `sonde queue peek`: the esmond persist queues of the configured
// memcached_queue handlers, as esmond's `espersistq` shows them (the same table, every interval)
// and the oldest unread items, read without consuming them. See docs/compat.md, "esmond".
import { MemcachedClient, MemcachedError } from '../memcached/client.js';
import { itemKey, lastAddedKey, lastReadKey, parseCounter, QUEUE_NAME, queueNames } from '../memcached/persist-queue.js';
import { parseDuration } from '../model/duration.js';
import { parseHostPort } from '../model/host-port.js';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.js';

export interface QueueArgs {
  readonly action?: string;
  readonly queue?: string;
  readonly config: string;
  readonly once?: boolean;
  readonly interval?: string;
  readonly json?: boolean;
  readonly n?: number;
}

interface Io {
  out(s: string): void;
  err(s: string): void;
}

/** The queues one memcached holds for the configured handlers. */
interface Target {
  readonly destination: string;
  readonly host: string;
  readonly port: number;
  readonly handlers: string[];
  readonly queues: Set<string>;
}

const HANDLER = 'memcached_queue';

/** The memcached_queue handlers of the config, grouped by memcached; undefined after printing why. */
async function targets(file: string, io: Io): Promise<Target[] | undefined> {
  const [{ loadConfig }, { isConfigProblem }] = await Promise.all([import('../config/load-config.js'), import('../config/errors.js')]);
  let loaded;
  try {
    loaded = await loadConfig(file);
  } catch (err) {
    if (!isConfigProblem(err)) throw err;
    io.err(`${err.message}\nsonde queue: the config is invalid; fix the lines above (sonde check-config --config ${file}).\n`);
    return undefined;
  }
  const byDest = new Map<string, Target>();
  for (const h of loaded.config.handlers) {
    if (h.plugin.name !== HANDLER || !h.enabled) continue;
    const c = h.config as { destination: string; queues: Record<string, number> };
    // Validated by the handler's schema when the config was loaded.
    const { host, port } = parseHostPort(c.destination)!;
    let t = byDest.get(c.destination);
    if (t === undefined) byDest.set(c.destination, (t = { destination: c.destination, host, port, handlers: [], queues: new Set() }));
    t.handlers.push(h.key);
    for (const [family, count] of Object.entries(c.queues)) for (const q of queueNames(family, count)) t.queues.add(q);
  }
  return [...byDest.values()];
}

/** esmond's QueueStats: the last two readings of each counter, and whether it warned once. */
class QueueStats {
  lastRead: [number, number] = [0, 0];
  lastAdded: [number, number] = [0, 0];
  warned = false;

  constructor(readonly queue: string) {}

  /**
   * One reading, as espersistq takes it: last_read first, then last_added; a value missing or 0
   * warns once (on stderr) and, that time, stops the reading there.
   */
  update(values: Map<string, Buffer | undefined>, io: Io): void {
    for (const which of ['lastRead', 'lastAdded'] as const) {
      const raw = values.get(which === 'lastRead' ? lastReadKey(this.queue) : lastAddedKey(this.queue));
      const v = parseCounter(raw);
      if (v !== undefined && v > 0n) {
        const l = this[which];
        l.pop();
        l.unshift(Number(v));
      } else if (!this.warned) {
        io.err(`warning: no stats, no work queue ${this.queue} in memcache\n`);
        io.err(
          raw === undefined
            ? `sonde queue: memcached has no ${which === 'lastRead' ? lastReadKey(this.queue) : lastAddedKey(this.queue)}: nothing was written to queue ${this.queue} since memcached started, or nothing reads it yet; its figures stay 0 until then\n`
            : v === undefined
              ? `sonde queue: ${which === 'lastRead' ? lastReadKey(this.queue) : lastAddedKey(this.queue)} holds ${JSON.stringify(raw.toString('latin1').slice(0, 40))}, not a counter: another program wrote it\n`
              : `sonde queue: ${which === 'lastRead' ? lastReadKey(this.queue) : lastAddedKey(this.queue)} is 0: nothing has been ${which === 'lastRead' ? 'read from' : 'written to'} queue ${this.queue} yet\n`,
        );
        this.warned = true;
        break;
      }
    }
  }

  figures(): { queue: string; pending: number; new: number; done: number; delta: number; max: number } {
    const pending = this.lastAdded[0] - this.lastRead[0];
    const added = this.lastAdded[0] - this.lastAdded[1];
    const done = this.lastRead[0] - this.lastRead[1];
    return { queue: this.queue, pending, new: added, done, delta: added - done, max: this.lastAdded[0] };
  }
}

/** Python's `%<w>s`. */
const s = (v: string, w: number): string => v.padStart(w);
/** Python's `% <w>d`: a space where a positive number's sign would be, then right-aligned. */
const d = (v: number, w: number): string => (v < 0 ? `-${-v}` : ` ${v}`).padStart(w);

/** espersistq's table: its header, a row per queue, the TOTAL row (no max), an empty line. */
export function formatTable(rows: readonly ReturnType<QueueStats['figures']>[]): string {
  const out = [`${s('queue', 20)} ${s('pending', 8)} ${s('new', 8)} ${s('done', 8)} ${s('delta', 8)} ${s('max', 14)}`];
  const total = [0, 0, 0, 0];
  for (const r of rows) {
    out.push(`${s(r.queue, 20)} ${d(r.pending, 8)} ${d(r.new, 8)} ${d(r.done, 8)} ${d(r.delta, 8)} ${d(r.max, 14)}`);
    total[0]! += r.pending;
    total[1]! += r.new;
    total[2]! += r.done;
    total[3]! += r.delta;
  }
  out.push(`${s('TOTAL', 20)} ${d(total[0]!, 8)} ${d(total[1]!, 8)} ${d(total[2]!, 8)} ${d(total[3]!, 8)}`);
  return `${out.join('\n')}\n\n`;
}

function clientFor(t: Target): MemcachedClient {
  return new MemcachedClient({ host: t.host, port: t.port, connectTimeout: 5000, commandTimeout: 5000 });
}

async function readCounters(c: MemcachedClient, queues: readonly string[]): Promise<Map<string, Buffer | undefined>> {
  const keys = queues.flatMap((q) => [lastReadKey(q), lastAddedKey(q)]);
  const got = await c.get(keys);
  return new Map(keys.map((k) => [k, got.get(k)?.value]));
}

function unreachable(t: Target, err: Error, io: Io): number {
  io.err(`sonde queue: cannot read the queues in memcached at ${t.destination} (handler ${t.handlers.join(', ')}): ${err.message}\n`);
  return EXIT_FAILURE;
}

async function status(list: readonly Target[], args: QueueArgs, io: Io): Promise<number> {
  const intervalMs = parseDuration(args.interval ?? '5s');
  if (intervalMs === undefined || intervalMs < 100) {
    io.err(`sonde queue: --interval ${JSON.stringify(args.interval)} is not a duration of at least 100ms (e.g. 5s)\n`);
    return EXIT_USAGE;
  }
  // Sorted as Python sorts strings (by code point), as espersistq orders its rows.
  const per = list.map((t) => ({ t, client: clientFor(t), stats: [...t.queues].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((q) => new QueueStats(q)) }));
  try {
    // espersistq reads every queue once before its first table, so `new` and `done` start at 0.
    for (const p of per) {
      const v = await readCounters(p.client, p.stats.map((x) => x.queue)).catch((err: Error) => err);
      if (v instanceof Error) return unreachable(p.t, v, io);
      for (const q of p.stats) q.update(v, io);
    }
    for (;;) {
      for (const p of per) {
        const v = await readCounters(p.client, p.stats.map((x) => x.queue)).catch((err: Error) => err);
        if (v instanceof Error) return unreachable(p.t, v, io);
        for (const q of p.stats) q.update(v, io);
        const rows = p.stats.map((q) => q.figures());
        if (args.json) {
          const total = { pending: 0, new: 0, done: 0, delta: 0 };
          for (const r of rows) (total.pending += r.pending), (total.new += r.new), (total.done += r.done), (total.delta += r.delta);
          io.out(`${JSON.stringify({ memcached: p.t.destination, time: new Date().toISOString(), queues: rows, total })}\n`);
        } else {
          if (per.length > 1) io.out(`# memcached ${p.t.destination} (handler ${p.t.handlers.join(', ')})\n`);
          io.out(formatTable(rows));
        }
      }
      if (args.once) return EXIT_OK;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  } finally {
    for (const p of per) p.client.close();
  }
}

async function peek(list: readonly Target[], queue: string, n: number, io: Io): Promise<number> {
  if (!QUEUE_NAME.test(queue)) {
    io.err(`sonde queue peek: ${JSON.stringify(queue)} is not a queue name (letters, digits and _ . : -)\n`);
    return EXIT_USAGE;
  }
  const t = list.find((x) => x.queues.has(queue)) ?? list[0]!;
  if (!t.queues.has(queue)) io.err(`sonde queue peek: no memcached_queue handler writes queue ${queue}; looking in memcached at ${t.destination} anyway (configured: ${[...t.queues].join(', ')})\n`);
  const c = clientFor(t);
  try {
    const v = await readCounters(c, [queue]);
    const added = parseCounter(v.get(lastAddedKey(queue)));
    const read = parseCounter(v.get(lastReadKey(queue)));
    if (added === undefined || read === undefined) {
      io.out(`queue ${queue}: not in memcached at ${t.destination} (no ${added === undefined ? lastAddedKey(queue) : lastReadKey(queue)}): nothing was written to it since memcached started\n`);
      return EXIT_OK;
    }
    const pending = added > read ? added - read : 0n;
    io.out(`queue ${queue} in memcached at ${t.destination}: last_added ${added}, last_read ${read}, ${pending} pending\n`);
    if (pending === 0n) {
      io.out(read > added ? `  nothing unread (last_read is past last_added: the reader skipped an empty last slot; the next slot written counts as read, which the memcached_queue handler avoids)\n` : '  nothing unread\n');
      return EXIT_OK;
    }
    // Slots the reader reads next, oldest first; read with get, never deleted.
    let shown = 0;
    let empty = 0;
    for (let slot = read + 1n; slot <= added && shown < n; ) {
      const chunk: bigint[] = [];
      for (; slot <= added && chunk.length < 100; slot++) chunk.push(slot);
      const got = await c.get(chunk.map((x) => itemKey(queue, x)));
      for (const x of chunk) {
        const it = got.get(itemKey(queue, x));
        if (it === undefined) {
          empty++;
          continue;
        }
        if (empty > 0) io.out(`  ${empty} empty slot${empty === 1 ? '' : 's'} before it (a write that failed; the reader skips ${empty === 1 ? 'it' : 'them'} and logs "missing data")\n`);
        empty = 0;
        io.out(`  ${itemKey(queue, x)} (${it.value.length} bytes): ${describeItem(it.value)}\n`);
        if (++shown >= n) break;
      }
    }
    if (empty > 0) io.out(`  ${empty} empty slot${empty === 1 ? '' : 's'} at the end (writes that failed, or are under way)\n`);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof MemcachedError) return unreachable(t, err, io);
    throw err;
  } finally {
    c.close();
  }
}

/** One line about an item: who and when, its first pairs; or why esmond's reader would choke on it. */
function describeItem(raw: Buffer): string {
  let j: unknown;
  try {
    j = JSON.parse(raw.toString('utf8'));
  } catch {
    return `not JSON (esmond's reader fails on it): ${JSON.stringify(raw.toString('latin1').slice(0, 80))}`;
  }
  const o = j as Record<string, unknown>;
  const missing = ['oidset_name', 'device_name', 'oid_name', 'timestamp', 'data', 'metadata'].filter((k) => !(k in o));
  if (missing.length > 0) return `lacks ${missing.join(', ')} (esmond's PollResult refuses it): ${raw.toString('utf8').slice(0, 120)}`;
  const data = Array.isArray(o.data) ? o.data : [];
  const when = typeof o.timestamp === 'number' ? new Date(o.timestamp * 1000).toISOString() : String(o.timestamp);
  const first = data.slice(0, 3).map((p) => JSON.stringify(p)).join(' ');
  return `oidset ${JSON.stringify(o.oidset_name)}, device ${JSON.stringify(o.device_name)}, oid ${JSON.stringify(o.oid_name)}, ${when}, ${data.length} values: ${first}${data.length > 3 ? ' …' : ''}`;
}

export async function queueCommand(args: QueueArgs, io: Io): Promise<number> {
  const list = await targets(args.config, io);
  if (list === undefined) return EXIT_CONFIG;
  if (list.length === 0) {
    io.err(`sonde queue: ${args.config} configures no enabled memcached_queue handler, so there are no queues to show. Add one under handlers: (see "sonde list --options")\n`);
    return EXIT_CONFIG;
  }
  if (args.action === 'status') return status(list, args, io);
  if (args.action === 'peek') {
    if (!args.queue) {
      io.err(`sonde queue peek: name the queue, e.g. sonde queue peek ${[...list[0]!.queues][0]}\n`);
      return EXIT_USAGE;
    }
    const n = Math.floor(args.n ?? 5);
    if (!(n >= 1 && n <= 10_000)) {
      io.err(`sonde queue peek: -n takes 1 to 10000 items, got ${args.n}\n`);
      return EXIT_USAGE;
    }
    return peek(list, args.queue, n, io);
  }
  io.err(`sonde queue: unknown action ${JSON.stringify(args.action)}: use "status" or "peek <queue>"\n`);
  return EXIT_USAGE;
}
