// Writes items into esmond persist queues so that esmond's reader gets each exactly once, in order
// per queue. Per queue: one `incr last_added N` claims N slots, the N `set`s go pipelined, then
// `last_read` is read: a slot at or below it was passed by a reader (it polled between the incr
// and the set, or overshot an empty slot) and will never be read, so the item is taken back with
// `delete` (DELETED: nobody has it) and written again; NOT_FOUND means a reader took it. A slot whose
// set was refused stays empty (readers skip it). The first item not stored, in batch order, is
// where the batch stops: stored copies after it are deleted again, so the caller can report the
// head of the batch as accepted and have only the rest written again, in new slots. A set that got
// no reply is settled before the next write: a late STORED (the connection is kept for it) then
// `delete` tells whether a reader has the item (its samples are not written again) or not.
import { persistQueue, type MemcachedClient, type PluginLogger, type Sample } from '../../src/plugin-api.js';
import type { Item } from './items.js';

const { COUNTER_FLAGS, ITEM_FLAGS, itemKey, lastAddedKey, lastReadKey, parseCounter } = persistQueue;

/** Why a copy of an item is not in its queue. */
export interface CopyFailure {
  readonly queue: string;
  /** memcached refused the set (its reply), e.g. `SERVER_ERROR out of memory storing object`. */
  readonly refused?: string;
  /** The reader had passed the slot: the item was taken back, to be written again. */
  readonly passed?: boolean;
  /** A command failed (no connection, no reply). */
  readonly error?: Error;
}

export interface WriteOutcome {
  /** The index of the first item not stored in every queue it goes to; items.length when all were. */
  readonly failedAt: number;
  /** Per failed item index, why (the first failure of its copies). */
  readonly failures: Map<number, CopyFailure>;
  /** Per queue, the sets memcached refused and its reply. */
  readonly refusals: Map<string, { items: number; reply: string }>;
  /** Items a reader had passed (taken back and written again). */
  readonly passed: number;
  /** Items after the failure that a reader took before they could be taken back: read ahead of the failed one (not written again). */
  readonly readEarly: number;
  /** The reply `SERVER_ERROR object too large for cache` came back: items must be smaller. */
  readonly tooLarge: boolean;
  /** Queues whose counters were missing and were created. */
  readonly created: string[];
  /** Items whose set got no reply, found gone from their slot: a reader may have them, they are written again. */
  readonly maybeTwice: number;
}

/** A set that got no reply in time: what it held, and what a late reply said. */
interface Unsettled {
  readonly samples: readonly Sample[];
  /** true: a late STORED came; false: a late refusal; undefined: nothing yet. */
  stored: boolean | undefined;
}

interface Copy {
  readonly item: number;
  readonly slot: bigint;
  readonly key: string;
  stored: boolean;
}

/** How long a writer waits, at most, for a reader standing on one of its slots to move on. */
const READER_WAIT_MS = 1000;
const READER_POLL_MS = 2;

export class QueueWriter {
  /** Queues whose last write left a slot empty (or that were not written yet): checked before a claim. */
  private readonly holes = new Set<string>();
  private readonly seen = new Set<string>();
  /** Sets that got no reply (maybe stored), by item key: settled before anything else is written. */
  private uncertain = new Map<string, Unsettled>();
  /** Samples a reader got although their send failed (a set that was late): not written again. */
  readonly delivered = new WeakSet<Sample>();

  constructor(
    private readonly client: MemcachedClient,
    private readonly log: PluginLogger,
  ) {}

  /** Writes each item to each of `queuesOf(item)`; never throws for what memcached does, it reports. */
  async write(batch: readonly Sample[], items: readonly Item[], queuesOf: (item: Item) => readonly string[]): Promise<WriteOutcome> {
    const out = { failedAt: items.length, failures: new Map<number, CopyFailure>(), refusals: new Map<string, { items: number; reply: string }>(), passed: 0, readEarly: 0, tooLarge: false, created: [] as string[], maybeTwice: 0 };
    if (this.uncertain.size > 0) {
      try {
        out.maybeTwice = await this.settle();
      } catch (err) {
        // Nothing is written while slots that may hold an item twice cannot be cleared.
        for (let i = 0; i < items.length; i++) out.failures.set(i, { queue: '', error: err as Error });
        out.failedAt = 0;
        return out;
      }
    }
    const byQueue = new Map<string, number[]>();
    for (let i = 0; i < items.length; i++) {
      for (const q of queuesOf(items[i]!)) {
        let list = byQueue.get(q);
        if (list === undefined) byQueue.set(q, (list = []));
        list.push(i);
      }
    }
    const copies = new Map<string, Copy[]>();
    await Promise.all([...byQueue].map(([q, idx]) => this.writeQueue(q, idx, batch, items, out).then((c) => void copies.set(q, c))));
    for (const i of out.failures.keys()) out.failedAt = Math.min(out.failedAt, i);
    if (out.failedAt < items.length) await this.takeBack(batch, items, copies, out.failedAt, out);
    return out;
  }

