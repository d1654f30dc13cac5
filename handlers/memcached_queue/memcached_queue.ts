// memcached_queue: samples as esmond PollResult items in esmond's memcached persist queues, which
// esmond's persisters (espersistd) read unchanged. Layout, reader and writer: docs/compat.md,
// "esmond: memcached persist queues". The outbox retries what memcached refused; the handler says
// which head of each batch is stored (PartialSendError), so nothing is written twice or lost.
import { defineHandler, duration, hostPort, MemcachedClient, parseHostPort, PartialSendError, persistQueue, RejectedSamplesError, z, type HandlerContext, type MetricName, type Sample } from '../../src/plugin-api.js';
import { buildItems, compileTemplate, groupItems, itemHead, Items, ItemTooLarge, pathJsonOf, templateProblem, writeItems, type NameInfo, type Template } from './items.js';
import { QueueWriter, type WriteOutcome } from './writer.js';

const { QUEUE_NAME, queueIndex, queueNames } = persistQueue;

/** memcached's default item size is 1 MiB, key and item header included: JSON stays below it. */
const DEFAULT_ITEM_BYTES = 1_000_000;
/** One refusal message per queue at most this often; the others are counted into the next. */
const LOG_EVERY_MS = 30_000;

const template = (def: string, what: string) =>
  z
    .string()
    .min(1)
    .superRefine((v, ctx) => {
      const p = templateProblem(v);
      if (p) ctx.addIssue({ code: 'custom', message: p });
    })
    .default(def)
    .describe(what);

/** The section's schema, built when a config uses this handler (see SchemaSource in the plugin API). */
function configSchema() {
  return z.object({
    destination: hostPort()
      .default('127.0.0.1:11211')
      .describe('The memcached the persisters read, host:port; [v6 address]:port for IPv6.'),
    queues: z
      .record(z.string(), z.number().int().min(1).max(1000))
      .superRefine((r, ctx) => {
        const names = Object.keys(r);
        if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'name at least one queue, e.g. { cassandra: 4 }' });
        for (const n of names) if (!QUEUE_NAME.test(n)) ctx.addIssue({ code: 'custom', path: [n], message: `${JSON.stringify(n)} cannot be a queue name: use letters, digits and _ . : - (at most 200), as memcached keys carry them` });
      })
      .default({ cassandra: 1 })
      .describe('Queue families and their worker counts, as esmond\'s persist_queues: { cassandra: 4 } writes cassandra_1 .. cassandra_4 (a count of 1 is the bare name). Every family gets every item; within a family an (oidset, device) pair always goes to the same queue.'),
    oidset_name: template('{collector}', 'The item\'s oidset_name, from the sample\'s name: {collector}, {instance} (empty without one), {host}, and literal text.'),
    device_name: template('{host}', 'The item\'s device_name, a template as oidset_name.'),
    oid_name: template('{collector}', 'The item\'s oid_name, a template as oidset_name.'),
    command_timeout: duration({ min: '50ms', max: '1m' }).prefault('2s').describe('How long one memcached command (and a connection attempt) may take; past it the batch fails and is written again with backoff, and a late reply is still heard for ten times as long.'),
    max_item_bytes: z
      .number()
      .int()
      .min(1024)
      .max(1024 * 1024 * 1024)
      .default(DEFAULT_ITEM_BYTES)
      .describe('Items larger than this many bytes of JSON are split into several (never refused): below memcached\'s item size (-I, 1m by default).'),
  });
}

type Config = z.output<ReturnType<typeof configSchema>>;

interface State {
  readonly client: MemcachedClient;
  readonly writer: QueueWriter;
  readonly names: WeakMap<MetricName, NameInfo>;
  /** Per (oidset, device, oid): a number (names with the same one share items), the items' head and queues. */
  readonly groups: Map<string, { readonly id: number; readonly head: Buffer; readonly queues: readonly string[] }>;
  /** The batch being written's items (reused: one batch is written at a time). */
  items: Items | undefined;
  readonly templates: { oidset: Template; device: Template; oid: Template };
  readonly instanceShown: boolean;
  readonly families: readonly (readonly string[])[];
  readonly host: string;
  maxItemBytes: number;
  /** Per queue: when its refusals were last logged and how many since. */
  readonly refusalLog: Map<string, { at: number; held: number }>;
}

type Ctx = HandlerContext<Config, State>;

function infoOf(st: State, name: MetricName): NameInfo {
  let ni = st.names.get(name);
  if (ni !== undefined) return ni;
  const oidset = st.templates.oidset(name, st.host);
  const device = st.templates.device(name, st.host);
  const oid = st.templates.oid(name, st.host);
  const key = `${oidset}\0${device}\0${oid}`;
  // What only the (oidset, device, oid) decides is worked out once for all its names.
  let group = st.groups.get(key);
  if (group === undefined) {
    group = { id: st.groups.size, head: Buffer.from(itemHead(oidset, device, oid)), queues: st.families.map((f) => f[queueIndex(oidset, device, f.length)]!) };
    st.groups.set(key, group);
  }
  ni = {
    head: group.head,
    oidset,
    device,
    oid,
    group: group.id,
    pathJson: Buffer.from(pathJsonOf(name, st.instanceShown)),
    queues: group.queues,
    follower: undefined,
    followerInfo: undefined,
  };
  st.names.set(name, ni);
  return ni;
}

function samples(items: Items, from: number): number {
  let n = 0;
  for (let i = from; i < items.count; i++) n += items.samples(i);
  return n;
}

