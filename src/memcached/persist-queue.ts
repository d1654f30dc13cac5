// esmond's memcached persist-queue layout (docs/compat.md, "esmond: memcached persist queues"):
// queue names, counter and item keys, the counters' encoding, and which queue of a family a
// (oidset, device) pair goes to. Shared by the memcached_queue handler and `sonde queue`.

/** esmond's MemcachedPersistQueue.PREFIX; keys join it and the queue name with `_`, hence `_mcpq__`. */
export const PERSIST_PREFIX = '_mcpq_';
/** python-memcached's flag for an int: esmond's readers get counters back as numbers only with it. */
export const COUNTER_FLAGS = 2;
/** Items are JSON text; python-memcached hands flags 0 back as bytes, which json.loads takes. */
export const ITEM_FLAGS = 0;

/** The queues of a family of `count` workers: `cassandra_1` .. `cassandra_N`, the bare name for 1. */
export function queueNames(family: string, count: number): string[] {
  if (count === 1) return [family];
  return Array.from({ length: count }, (_, i) => `${family}_${i + 1}`);
}

export function lastAddedKey(queue: string): string {
  return `${PERSIST_PREFIX}_${queue}_last_added`;
}

export function lastReadKey(queue: string): string {
  return `${PERSIST_PREFIX}_${queue}_last_read`;
}

export function itemKey(queue: string, slot: bigint | number): string {
  return `${PERSIST_PREFIX}_${queue}_${slot}`;
}

/** A queue name memcached keys can carry: letters, digits and `_.:-`, at most 200 characters. */
export const QUEUE_NAME = /^[A-Za-z0-9_.:-]{1,200}$/;

/** FNV-1a over the UTF-8 bytes of `text`: the same on every host and at every start. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The index (0-based) of the queue of a family of `count` that (oidset, device) always goes to. */
export function queueIndex(oidset: string, device: string, count: number): number {
  return count <= 1 ? 0 : fnv1a(`${oidset}:${device}`) % count;
}

/**
 * A counter as esmond's readers take it: ASCII decimal digits. Anything else (a counter written
 * by another program) is undefined, as a missing one.
 */
export function parseCounter(value: Buffer | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  const text = value.toString('latin1').trim();
  return /^\d{1,20}$/.test(text) ? BigInt(text) : undefined;
}