  /**
   * Takes every unanswered set out of its slot. DELETED: nobody has it, it is written again. Gone
   * after a late STORED: a reader has it, its samples are delivered. Gone with no reply at all:
   * unknowable, written again (counted: a reader may get it twice). Throws if memcached fails.
   */
  private async settle(): Promise<number> {
    const keys = [...this.uncertain.keys()].filter((k) => this.uncertain.get(k)!.stored !== false);
    const deleted = keys.length > 0 ? await this.client.deleteMany(keys) : [];
    let maybe = 0;
    for (let i = 0; i < keys.length; i++) {
      if (deleted[i]) continue;
      const u = this.uncertain.get(keys[i]!)!;
      if (u.stored === true) for (const s of u.samples) this.delivered.add(s);
      else maybe++;
    }
    this.uncertain.clear();
    return maybe;
  }

  private unsettled(key: string, samples: readonly Sample[]): Unsettled {
    const u: Unsettled = { samples, stored: undefined };
    this.uncertain.set(key, u);
    return u;
  }

  private fail(out: { failures: Map<number, CopyFailure> }, item: number, why: CopyFailure): void {
    if (!out.failures.has(item)) out.failures.set(item, why);
  }

  private async writeQueue(queue: string, idx: readonly number[], batch: readonly Sample[], items: readonly Item[], out: WriteOutcome & { created: string[]; passed: number; tooLarge: boolean }): Promise<Copy[]> {
    let top: bigint;
    try {
      top = await this.claim(queue, idx.length, out.created);
    } catch (err) {
      // No slot is known to be claimed: nothing to clean up, the items go in new slots later.
      for (const i of idx) this.fail(out, i, { queue, error: err as Error });
      return [];
    }
    const first = top - BigInt(idx.length) + 1n;
    const copies: Copy[] = idx.map((item, j) => ({ item, slot: first + BigInt(j), key: itemKey(queue, first + BigInt(j)), stored: false }));
    let results;
    const late = new Map<number, Unsettled>();
    const sets = this.client.storeMany(
      'set',
      copies.map((c) => ({ key: c.key, value: items[c.item]!.json, bytes: items[c.item]!.bytes, flags: ITEM_FLAGS })),
      (j, r) => {
        const u = late.get(j);
        if (u !== undefined) u.stored = r.stored;
      },
    );
    // last_read, asked right behind the sets (memcached answers in order): where a reader was once they were in.
    const lrKey = lastReadKey(queue);
    const readAfter = this.client.get([lrKey]).then(
      (m) => m.get(lrKey)?.value,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
    try {
      results = await sets;
    } catch (err) {
      this.holes.add(queue);
      for (const i of idx) this.fail(out, i, { queue, error: err as Error });
      return copies;
    }
    let refused = 0;
    let reply = '';
    for (let j = 0; j < copies.length; j++) {
      const c = copies[j]!;
      const r = results[j]!;
      if (r.stored) c.stored = true;
      else if (r.error !== undefined) {
        const it = items[c.item]!;
        late.set(j, this.unsettled(c.key, batch.slice(it.start, it.end)));
        this.fail(out, c.item, { queue, error: r.error });
      } else {
        refused++;
        reply ||= r.reply;
        if (r.reply.includes('too large')) out.tooLarge = true;
        this.fail(out, c.item, { queue, refused: r.reply });
      }
    }
    if (refused > 0) out.refusals.set(queue, { items: refused, reply });
    const stored = copies.filter((c) => c.stored);
    if (stored.length > 0) await this.checkPassed(queue, first, stored, batch, items, out, await readAfter);
    if (copies.some((c) => !c.stored)) this.holes.add(queue);
    else this.holes.delete(queue);
    return copies;
  }

  /**
   * Claims `n` slots with one incr, past `last_read` when a reader stands beyond `last_added` (it
   * overshot an empty last slot: the slots up to it count as read and would never be read), so
   * the `n` slots it returns end at the top. Creates the counters (with add) when there are none.
   */
  private async claim(queue: string, n: number, created: string[]): Promise<bigint> {
    const la = lastAddedKey(queue);
    let skip = 0n;
    // Only a queue whose last slot may be empty can have a reader past it (other writers' holes
    // are caught after the sets, by checkPassed): the first write, and after a failed one.
    if (this.holes.has(queue) || !this.seen.has(queue)) {
      const lrKey0 = lastReadKey(queue);
      const now = await this.client.get([la, lrKey0]);
      const added = parseCounter(now.get(la)?.value);
      const read = parseCounter(now.get(lrKey0)?.value);
      if (added !== undefined && read !== undefined && read > added) skip = read - added;
      this.seen.add(queue);
    }
    const top = await this.client.incr(la, BigInt(n) + skip);
    if (top !== undefined) return top;
    // NOT_FOUND: the incr changed nothing, so asking again after creating the counters is safe.
    const lrKey = lastReadKey(queue);
    const lr = parseCounter((await this.client.get([lrKey])).get(lrKey)?.value);
    const a = await this.client.add(la, String(lr ?? 0n), COUNTER_FLAGS);
    if (!a.stored && a.reply !== 'NOT_STORED') throw new Error(`memcached refused to create ${la} (${a.reply})`);
    if (lr === undefined) {
      const b = await this.client.add(lrKey, '0', COUNTER_FLAGS);
      if (!b.stored && b.reply !== 'NOT_STORED') throw new Error(`memcached refused to create ${lrKey} (${b.reply})`);
    }
    created.push(queue);
    const again = await this.client.incr(la, n);
    if (again === undefined) throw new Error(`memcached lost ${la} right after it was created (is it evicting? start it with -M)`);
    return again;
  }

  /**
   * Takes back stored items whose slot a reader has passed; they are written again. A slot below
   * `last_read` was settled by the reader (read and deleted, or found empty and skipped): an item
   * still there was skipped. On the slot `last_read` names, the reader may be reading it right
   * now: wait for it to move on (up to a second) before deciding, or the item could be read and written again.
   */
  private async checkPassed(queue: string, first: bigint, stored: Copy[], batch: readonly Sample[], items: readonly Item[], out: WriteOutcome & { passed: number }, reading: Buffer | undefined | Error): Promise<void> {
    const lrKey = lastReadKey(queue);
    const last = stored[stored.length - 1]!.slot;
    let passed: Copy[] = [];
    let firstReading: Buffer | undefined | Error | null = reading;
    try {
      const end = performance.now() + READER_WAIT_MS;
      for (;;) {
        const raw = firstReading !== null ? firstReading : (await this.client.get([lrKey])).get(lrKey)?.value;
        firstReading = null;
        if (raw instanceof Error) throw raw;
        const lr = parseCounter(raw);
        if (lr === undefined) {
          // A reader cannot read a queue without last_read (esmond's len() fails): it starts at 0.
          await this.client.add(lrKey, '0', COUNTER_FLAGS);
          return;
        }
        if (lr < first) return;
        passed = stored.filter((c) => c.slot < lr);
        const at = lr <= last ? stored.find((c) => c.slot === lr) : undefined;
        if (at === undefined) break;
        // Gone: the reader has it (and may idle there, last_read on it, for long). Still there: it
        // is between its incr and its get, or its get and its delete; wait for it to move on.
        if (!(await this.client.get([at.key])).has(at.key)) break;
        if (performance.now() > end) {
          passed = stored.filter((c) => c.slot <= lr);
          break;
        }
        await new Promise((r) => setTimeout(r, READER_POLL_MS));
      }
      if (passed.length === 0) return;
      const deleted = await this.client.deleteMany(passed.map((c) => c.key));
      passed = passed.filter((_, j) => deleted[j]);
    } catch (err) {
      // Unknown whether a reader passed them: settled before the next write (deleted, or found read).
      for (const c of stored) {
        c.stored = false;
        const it = items[c.item]!;
        this.unsettled(c.key, batch.slice(it.start, it.end)).stored = true;
        this.fail(out, c.item, { queue, error: err as Error });
      }
      return;
    }
    for (const c of passed) {
      c.stored = false;
      out.passed++;
      this.fail(out, c.item, { queue, passed: true });
    }
  }

  /** Deletes the stored copies of items from `from` on: they are written again with the rest. */
  private async takeBack(batch: readonly Sample[], items: readonly Item[], copies: Map<string, Copy[]>, from: number, out: { readEarly: number }): Promise<void> {
    const taken: Copy[] = [];
    for (const list of copies.values()) for (const c of list) if (c.stored && c.item >= from) taken.push(c);
    if (taken.length === 0) return;
    const keys = taken.map((c) => c.key);
    try {
      const deleted = await this.client.deleteMany(keys);
      for (let j = 0; j < taken.length; j++) {
        if (deleted[j]) continue;
        // A reader has it already: its samples are not written again.
        out.readEarly++;
        const it = items[taken[j]!.item]!;
        for (let i = it.start; i < it.end; i++) this.delivered.add(batch[i]!);
      }
    } catch (err) {
      // Stored for sure: settled (deleted, or found read) before the next write.
      for (const c of taken) this.unsettled(c.key, batch.slice(items[c.item]!.start, items[c.item]!.end)).stored = true;
      this.log.debug(`memcached_queue: could not take back ${keys.length} items written after a failed one (${(err as Error).message}); they are deleted before the next write`);
    }
  }
}