/** The log lines an esmond operator recognises, for what this write ran into. */
function report(st: State, ctx: Ctx, out: WriteOutcome): void {
  for (const q of out.created) ctx.log.info(`memcached_queue: queue ${q} had no counters in memcached (it was restarted or flushed); created _mcpq__${q}_last_added and _mcpq__${q}_last_read with add, and writing goes on from there`);
  const now = Date.now();
  for (const [q, r] of out.refusals) {
    const seen = st.refusalLog.get(q);
    if (seen !== undefined && now - seen.at < LOG_EVERY_MS) {
      seen.held += r.items;
      continue;
    }
    const held = seen?.held ?? 0;
    st.refusalLog.set(q, { at: now, held: 0 });
    ctx.log.error(
      `memcached_queue: memcached refused ${r.items} item${r.items === 1 ? '' : 's'} for queue ${q} (${r.reply})${held > 0 ? `, and ${held} more since the last message` : ''}. ` +
        `This is where esmond's own writer logs "memcache 'set' failed! Polling data lost!": sonde loses nothing, it keeps them and writes them again in new slots, with backoff (counted in sonde.handler.<name>.refused). ` +
        `The claimed slots stay empty and esmond's persisters skip them ("missing data" in their log). memcached is full: check that espersistd is reading (sonde queue status), or give memcached more memory (-m)`,
    );
  }
  if (out.tooLarge) ctx.log.warn(`memcached_queue: memcached refused an item of up to ${st.maxItemBytes} bytes as too large; items are now split at ${Math.floor(st.maxItemBytes / 2)} bytes (set max_item_bytes below memcached's -I)`);
  if (out.readEarly > 0) ctx.log.warn(`memcached_queue: ${out.readEarly} items written after a failed one were read by a persister before they could be taken back; it got them ahead of the failed one, which is written again (not them)`);
  if (out.maybeTwice > 0) ctx.log.warn(`memcached_queue: ${out.maybeTwice} items whose write got no reply were gone from their slots when checked: either a persister read them or memcached never stored them. They are written again, so a persister may get them twice`);
}

export default defineHandler({
  name: 'memcached_queue',
  description: "Writes samples into esmond's memcached persist queues (_mcpq__<queue>_<n>, counters last_added and last_read), one PollResult item per collector run and device, for esmond's persisters to store.",
  schema: configSchema,
  outbox: { batch_size: 5000, flush_interval: '1s' },
  // Every stored item is acknowledged (STORED): nothing is at risk after a send resolves.
  resendWindow: () => 0,
  init(ctx): State {
    const dest = parseHostPort(ctx.config.destination)!;
    const client = new MemcachedClient({ host: dest.host, port: dest.port, connectTimeout: ctx.config.command_timeout, commandTimeout: ctx.config.command_timeout });
    const c = ctx.config;
    return {
      client,
      writer: new QueueWriter(client, ctx.log),
      names: new WeakMap(),
      groups: new Map(),
      items: undefined,
      templates: { oidset: compileTemplate(c.oidset_name), device: compileTemplate(c.device_name), oid: compileTemplate(c.oid_name) },
      instanceShown: [c.oidset_name, c.device_name, c.oid_name].some((t) => t.includes('{instance}')),
      families: Object.entries(c.queues).map(([family, count]) => queueNames(family, count)),
      host: ctx.host ?? '',
      maxItemBytes: c.max_item_bytes,
      refusalLog: new Map(),
    };
  },
  async send(batch, ctx) {
    const st = ctx.state;
    // Taken while this batch is written, so a send that overlapped one would not share its buffers.
    const items = st.items ?? new Items();
    st.items = undefined;
    try {
      return await sendItems(st, ctx, batch, items);
    } finally {
      st.items = items;
    }
  },
  close(ctx) {
    ctx.state?.client.close();
  },
});

async function sendItems(st: State, ctx: Ctx, batch: readonly Sample[], items: Items): Promise<void> {
  const delivered = st.writer.delivered;
  // Only a failed write can leave samples delivered: otherwise no look-up per sample.
  const skip = st.writer.deliveredAny ? (s: Sample) => delivered.has(s) : undefined;
  const info = (n: MetricName) => infoOf(st, n);
  // Grouped first and the JSON written while the slots are claimed, unless an item could need
  // splitting (or a sample cannot be written): then all of it before anything is claimed.
  const later = groupItems(items, batch, info, st.maxItemBytes, skip);
  if (!later) {
    try {
      buildItems(items, batch, info, st.maxItemBytes, skip);
    } catch (err) {
      if (err instanceof ItemTooLarge) throw new RejectedSamplesError(err.message);
      throw err;
    }
  }
  const out = await st.writer.write(batch, items, (i) => items.info[i]!.queues, later ? (which) => writeItems(items, which, batch) : undefined);
  report(st, ctx, out);
  if (out.tooLarge) st.maxItemBytes = Math.max(1024, Math.floor(st.maxItemBytes / 2));
  if (out.failedAt >= items.count) return;
  const why = out.failures.get(out.failedAt)!;
  let refused = 0;
  for (const [i, f] of out.failures) if (f.refused !== undefined) refused += items.samples(i);
  const stored = out.failedAt;
  const reason =
    why.refused !== undefined
      ? `memcached refused an item for queue ${why.queue} (${why.refused})`
      : why.passed
        ? `a persister had passed the slot of an item in queue ${why.queue} before it was written; it is written again`
        : (why.error?.message ?? 'unknown');
  throw new PartialSendError(
    items.start[out.failedAt]!,
    `${reason}; ${stored} of ${items.count} items stored, the other ${samples(items, out.failedAt)} samples are written again in new slots`,
    refused,
  );
}
